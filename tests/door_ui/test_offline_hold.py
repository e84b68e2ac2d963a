"""Strict offline policy on the door screen: a guest the door would admit while it reaches
neither the hub nor the server is held on screen; F6 admits them only for a signed-in staff
member, and says how to get one; lenient shows "offline — duplicates possible"."""

from __future__ import annotations

from sqlalchemy import func, select

from app.ui.qt import Qt

from .conftest import fresh_tickets, no_camera
from .test_kiosk_lock_v2 import _badge, _locked_door, _sign_in


def _policy(ctx, value: str | None) -> None:
    from app.store.models import Event

    with ctx.db.session() as session:
        session.get(Event, ctx.event_id).offline_policy = value


def _admitted(ctx, ticket_id: str) -> int:
    from app.store.models import Checkin

    with ctx.db.session() as session:
        return session.scalar(
            select(func.count())
            .select_from(Checkin)
            .where(Checkin.ticket_id == ticket_id, Checkin.verdict == "admitted")
        )


def test_a_held_guest_is_admitted_by_signed_in_staff_with_f6(qtbot, make_door, door_ctx):
    _policy(door_ctx, "strict")
    door, _window = _locked_door(qtbot, make_door)  # no sync set up: cut off from both ways
    ticket_id, code, *_ = fresh_tickets(door_ctx, 1)[0]
    door.scan_code(code)
    qtbot.waitUntil(lambda: door.last_result is not None, timeout=5000)
    assert door.panel.headline.text() == "HOLD — NO CONNECTION"
    assert "signed-in staff member" in door.panel.detail.text()
    assert door.admit_held_button.isVisible() and _admitted(door_ctx, ticket_id) == 0

    qtbot.keyClick(door, Qt.Key.Key_F6)
    assert door.panel.headline.text() == "STAFF SIGN-IN NEEDED"
    assert "F9" in door.panel.detail.text()
    assert _admitted(door_ctx, ticket_id) == 0

    badge, _name = _badge(door_ctx, "door")
    _sign_in(qtbot, door, badge, "2468")
    qtbot.waitUntil(lambda: door.staff_on_duty, timeout=5000)
    door.scan_code(code)  # held again (sign-in cleared the card)
    qtbot.waitUntil(lambda: door.admit_held_button.isVisible(), timeout=5000)
    qtbot.keyClick(door, Qt.Key.Key_F6)
    qtbot.waitUntil(lambda: door.panel.headline.text() == "ADMITTED", timeout=5000)
    assert _admitted(door_ctx, ticket_id) == 1
    assert not door.admit_held_button.isVisible()


def test_lenient_admits_and_says_so(qtbot, make_door, door_ctx):
    _policy(door_ctx, None)
    door = make_door(source_factory=no_camera)
    _ticket_id, code, *_ = fresh_tickets(door_ctx, 1)[0]
    door.scan_code(code)
    qtbot.waitUntil(lambda: door.last_result is not None, timeout=5000)
    assert door.panel.headline.text() == "ADMITTED"
    assert "Offline — duplicates possible" in door.panel.detail.text()
    assert not door.admit_held_button.isVisible()
