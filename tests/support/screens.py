"""The real main window for readability tests: app style sheet applied, demo replica loaded."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def drain(qtbot: Any) -> None:
    """Wait until the DB worker has answered everything asked so far (it serves in order),
    twice, for loads that ask again when they answer."""
    from app.ui.tasks import run_db

    done: list[bool] = []
    for round_ in (1, 2):
        run_db(lambda: None, lambda _none: done.append(True))
        qtbot.waitUntil(lambda n=round_: len(done) >= n, timeout=15000)


@contextmanager
def main_window(qtbot: Any, ctx: Any, size: tuple[int, int] = (1280, 800)) -> Iterator[Any]:
    """MainWindow on ``ctx`` (no camera), shown at ``size``, loaded; stopped afterwards and
    the app-wide style sheet taken off again."""
    from app.scan.sources import CameraSource
    from app.ui import tasks
    from app.ui.main import MainWindow, apply_style
    from app.ui.qt import QApplication

    app = QApplication.instance()
    apply_style(app)
    window = MainWindow(ctx, door_options={"source_factory": lambda: CameraSource(97)})
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    try:
        qtbot.waitUntil(lambda: window.door.is_ready, timeout=15000)
        drain(qtbot)
        yield window
    finally:
        for service in window.ctx.services:
            service.stop()
        tasks.shutdown(wait=True)
        app.setStyleSheet("")


def sample_result(verdict: Any, **extra: Any) -> Any:
    """A full ScanResult for ``verdict`` (every line filled, offline), with ``extra`` fields
    replaced: what the readability and contrast tests paint on the verdict panel."""
    from app.domain.verdicts import HEADLINES, ScanResult

    fields: dict[str, Any] = dict(
        verdict=verdict,
        headline=HEADLINES[verdict],
        detail="First admitted 19:42 at North door (Kiosk 2). Ask the guest to step aside.",
        attendee_name="Ada Lovelace",
        tier="vip",
        ticket_type="VIP Front Row",
        order_number="AUR-100485",
        ticket_number="FW26-000148",
        offline=True,
    )
    fields.update(extra)
    return ScanResult(**fields)
