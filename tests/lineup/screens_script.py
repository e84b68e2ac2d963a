"""Run under Xvfb by test_display_screens.py: real X monitors added and removed with xrandr.

Prints one JSON line: where the display opened, and where it went when its screen was
unplugged. Not collected by pytest (no test_ prefix).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def xrandr(*args: str) -> None:
    subprocess.run(["xrandr", *args], check=True, capture_output=True, timeout=10)


def main() -> int:
    from app.ui import show_display, tasks
    from app.ui.qt import QApplication, QWidget
    from app.ui.screenshots import wait_for
    from tests.support.lineup import seeded_context, synthetic_lineup

    app = QApplication(sys.argv)
    xrandr("--setmonitor", "CONTROL", "640/1x800/1+0+0", "none")
    xrandr("--setmonitor", "TV", "640/1x800/1+640+0", "none")
    names = lambda: {s.name() for s in app.screens()}  # noqa: E731
    assert wait_for(app, lambda: {"CONTROL", "TV"} <= names()), names()

    ctx = seeded_context(synthetic_lineup(12), Path(tempfile.mkdtemp()))
    from app.store import lineup_store

    show_id = lineup_store.list_shows(ctx.db, ctx.event_id)[0].id
    lineup = lineup_store.load_lineup(ctx.db, show_id)
    control = QWidget()
    control.setWindowTitle("control")
    control.setGeometry(20, 20, 500, 400)
    control.show()
    wait_for(app, lambda: control.screen() is not None and control.screen().name() == "CONTROL", 5)
    display = show_display.open_show_display(ctx, lineup, control=control)
    wait_for(app, display.isVisible, 5)
    time.sleep(0.3)
    app.processEvents()
    opened_on = display.screen().name()
    opened_geometry = display.geometry().getRect()

    removed: list[str] = []
    app.screenRemoved.connect(lambda s: removed.append(s.name()))
    xrandr("--delmonitor", opened_on)
    wait_for(app, lambda: removed, 10)
    wait_for(app, lambda: display.screen() is not None and display.screen().name() != opened_on, 5)
    time.sleep(0.3)
    app.processEvents()
    from app.ui.qt import QEvent, QKeyEvent, Qt

    app.sendEvent(
        display,
        QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Space, Qt.KeyboardModifier.NoModifier, " "),
    )
    result = {
        "control_on": control.screen().name(),
        "opened_on": opened_on,
        "opened_geometry": opened_geometry,
        "removed": removed,
        "now_on": display.screen().name(),
        "now_geometry": display.geometry().getRect(),
        "visible": display.isVisible(),
        "fullscreen": display.isFullScreen(),
        "message": display.message.text(),
        "current_look": display.now_panel.number.text(),
    }
    print(json.dumps(result))
    display.close_confirmed()
    tasks.shutdown(wait=True)
    ctx.db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
