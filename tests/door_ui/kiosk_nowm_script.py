"""Run under Xvfb with no window manager by test_kiosk_xvfb.py: `--kiosk` the way run_app does
it, then keys typed through the X server (xdotool, XTEST) before and after a dialog.

With no window manager nobody honours "fullscreen" requests or gives the keyboard back when
a dialog closes: the kiosk has to do both itself. Prints one JSON line. Not collected by pytest.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path


def xdotool(app, *args: str) -> str:
    wait_for = _wait_for()
    run = subprocess.Popen(["xdotool", *args], stdout=subprocess.PIPE, text=True)
    wait_for(app, lambda: run.poll() is not None, 20)  # Qt keeps handling events meanwhile
    return (run.stdout.read() if run.stdout else "").strip()


def x_geometry(app, window) -> list[int]:
    """The window's geometry as the X server has it (not as Qt asked for it)."""
    out = xdotool(app, "getwindowgeometry", "--shell", str(int(window.winId())))
    values = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    return [int(values[k]) for k in ("X", "Y", "WIDTH", "HEIGHT")]


def checks(app, window) -> dict:
    door = window.door
    wait_for = _wait_for()
    wait_for(app, lambda: door.is_ready and window.isVisible(), 30)
    wait_for(app, lambda: False, 0.5)
    screen = window.screen().geometry()
    out: dict = {
        "screen": [screen.x(), screen.y(), screen.width(), screen.height()],
        "qt_fullscreen": window.isFullScreen(),
        "locked": door.kiosk is not None and door.kiosk.locked,
        "x_geometry": x_geometry(app, window),
    }

    def toggles_with_f3() -> bool:
        before = door.direction.isChecked()
        xdotool(app, "key", "F3")
        wait_for(app, lambda: door.direction.isChecked() != before, 3)
        return door.direction.isChecked() != before

    out["f3_before_dialog"] = toggles_with_f3()

    # The staff PIN dialog (Ctrl+Shift+K on a locked kiosk), closed with Escape.
    xdotool(app, "key", "ctrl+shift+k")
    wait_for(app, lambda: door.kiosk.dialog is not None and door.kiosk.dialog.isVisible(), 5)
    dialog = door.kiosk.dialog
    out["pin_dialog_opened"] = dialog is not None and dialog.isVisible()
    xdotool(app, "key", "Escape")
    wait_for(app, lambda: dialog is None or not dialog.isVisible(), 5)
    wait_for(app, lambda: False, 0.3)
    out["pin_dialog_closed"] = dialog is not None and not dialog.isVisible()
    out["f3_after_pin_dialog"] = toggles_with_f3()

    # A locked kiosk searches only for a signed-in staff member: badge (a scanner's burst and
    # Enter), then PIN, in the sign-in dialog (F9).
    xdotool(app, "key", "F9")
    wait_for(app, lambda: door.sign_in_dialog is not None and door.sign_in_dialog.isVisible(), 5)
    xdotool(app, "type", "--delay", "5", STAFF_BADGE[0])
    xdotool(app, "key", "Return")
    xdotool(app, "type", "--delay", "40", "2468")
    xdotool(app, "key", "Return")
    wait_for(app, lambda: door.staff_on_duty, 10)
    out["signed_in"] = door.staff_on_duty and door.staff is not None
    wait_for(app, lambda: False, 0.3)

    # The attendee card (F2, a name, Enter), closed with Escape; then F3 again.
    xdotool(app, "key", "F2")
    xdotool(app, "type", "--delay", "60", "mar")
    wait_for(app, lambda: door.search.results.count() > 0, 10)
    xdotool(app, "key", "Return")
    wait_for(app, lambda: door.card is not None and door.card.isVisible(), 10)
    card = door.card
    out["card_opened"] = card is not None and card.isVisible()
    xdotool(app, "key", "Escape")
    wait_for(app, lambda: card is None or not card.isVisible(), 5)
    wait_for(app, lambda: False, 0.3)
    out["f3_after_card"] = toggles_with_f3()

    # The PIN again, right this time: the kiosk unlocks and keys still reach the door.
    xdotool(app, "key", "ctrl+shift+k")
    wait_for(app, lambda: door.kiosk.dialog is not None and door.kiosk.dialog.isVisible(), 5)
    xdotool(app, "type", "--delay", "40", "2468")
    xdotool(app, "key", "Return")
    wait_for(app, lambda: not door.kiosk.locked, 5)
    wait_for(app, lambda: False, 0.3)
    out["unlocked"] = not door.kiosk.locked
    out["f3_after_unlock"] = toggles_with_f3()
    return out


STAFF_BADGE: list[str] = []  # a door staff member's badge text (demo PIN 2468)


def _wait_for():
    from app.ui.screenshots import wait_for

    return wait_for


def main() -> int:
    """`showdesk --kiosk` through run_app (splash, settings, window), checked from inside its
    event loop."""
    import os

    from app.store.db import open_database
    from app.store.demo import seed_demo
    from app.ui.main import run_app
    from app.ui.qt import QApplication, QTimer

    folder = Path(tempfile.mkdtemp())
    os.environ["SHOWDESK_CONFIG_DIR"] = str(folder / "config")
    os.environ["SHOWDESK_DATA_DIR"] = str(folder / "data")
    os.environ["SHOWDESK_KIOSK_PIN"] = "2468"
    os.environ["SHOWDESK_SOUND"] = "false"
    path = folder / "kiosk.sqlite"
    db = open_database(path)
    seed_demo(db, tickets=200, seed=11)
    from sqlalchemy import select

    from app.store.models import Staff
    from app.store.staff import badge_payload

    with db.session() as session:
        code = session.scalars(select(Staff.badge_code).where(Staff.role == "door")).first()
    STAFF_BADGE.append(badge_payload(code))
    db.close()
    out: dict = {}

    def on_window(window) -> None:
        def run() -> None:
            try:
                out.update(checks(QApplication.instance(), window))
            except Exception as exc:  # reported in the JSON line, not lost in the event loop
                out["error"] = repr(exc)
            if window.door.kiosk is not None and window.door.kiosk.locked:
                window.door.kiosk.unlock()
            QApplication.instance().quit()

        QTimer.singleShot(0, run)

    code = run_app(db=path, kiosk=True, on_window=on_window)
    out["exit_code"] = code
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
