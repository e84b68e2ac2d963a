"""UI half of `showdesk bench lineup`: board repaint after a drop, display advance latency.

Both run on real widgets (offscreen when there is no display) over a throwaway replica, so
the saves really go through the DB worker and the outbox as they do in the app.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from pathlib import Path

from app.bench.lineup import ms_summary
from app.domain.lineup import Lineup


def _quiet_offscreen(_kind, _context, message: str) -> None:
    # The offscreen platform says so each time a window asks it for something it lacks
    # (size hints, raising); everything else Qt says still reaches stderr.
    if not message.startswith("This plugin does not support"):
        print(message, file=sys.stderr)


def _app():
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from app.ui.qt import QApplication, qInstallMessageHandler

    qInstallMessageHandler(_quiet_offscreen)
    return QApplication.instance() or QApplication([])


def _wait_paint(app, widget, after: float, timeout: float = 2.0) -> float:
    """Process events until ``widget`` finished a paint that started after ``after``."""
    deadline = time.perf_counter() + timeout
    while widget.last_paint_end <= after and time.perf_counter() < deadline:
        app.processEvents()
    return widget.last_paint_end


def _settle(app, timeout: float = 5.0) -> None:
    """Let the DB worker finish (saves, reloads) and the UI process what they sent back."""
    from app.ui.tasks import run_db

    done: list[int] = []
    run_db(lambda: None, lambda _r: done.append(1))
    deadline = time.perf_counter() + timeout
    while not done and time.perf_counter() < deadline:
        app.processEvents()
    for _ in range(3):
        app.processEvents()


def seeded_context(lineup: Lineup, folder: Path):
    """A real replica holding ``lineup`` (as a show of a small event), and its AppContext."""
    from datetime import UTC, datetime, timedelta

    from app.config import Config
    from app.store.db import device_id, open_database
    from app.store.models import (
        Designer,
        Event,
        Look,
        Model,
        Organization,
        RunwayAppearance,
        RunwaySegment,
        RunwayShow,
    )
    from app.ui.context import AppContext

    db = open_database(folder / "bench.sqlite")
    start = datetime.now(UTC)
    with db.session() as s:
        org = Organization(name="Bench", slug="bench")
        s.add(org)
        s.flush()
        event = Event(organization_id=org.id, name="Bench", slug="bench", starts_at=start,
                      ends_at=start + timedelta(hours=2))  # fmt: skip
        s.add(event)
        s.flush()
        show = RunwayShow(event_id=event.id, name="Bench show", starts_at=start)
        s.add(show)
        s.flush()
        seg_ids = {}
        for seg in lineup.ordered_segments():
            row = RunwaySegment(show_id=show.id, name=seg.name, order_key=seg.order_key,
                                music_cue=seg.music_cue)  # fmt: skip
            s.add(row)
            s.flush()
            seg_ids[seg.id] = row.id
        designers, models = {}, {}
        for a in lineup.order:
            if a.designer not in designers:
                d = Designer(event_id=event.id, name=a.designer or "Designer")
                s.add(d)
                s.flush()
                designers[a.designer] = d.id
            if a.model_id not in models:
                first, _, last = (a.model_name or "Model X").partition(" ")
                m = Model(event_id=event.id, first_name=first, last_name=last)
                s.add(m)
                s.flush()
                models[a.model_id] = m.id
            look = Look(event_id=event.id, designer_id=designers[a.designer], title=a.look_title)
            s.add(look)
            s.flush()
            s.add(RunwayAppearance(segment_id=seg_ids[a.segment_id], look_id=look.id,
                                   model_id=models[a.model_id], order_key=a.order_key,
                                   is_opening=a.is_opening, is_closing=a.is_closing))  # fmt: skip
        dev = device_id(s)
    ctx = AppContext(config=Config(db=db.path), db=db, event_id=event.id, device_id=dev)
    return ctx


def bench_board_and_display(lineup: Lineup, moves: int = 200) -> dict:
    app = _app()
    from app.ui import show_display, tasks
    from app.ui.lineup import LineupTab
    from app.ui.qt import QEvent, QKeyEvent, QModelIndex, Qt

    with tempfile.TemporaryDirectory() as folder:
        ctx = seeded_context(lineup, Path(folder))
        tab = LineupTab(ctx)
        tab.resize(1280, 800)
        tab.show()
        deadline = time.perf_counter() + 20
        while tab.model.rowCount() < len(lineup) and time.perf_counter() < deadline:
            app.processEvents()
        rng = random.Random(5)
        board: list[float] = []
        n = tab.model.rowCount()
        for _ in range(moves):
            src, dest = rng.randrange(1, n - 1), rng.randrange(1, n - 1)
            tab.view.scrollTo(tab.model.index(dest, 0))
            _settle(app)
            mime = tab.model.mimeData([tab.model.index(src, 0)])
            t0 = time.perf_counter()
            moved = tab.model.dropMimeData(mime, Qt.DropAction.MoveAction, dest, 0, QModelIndex())
            if not moved:
                continue
            end = _wait_paint(app, tab.view, t0)
            board.append((end - t0) * 1000)
        tasks.shutdown(wait=True)

        tab.set_mode("show")
        display = tab.open_display()
        assert display is not None, "show mode opens the display"
        display.resize(1920, 1080)
        app.processEvents()
        advance: list[float] = []
        for i in range(min(len(lineup) - 1, 120)):
            key = Qt.Key.Key_Space if i % 4 != 3 else Qt.Key.Key_PageUp
            press = QKeyEvent(QEvent.Type.KeyPress, key, Qt.KeyboardModifier.NoModifier, " ")
            _settle(app)
            t0 = time.perf_counter()
            app.sendEvent(display, press)
            end = _wait_paint(app, display, t0)
            advance.append((end - t0) * 1000)
        display.close_confirmed()
        tab.close()
        tasks.shutdown(wait=True)
        ctx.db.close()
        del show_display
    return {"board_repaint": ms_summary(board), "display_advance": ms_summary(advance)}
