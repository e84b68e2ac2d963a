"""Run under Xvfb by test_real_drag.py: a look dragged with the X server's own pointer.

xdotool presses, moves and releases the pointer through XTEST, so Qt gets real X events and
runs its real drag loop (QDrag.exec over XDND). Prints one JSON line. Not collected by pytest.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    from sqlalchemy import func, select

    from app.store.models import OutboxEntry
    from app.ui import tasks
    from app.ui.lineup import LineupTab
    from app.ui.qt import QApplication
    from app.ui.screenshots import wait_for
    from tests.support.lineup import seeded_context, synthetic_lineup

    app = QApplication(sys.argv)
    ctx = seeded_context(synthetic_lineup(12), Path(tempfile.mkdtemp()))
    tab = LineupTab(ctx)
    tab.setGeometry(0, 0, 1200, 760)
    tab.show()
    assert wait_for(app, lambda: tab.model.rowCount() == 12 and tab.isVisible())
    time.sleep(0.3)
    app.processEvents()

    def ids() -> list[str]:
        return [tab.model.appearance_at(r).id for r in range(tab.model.rowCount())]

    before = ids()
    view, viewport = tab.view, tab.view.viewport()
    source = viewport.mapToGlobal(view.visualRect(tab.model.index(7, 3)).center())
    target_rect = view.visualRect(tab.model.index(5, 3))
    target = viewport.mapToGlobal(target_rect.center())
    target.setY(viewport.mapToGlobal(target_rect.topLeft()).y() + 2)
    x0, y0, x1, y1 = source.x(), source.y(), target.x(), target.y()
    pointer = subprocess.Popen(
        ["xdotool", "mousemove", str(x0), str(y0), "sleep", "0.3", "mousedown", "1",
         "sleep", "0.2", "mousemove", str(x0), str(y0 - 6), "sleep", "0.2",
         "mousemove", str(x0), str(y0 - 20), "sleep", "0.3",
         "mousemove", str(x1), str(y1 + 4), "sleep", "0.3",
         "mousemove", str(x1), str(y1), "sleep", "0.3", "mouseup", "1"],
    )  # fmt: skip
    wait_for(app, lambda: pointer.poll() is not None, 20)
    wait_for(app, lambda: ids() != before, 3)
    after = ids()

    def saved() -> int:
        with ctx.db.session() as s:
            return s.scalar(select(func.count()).select_from(OutboxEntry))

    wait_for(app, lambda: saved() > 0, 5)
    print(json.dumps({
        "moved_from": 7, "moved_to": after.index(before[7]),
        "others_in_order": [i for i in after if i != before[7]] == before[:7] + before[8:],
        "outbox_rows": saved(), "pointer_exit": pointer.returncode,
    }))  # fmt: skip
    tab.close()
    tasks.shutdown(wait=True)
    ctx.db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
