"""PNGs of the real main window on a demo database, for `showdesk screenshot` (into its
``--out`` folder, or a new temporary one).

Every state is reached the real way: camera-like frames go through the real ScanLoop, decoder
and CheckinService; the USB-scanner path feeds codes through the same service.
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MAX_BYTES = 200_000  # the house rule for committed media
SIZE = (1280, 800)


def wait_for(app: Any, condition: Callable[[], bool], seconds: float = 15.0) -> bool:
    """Process events until ``condition()`` holds or ``seconds`` pass; whether it held."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        app.processEvents()
        if condition():
            return True
        time.sleep(0.01)
    return False


def _settle(app: Any, seconds: float) -> None:
    wait_for(app, lambda: False, seconds)


def save_png(widget: Any, path: Path) -> int:
    """Save ``widget`` as PNG under MAX_BYTES (palette-reduced if a photo makes it too big)."""
    return save_picture(widget.grab(), path)


def save_picture(picture: Any, path: Path) -> int:
    """Save a QPixmap as PNG under MAX_BYTES; returns the file's size."""
    from app.ui.qt import QBuffer, QByteArray, QIODevice

    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    picture.toImage().save(buffer, "PNG", 0)
    raw = bytes(data.data())
    if len(raw) > MAX_BYTES:
        import io

        from PIL import Image

        image = (
            Image.open(io.BytesIO(raw))
            .convert("RGB")
            .quantize(colors=128, dither=Image.Dither.NONE)
        )
        out = io.BytesIO()
        image.save(out, "PNG", optimize=True)
        raw = out.getvalue()
    path.write_bytes(raw)
    return len(raw)


def _demo_context(folder: Path) -> Any:
    from app.config import Config
    from app.store.db import device_id, open_database
    from app.store.demo import seed_demo
    from app.ui.context import AppContext

    path = folder / "screenshots.sqlite"
    db = open_database(path)
    event_id = seed_demo(db)
    with db.session() as session:
        dev = device_id(session)
    config = Config(
        db=path, gate="North door", device_name="Kiosk 2", verdict_seconds=600, sound=False
    )
    return AppContext(config=config, db=db, event_id=event_id, device_id=dev)


def _first_fresh_ticket(ctx: Any) -> str:
    """The code of a ticket the North door admits now and nobody scanned yet."""
    from sqlalchemy import select

    from app.store.models import Attendee, Checkin, Ticket, TicketType
    from app.store.types import utcnow

    scanned = select(Checkin.ticket_id).where(Checkin.ticket_id.is_not(None))
    with ctx.db.session() as session:
        rows = session.execute(
            select(Ticket.qr_code_data, TicketType, Attendee.notes)
            .join(TicketType, TicketType.id == Ticket.ticket_type_id)
            .join(Attendee, Attendee.id == Ticket.attendee_id)
            .where(
                Ticket.event_id == ctx.event_id, Ticket.status == "valid", Ticket.id.not_in(scanned)
            )
            .order_by(Ticket.ticket_number)
        ).all()
    now = utcnow()
    ok = [
        (code, notes)
        for code, kind, notes in rows
        if (not kind.allowed_gates or "North door" in kind.allowed_gates)
        and (kind.entry_starts_at or now) <= now
    ]
    with_notes = [code for code, notes in ok if notes]
    return (with_notes or [code for code, _ in ok])[0]


def forge(code: str) -> str:
    """A signed code with its last signature characters changed (what a forger produces)."""
    tail = code[-6:]
    swapped = "".join("B" if c != "B" else "C" for c in tail)
    return code[:-6] + swapped


def take(out: Path) -> list[tuple[str, int]]:
    from app.ui.door.demo_source import ticket_source
    from app.ui.main import MainWindow, apply_style
    from app.ui.qt import QApplication

    app = QApplication.instance() or QApplication(sys.argv)
    apply_style(app)
    out.mkdir(parents=True, exist_ok=True)
    saved: list[tuple[str, int]] = []
    with tempfile.TemporaryDirectory() as tmp:
        ctx = _demo_context(Path(tmp))
        code = _first_fresh_ticket(ctx)
        window = MainWindow(
            ctx, door_options={"source_factory": ticket_source([None, code], repeat=15)}
        )
        window.resize(*SIZE)
        window.show()
        door = window.door
        shown: list[Any] = []
        door.verdict_shown.connect(shown.append)

        def shoot(name: str) -> None:
            _settle(app, 0.3)
            saved.append((name, save_png(window, out / f"{name}.png")))

        if not wait_for(app, lambda: door.is_ready and shown, 30):
            raise RuntimeError("the demo ticket was not read from the camera frames in 30 s")
        door.feed.stop()  # keep the last picture (the phone with the code) in the preview
        shoot("door-admitted")
        door.scan_code(code)  # the same ticket again, from the USB scanner
        wait_for(app, lambda: len(shown) >= 2)
        shoot("door-already-admitted")
        door.scan_code(forge(code))
        wait_for(app, lambda: len(shown) >= 3)
        shoot("door-invalid-code")
        door.clear()
        door.focus_search()
        door.search.box.setText("mar")
        wait_for(app, lambda: door.search.results.count() > 0, 5)
        shoot("door-search")
        for name, tab in (
            ("lineup", window.lineup),
            ("calltimes", window.calltimes),
            ("organizer", window.organizer),
            ("sync", window.sync),
        ):
            window.tabs.setCurrentWidget(tab)
            _settle(app, 1.5)
            if name == "lineup":
                from app.ui.lineup.shots import prepare_board

                prepare_board(tab)
            shoot(name)
        from app.ui.lineup.shots import open_display_mid_show

        display = open_display_mid_show(window.lineup)
        if display is not None:
            _settle(app, 1.0)
            saved.append(("show-display", save_png(display, out / "show-display.png")))
            display.close_confirmed()
        saved += _kiosk_shots(app, window, out)
        for service in ctx.services:
            service.stop()
        window.close()
        from app.ui import tasks

        tasks.shutdown(wait=True)
        ctx.db.close()
    return saved


def _kiosk_shots(app: Any, window: Any, out: Path) -> list[tuple[str, int]]:
    """The door locked in kiosk mode (staff only for search), then a staff member signing
    in at it: the dialog drawn over the window where it stands. Unlocked again after."""
    door = window.door
    window.tabs.setCurrentWidget(door)
    door.clear()
    door.enter_kiosk_mode(window)
    wait_for(app, lambda: door.kiosk.state is not None, 10)
    _settle(app, 0.5)
    saved = [("door-kiosk", save_png(window, out / "door-kiosk.png"))]
    door.sign_in_or_out()
    dialog = door.sign_in_dialog
    wait_for(app, dialog.isVisible, 5)
    dialog.badge_field.setText("SDSTAFF-DEMO")  # the field hides what is typed, as at a kiosk
    dialog.field.setText("2468")
    _settle(app, 0.5)
    picture = window.grab()
    from app.ui.qt import QPainter

    painter = QPainter(picture)
    painter.drawPixmap(window.mapFromGlobal(dialog.frameGeometry().topLeft()), dialog.grab())
    painter.end()
    saved.append(("staff-sign-in", save_picture(picture, out / "staff-sign-in.png")))
    dialog.reject()
    door.kiosk.unlock()
    return saved


def output_folder(out: Path | None) -> Path:
    """Where screenshots go: ``out`` when given, else a new temporary folder. Never a default
    path relative to the current directory (run in a checkout, that would overwrite the
    README's images)."""
    if out is not None:
        return Path(out).expanduser()
    return Path(tempfile.mkdtemp(prefix="showdesk-screenshots-"))
