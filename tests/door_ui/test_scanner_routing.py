"""A USB-scanner burst goes to the screen in front: badges on the call-time board, tickets
everywhere else (and the door comes forward)."""

from __future__ import annotations

from sqlalchemy import func, select

from app.store.models import CallTime, Checkin, Person
from app.ui.qt import Qt
from tests.door_ui.conftest import fresh_tickets, no_camera


def _burst(qtbot, widget, code: str) -> None:
    qtbot.keyClicks(widget, code)  # a scanner: no delay between keys
    qtbot.keyClick(widget, Qt.Key.Key_Return)


def _unarrived_badge(ctx) -> tuple[str, str]:
    with ctx.db.session() as session:
        row = session.execute(
            select(Person.badge_code, CallTime.id)
            .join(CallTime, CallTime.person_id == Person.id)
            .where(Person.event_id == ctx.event_id, CallTime.arrived_at.is_(None))
            .where(Person.badge_code.is_not(None))
            .limit(1)
        ).one()
    return row[0], row[1]


def _checkins(ctx) -> int:
    with ctx.db.session() as session:
        return session.scalar(select(func.count()).select_from(Checkin))


def test_badge_on_the_board_marks_arrival_ticket_elsewhere_checks_in(qtbot, door_ctx):
    from app.ui import tasks
    from app.ui.main import MainWindow

    window = MainWindow(door_ctx, door_options={"source_factory": no_camera})
    qtbot.addWidget(window)
    window.show()
    try:
        qtbot.waitUntil(lambda: window.door.is_ready, timeout=15000)
        for wedge in (window.door.wedge, window.badge_wedge):
            wedge.buffer.max_gap = 0.25  # a loaded CI machine can stall the key generator
        badge, call_id = _unarrived_badge(door_ctx)
        before = _checkins(door_ctx)

        window.tabs.setCurrentWidget(window.calltimes)
        window.calltimes.setFocus()
        _burst(qtbot, window.calltimes, badge)

        def arrived() -> bool:
            with door_ctx.db.session() as session:
                return session.get(CallTime, call_id).arrived_at is not None

        qtbot.waitUntil(arrived, timeout=5000)
        assert window.tabs.currentWidget() is window.calltimes
        assert _checkins(door_ctx) == before  # the badge was not taken for a ticket

        window.tabs.setCurrentWidget(window.lineup)
        code = fresh_tickets(door_ctx, 1)[0][1]
        window.lineup.setFocus()
        _burst(qtbot, window.lineup, code)
        qtbot.waitUntil(lambda: len(window.door.history) == 1, timeout=5000)
        assert window.door.history[0].verdict == "admitted"
        assert window.tabs.currentWidget() is window.door
    finally:
        window.door.stop()
        for service in door_ctx.services:
            service.stop()
        tasks.shutdown(wait=True)
