"""The event and the state at a glance: event name and date on the door, an event picker when
the replica holds several, a big online/offline badge with the queue, one queue count (every
kind of change) on the status bar, the Sync tab and the badge, ages that tick."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import func, select

from app.store import calltimes_store, lineup_store
from app.store.db import get_meta
from app.store.models import (
    CallTime,
    Event,
    OutboxEntry,
    RunwayAppearance,
    RunwayShow,
    TicketType,
)
from app.store.types import utcnow
from app.sync.localpg import free_port

from .conftest import fresh_tickets, no_camera

SECOND_EVENT = "Maison Aurèle — Resort Preview"


@pytest.fixture
def open_window(qtbot, door_ctx):
    """A MainWindow on the demo replica; every service stopped at the end (of either event)."""
    from app.ui import tasks
    from app.ui.main import MainWindow

    windows: list[Any] = []

    def factory() -> Any:
        window = MainWindow(door_ctx, door_options={"source_factory": no_camera})
        qtbot.addWidget(window)
        window.show()
        qtbot.waitUntil(lambda: window.door.is_ready, timeout=15000)
        windows.append(window)
        return window

    yield factory
    for window in windows:
        for service in window.ctx.services:
            service.stop()
    tasks.shutdown(wait=True)


def _add_second_event(ctx: Any) -> str:
    """Another event in the same replica (tomorrow, its own gate), as a season kiosk holds."""
    with ctx.db.session() as session:
        first = session.get(Event, ctx.event_id)
        second = Event(
            organization_id=first.organization_id,
            venue_id=first.venue_id,
            name=SECOND_EVENT,
            slug="resort-preview",
            timezone=first.timezone,
            starts_at=first.starts_at + timedelta(days=1),
            ends_at=first.ends_at + timedelta(days=1),
        )
        session.add(second)
        session.flush()
        session.add(
            TicketType(event_id=second.id, name="Preview", tier="general", allowed_gates=["Hall B"])
        )
        return second.id


def _pending(ctx: Any) -> int:
    with ctx.db.session() as session:
        return session.scalar(
            select(func.count()).select_from(OutboxEntry).where(OutboxEntry.state == "pending")
        )


def _lineup_and_call_time_changes(ctx: Any) -> None:
    """A lineup edit, the show started, a call time confirmed: none of them a check-in."""
    with ctx.db.session() as session:
        appearance_id = session.scalars(select(RunwayAppearance.id).limit(1)).one()
        show_id = session.scalars(select(RunwayShow.id).limit(1)).one()
        call = session.scalars(select(CallTime).where(CallTime.confirmed_at.is_(None))).first()
        calltimes_store.mark_confirmed(session, call.id, utcnow())
    lineup_store.save_notes(ctx.db, appearance_id, "Shoes swapped")
    lineup_store.save_show_started(ctx.db, show_id, utcnow())


def test_the_door_names_the_event_and_its_date(qtbot, make_door, door_ctx):
    door = make_door(source_factory=no_camera)
    with door_ctx.db.session() as session:
        event = session.get(Event, door_ctx.event_id)
        name, starts, tz = event.name, event.starts_at, ZoneInfo(event.timezone)
    qtbot.waitUntil(lambda: door.event_header.name.text() == name, timeout=5000)
    local = starts.astimezone(tz)
    assert door.event_header.when.text().startswith(f"{local:%a} {local.day} {local:%b %Y}")
    assert f"{local:%H:%M}" in door.event_header.when.text()
    assert not door.event_header.picker.isVisibleTo(door)  # one event: nothing to pick


def test_an_event_picked_from_several_reopens_the_screens_on_it(qtbot, door_ctx, open_window):
    second = _add_second_event(door_ctx)
    window = open_window()
    header = window.door.event_header
    assert header.picker.isVisible() and header.picker.count() == 2
    first_door = window.door

    header.picker.setFocus()
    header.picker.showPopup()
    qtbot.waitUntil(lambda: header.picker.view().isVisible(), timeout=3000)
    qtbot.keyClick(header.picker.view(), Qt.Key.Key_Down)
    qtbot.keyClick(header.picker.view(), Qt.Key.Key_Return)

    qtbot.waitUntil(lambda: window.ctx.event_id == second, timeout=5000)
    assert window.door is not first_door
    qtbot.waitUntil(lambda: window.door.is_ready, timeout=15000)
    assert window.door.event_header.picker.currentText().startswith(SECOND_EVENT)
    assert window.door.gate.gates == ["Hall B"] and window.door.gate.gate == "Hall B"
    with door_ctx.db.session() as session:
        assert get_meta(session, "event_id") == second  # the next start opens this event


def test_the_badge_and_the_status_bar_say_offline_with_the_right_grammar(
    qtbot, door_ctx, open_window
):
    window = open_window()
    badge = window.door.badge
    qtbot.waitUntil(lambda: badge.status is not None, timeout=5000)
    assert badge.state == "local" and "OFFLINE" in badge.headline.text()
    base = _pending(door_ctx)
    assert base == 0, "the demo replica starts with nothing to upload"

    window.door.scan_code(fresh_tickets(door_ctx, 1)[0][1])
    qtbot.waitUntil(lambda: badge.detail.text() == "1 local change", timeout=5000)
    qtbot.waitUntil(lambda: "(1 local change)" in window.sync_indicator.text.text(), timeout=5000)
    assert "changes" not in window.sync_indicator.text.text()


def test_every_kind_of_change_is_counted_the_same_everywhere(qtbot, door_ctx, open_window):
    window = open_window()
    window.door.scan_code(fresh_tickets(door_ctx, 1)[0][1])
    qtbot.waitUntil(lambda: len(window.door.history) == 1, timeout=5000)
    _lineup_and_call_time_changes(door_ctx)
    window.ctx.notify("runway_appearances", "runway_shows", "call_times")
    total = _pending(door_ctx)
    assert total >= 3

    qtbot.waitUntil(
        lambda: window.door.badge.detail.text() == f"{total} local changes", timeout=5000
    )
    qtbot.waitUntil(
        lambda: f"({total} local changes)" in window.sync_indicator.text.text(), timeout=5000
    )
    qtbot.waitUntil(
        lambda: window.sync.queue.text().startswith(f"{total} changes waiting"), timeout=5000
    )
    queue = window.sync.queue.text()
    assert "1 check-in" in queue and "lineup entr" in queue and "call time" in queue, queue


def test_with_a_sync_server_down_the_counts_still_agree_and_the_ages_tick(
    qtbot, door_ctx, open_window, monkeypatch
):
    import app.ui.status_badge as badge_module
    import app.ui.sync_panel as panel_module

    door_ctx.config.backend = "postgres"  # a server where nothing listens: a dead network
    door_ctx.config.postgres_dsn = f"host=127.0.0.1 port={free_port()} dbname=x user=x"
    door_ctx.config.pull_interval_seconds = 30.0
    window = open_window()
    badge = window.door.badge
    qtbot.waitUntil(lambda: badge.state == "offline", timeout=15000)
    assert "OFFLINE" in badge.headline.text()

    # Changes made after the engine's last round: the views count them at once.
    window.door.scan_code(fresh_tickets(door_ctx, 1)[0][1])
    qtbot.waitUntil(lambda: len(window.door.history) == 1, timeout=5000)
    _lineup_and_call_time_changes(door_ctx)
    window.ctx.notify("runway_appearances", "call_times")
    total = _pending(door_ctx)
    qtbot.waitUntil(lambda: badge.detail.text().startswith(f"{total} waiting"), timeout=5000)
    qtbot.waitUntil(
        lambda: f"{total} changes waiting to upload" in window.sync_indicator.text.text(),
        timeout=5000,
    )
    qtbot.waitUntil(
        lambda: window.sync.queue.text().startswith(f"{total} changes waiting"), timeout=5000
    )
    assert "the oldest was made" in window.sync.queue.text()

    # Five minutes later, with the screen open and nothing new: the ages have moved on.
    later = utcnow() + timedelta(minutes=5)
    monkeypatch.setattr(panel_module, "_utcnow", lambda: later)
    monkeypatch.setattr(badge_module, "utcnow", lambda: later)
    qtbot.waitUntil(lambda: "made 5 min ago" in window.sync.queue.text(), timeout=5000)


def test_the_queue_is_read_off_the_ui_thread(qtbot, door_ctx, monkeypatch):
    import app.ui.queue_watch as watch_module
    from app.ui import tasks

    threads: list[threading.Thread] = []
    real = watch_module.read_queue

    def read(session):
        threads.append(threading.current_thread())
        return real(session)

    monkeypatch.setattr(watch_module, "read_queue", read)
    try:
        watch = watch_module.queue_watch(door_ctx)
        qtbot.waitUntil(lambda: watch.status is not None, timeout=5000)
        assert threads and all(t is not threading.main_thread() for t in threads)
    finally:
        for service in door_ctx.services:
            service.stop()
        tasks.shutdown(wait=True)
