"""Run under Xvfb by test_scanner_xvfb.py: a USB scanner typing through the X server.

xdotool types through XTEST, so Qt gets real X key events (shift for capitals and all) at the
pace asked: a fast wedge scanner, a slow one, a person typing a name. Prints one JSON line.
Not collected by pytest.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    from sqlalchemy import select

    from app.config import Config
    from app.domain.tokens import looks_like_ticket_code
    from app.store.db import device_id, open_database
    from app.store.demo import seed_demo
    from app.store.models import Ticket
    from app.ui import tasks
    from app.ui.context import AppContext
    from app.ui.door import DoorTab
    from app.ui.qt import QApplication
    from app.ui.screenshots import wait_for

    app = QApplication(sys.argv)
    folder = Path(tempfile.mkdtemp())
    db = open_database(folder / "door.sqlite")
    event_id = seed_demo(db, tickets=300, seed=11)
    with db.session() as session:
        dev = device_id(session)
        codes = session.scalars(select(Ticket.qr_code_data).order_by(Ticket.ticket_number)).all()
    config = Config(db=db.path, gate="North door", sound=False, camera_enabled=False)
    ctx = AppContext(config=config, db=db, event_id=event_id, device_id=dev)
    door = DoorTab(ctx, start_camera=False)
    door.setGeometry(0, 0, 1280, 760)
    door.show()
    assert wait_for(app, lambda: door.is_ready and bool(door.codes.legacy), 30)
    door.activateWindow()
    assert wait_for(app, lambda: door.isActiveWindow(), 10)
    door.search.box.setFocus()
    scans: list[None] = []
    door.scan_captured.connect(lambda: scans.append(None))

    token = next(c for c in codes if looks_like_ticket_code(c))
    legacy = next(c for c in codes if not looks_like_ticket_code(c))

    def typed(text: str, delay_ms: int) -> dict:
        before = len(scans)
        door.search.box.clear()
        time.sleep(0.6)  # a pause: the next keys start a new run
        started = time.monotonic()
        # xdotool's --delay spans a key's press and release: twice the pause between presses
        keys = subprocess.Popen(["xdotool", "type", "--delay", str(2 * delay_ms), text])
        wait_for(app, lambda: keys.poll() is not None, 120)
        enter = subprocess.Popen(["xdotool", "key", "Return"])
        wait_for(app, lambda: enter.poll() is not None, 10)
        seconds = time.monotonic() - started
        wait_for(app, lambda: len(door.history) >= len(scans), 10)
        wait_for(app, lambda: False, 0.3)
        return {
            "delay_ms": delay_ms,
            "ms_per_key": round(1000 * seconds / (len(text) + 1), 1),
            "scans": len(scans) - before,
            "left_in_box": door.search.box.text(),
            "verdict": str(door.history[-1].verdict) if len(scans) > before else None,
        }

    results = {
        "token_2ms": typed(token, 2),
        "token_120ms": typed(token, 120),
        "legacy_60ms": typed(legacy, 60),
        "name_120ms": typed("Maria Lopez", 120),
        "name_55ms": typed("Lopez", 55),
    }
    print(json.dumps(results))
    door.stop()
    tasks.shutdown(wait=True)
    db.close()
    shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
