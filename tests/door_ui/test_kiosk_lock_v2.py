"""Kiosk lock, done right: a PIN for one action authorizes that action only; a locked kiosk
searches and admits by hand only for a signed-in staff member; no default PIN."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update

from app.config import Config
from app.ui.qt import QMainWindow, Qt

from .conftest import fresh_tickets, no_camera


def _locked_door(qtbot, make_door) -> tuple[Any, QMainWindow]:
    door = make_door(source_factory=no_camera)
    window = QMainWindow()
    qtbot.addWidget(window)
    window.setCentralWidget(door)
    door.enter_kiosk_mode(window)
    qtbot.waitUntil(lambda: door.kiosk.state is not None, timeout=5000)
    return door, window


def _unlock(qtbot, door, pin: str) -> None:
    dialog = door.kiosk.ask_pin()
    qtbot.keyClicks(dialog.field, pin)
    qtbot.keyClick(dialog.field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not door.kiosk.locked, timeout=5000)


def _badge(ctx: Any, role: str) -> tuple[str, str]:
    """(scanned badge text, name) of the first demo staff member of ``role``."""
    from app.store.models import Staff
    from app.store.staff import badge_payload

    with ctx.db.session() as session:
        staff = session.scalars(
            select(Staff).where(Staff.role == role).order_by(Staff.name).limit(1)
        ).one()
        return badge_payload(staff.badge_code), staff.name


def _checkins(ctx: Any) -> int:
    from app.store.models import Checkin

    with ctx.db.session() as session:
        return session.scalar(select(func.count()).select_from(Checkin))


def _service_staff(door: Any) -> Any:
    from app.ui import tasks

    return tasks.run_db(lambda: door._service.staff_id).result(timeout=10)


def _sign_in(qtbot, door, badge: str, pin: str) -> Any:
    qtbot.keyClick(door, Qt.Key.Key_F9)
    dialog = door.sign_in_dialog
    assert dialog is not None and dialog.isVisible() and dialog.badge_field.isVisible()
    qtbot.keyClicks(dialog.badge_field, badge)
    qtbot.keyClick(dialog.badge_field, Qt.Key.Key_Return)  # a scanner ends with Enter
    assert dialog.field.hasFocus() or not dialog.isActiveWindow()
    qtbot.keyClicks(dialog.field, pin)
    qtbot.keyClick(dialog.field, Qt.Key.Key_Return)
    return dialog


def test_there_is_no_default_kiosk_pin():
    assert Config().kiosk_pin is None
    assert Config().self_service is False and Config().idle_lock_seconds == 300


def test_the_pin_for_an_undo_authorizes_the_undo_only(qtbot, make_door, door_ctx):
    door, window = _locked_door(qtbot, make_door)
    ticket = fresh_tickets(door_ctx, 1)[0]
    door.scan_code(ticket[1])
    qtbot.waitUntil(lambda: door.last_result is not None, timeout=5000)
    assert door.last_result.ok

    door.undo_admission()
    dialog = door.kiosk.dialog
    assert dialog.isVisible() and door.annul_dialog is None
    qtbot.keyClicks(dialog.field, door_ctx.config.kiosk_pin)
    qtbot.keyClick(dialog.field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: door.annul_dialog is not None, timeout=5000)
    assert door.annul_dialog.isVisible()
    # The undo goes ahead; the kiosk did not open up.
    assert door.kiosk.locked and window.close() is False
    assert window.windowFlags() & Qt.WindowType.FramelessWindowHint
    assert door.gate.isReadOnly() and not door.may_search()
    door.annul_dialog.reject()

    door.undo_admission()  # a second undo asks again
    assert door.kiosk.dialog is not dialog and door.kiosk.dialog.isVisible()
    door.kiosk.dialog.reject()


def test_a_locked_kiosk_searches_and_admits_only_for_signed_in_staff(qtbot, make_door, door_ctx):
    door, _window = _locked_door(qtbot, make_door)
    ticket_id, _code, _number, first, _last = fresh_tickets(door_ctx, 1)[0]
    assert door.search.isVisible() and door.sign_in_button.isVisible()
    assert door.search.box.isReadOnly() and "Staff sign-in" in door.search.status.text()
    qtbot.keyClicks(door.search.box, "mar")
    qtbot.wait(400)
    assert door.search.results.count() == 0 and door.search.box.text() == ""

    before = _checkins(door_ctx)
    door.check_in_ticket(ticket_id)  # a manual admission by any other way: refused too
    assert door.panel.headline.text() == "STAFF ONLY"
    qtbot.wait(300)
    assert _checkins(door_ctx) == before

    badge, name = _badge(door_ctx, "door")
    dialog = _sign_in(qtbot, door, badge, "2468")
    qtbot.waitUntil(lambda: door.staff_on_duty, timeout=5000)
    assert not dialog.isVisible()
    assert door.event_header.staff.text() == f"Staff: {name} (door)"
    assert door.event_header.staff.isVisible()
    assert _service_staff(door) == door.staff.staff_id
    assert door.kiosk.locked  # signing in is not unlocking

    door.search.box.setFocus()
    door.search.box.setText(first)  # typed (a name may hold letters a test cannot key)
    qtbot.waitUntil(lambda: door.search.results.count() > 0, timeout=5000)
    door.check_in_ticket(ticket_id)
    qtbot.waitUntil(lambda: _checkins(door_ctx) == before + 1, timeout=5000)

    qtbot.keyClick(door, Qt.Key.Key_F9)  # sign out
    assert not door.staff_on_duty and not door.may_search()
    assert door.search.box.text() == "" and door.search.results.count() == 0
    assert not door.event_header.staff.isVisible()
    assert _service_staff(door) is None


def test_wrong_pins_are_said_and_a_door_badge_cannot_leave_kiosk_mode(qtbot, make_door, door_ctx):
    door, _window = _locked_door(qtbot, make_door)
    badge, _name = _badge(door_ctx, "door")
    dialog = _sign_in(qtbot, door, badge, "9753")
    qtbot.waitUntil(lambda: "Wrong PIN — 4 tries left" in dialog.message.text(), timeout=5000)
    assert dialog.isVisible() and not door.staff_on_duty
    dialog.reject()

    leave = door.kiosk.ask_pin()
    qtbot.keyClicks(leave.badge_field, badge)
    qtbot.keyClicks(leave.field, "2468")
    qtbot.keyClick(leave.field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "cannot do this here" in leave.message.text(), timeout=5000)
    assert door.kiosk.locked
    leave.reject()

    organizer, _ = _badge(door_ctx, "organizer")
    leave = door.kiosk.ask_pin()
    qtbot.keyClicks(leave.badge_field, organizer)
    qtbot.keyClicks(leave.field, "3579")
    qtbot.keyClick(leave.field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not door.kiosk.locked, timeout=5000)
    assert door.may_search() and not door.search.box.isReadOnly()


def test_a_self_service_kiosk_has_no_search_at_all(qtbot, make_door, door_ctx):
    door_ctx.config.self_service = True
    door, _window = _locked_door(qtbot, make_door)
    ticket_id = fresh_tickets(door_ctx, 1)[0][0]
    assert not door.search.isVisible() and not door.sign_in_button.isVisible()
    before = _checkins(door_ctx)
    door.check_in_ticket(ticket_id)
    assert door.panel.headline.text() == "STAFF ONLY"
    qtbot.keyClick(door, Qt.Key.Key_F9)
    assert door.sign_in_dialog is None
    qtbot.keyClick(door, Qt.Key.Key_F3)  # the door still has the keyboard
    assert door.direction.isChecked()
    assert _checkins(door_ctx) == before
    _unlock(qtbot, door, door_ctx.config.kiosk_pin)
    assert door.search.isVisible()


def test_a_kiosk_with_no_pin_and_no_staff_asks_for_one_at_first_lock(
    qtbot, make_door, door_ctx, tmp_path
):
    from app.store.db import get_meta
    from app.store.models import Staff
    from app.ui.kiosk_lock import KIOSK_PIN_META

    door_ctx.config.kiosk_pin = None
    with door_ctx.db.session() as session:
        session.execute(update(Staff).values(pin_hash=None))
    door, _window = _locked_door(qtbot, make_door)
    qtbot.waitUntil(lambda: door.kiosk.choose_dialog is not None, timeout=5000)
    choose = door.kiosk.choose_dialog
    assert choose.isVisible() and door.kiosk.locked

    qtbot.keyClicks(choose.first, "1111")
    qtbot.keyClicks(choose.second, "1111")
    choose.try_choose()
    assert "too easy" in choose.message.text() and choose.isVisible()
    qtbot.keyClicks(choose.first, "4826")
    qtbot.keyClicks(choose.second, "4862")
    choose.try_choose()
    assert "differ" in choose.message.text()
    choose.first.clear()
    qtbot.keyClicks(choose.first, "4826")
    qtbot.keyClicks(choose.second, "4826")
    choose.try_choose()
    qtbot.waitUntil(lambda: not choose.isVisible(), timeout=5000)
    with door_ctx.db.session() as session:
        kept = get_meta(session, KIOSK_PIN_META)
    assert kept.startswith("$argon2id$") and "4826" not in kept
    assert door_ctx.config.kiosk_pin is None  # nothing went into the settings
    qtbot.waitUntil(lambda: door.kiosk.state.has_kiosk_pin, timeout=5000)

    # No staff: the kiosk PIN signs a person in at the desk (no badge asked).
    qtbot.keyClick(door, Qt.Key.Key_F9)
    sign_in = door.sign_in_dialog
    assert not sign_in.badge_field.isVisible()
    qtbot.keyClicks(sign_in.field, "4826")
    qtbot.keyClick(sign_in.field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: door.staff_on_duty, timeout=5000)
    assert door.event_header.staff.text() == "Staff: kiosk PIN" and door.may_search()
    _unlock(qtbot, door, "4826")


def test_an_idle_kiosk_signs_its_staff_member_out(qtbot, make_door, door_ctx):
    door_ctx.config.idle_lock_seconds = 0.5
    door, _window = _locked_door(qtbot, make_door)
    badge, _name = _badge(door_ctx, "door")
    _sign_in(qtbot, door, badge, "2468")
    qtbot.waitUntil(lambda: door.staff_on_duty, timeout=5000)
    qtbot.waitUntil(lambda: not door.staff_on_duty, timeout=5000)
    assert not door.may_search() and door.kiosk.locked

    _unlock(qtbot, door, door_ctx.config.kiosk_pin)
    qtbot.waitUntil(lambda: door.kiosk.locked, timeout=5000)  # unlocked and idle: locked again


def test_five_wrong_pins_lock_the_sign_in_with_a_countdown(qtbot, make_door, door_ctx):
    door, _window = _locked_door(qtbot, make_door)
    badge, _name = _badge(door_ctx, "door")
    qtbot.keyClick(door, Qt.Key.Key_F9)
    dialog = door.sign_in_dialog
    for left in (4, 3, 2, 1):
        dialog.badge_field.setText(badge)
        dialog.field.setText("9753")
        dialog.try_pin()
        word = "try" if left == 1 else "tries"
        qtbot.waitUntil(lambda w=f"{left} {word} left": w in dialog.message.text(), timeout=5000)
    dialog.badge_field.setText(badge)
    dialog.field.setText("9753")
    dialog.try_pin()
    qtbot.waitUntil(lambda: "try again in 60 s" in dialog.message.text(), timeout=5000)
    qtbot.waitUntil(lambda: "try again in 59 s" in dialog.message.text(), timeout=3000)

    dialog.badge_field.setText(badge)  # the right PIN now: still refused until the wait ends
    dialog.field.setText("2468")
    dialog.try_pin()
    qtbot.waitUntil(lambda: "Checking" not in dialog.message.text(), timeout=5000)
    assert "Too many wrong PINs" in dialog.message.text() and not door.staff_on_duty
    dialog.reject()


def test_a_badge_disabled_centrally_signs_out_at_the_next_pull(qtbot, make_door, door_ctx):
    """The organizer disables a badge on the server; the pull that brings the row (written
    by the replica writer, announced as the sync service does) signs its holder out."""
    from app.store.models import Staff
    from app.store.replica_writer import write_changes
    from app.store.types import utcnow
    from app.ui import tasks

    door, _window = _locked_door(qtbot, make_door)
    badge, _name = _badge(door_ctx, "door")
    _sign_in(qtbot, door, badge, "2468")
    qtbot.waitUntil(lambda: door.staff_on_duty, timeout=5000)
    staff_id = door.staff.staff_id

    door_ctx.notify("staff")  # a pull that touched staff but not this badge: still on duty
    qtbot.wait(500)
    assert door.staff_on_duty

    def pulled() -> set[str]:
        with door_ctx.db.session() as session:
            row = session.get(Staff, staff_id)
            wire = {c.name: getattr(row, c.name) for c in Staff.__table__.columns}
            wire = {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in wire.items()}
            wire["disabled_at"] = utcnow().isoformat()
            return write_changes(session, {"staff": [(wire, 99)]}, {}).tables

    tables = tasks.run_db(pulled).result(timeout=10)
    door_ctx.notify(*tables)
    qtbot.waitUntil(lambda: not door.staff_on_duty, timeout=5000)
    assert door.panel.headline.text() == "SIGNED OUT"
    assert door.panel.detail.text() == "This badge was disabled."
    assert not door.may_search() and door.kiosk.locked
    dialog = _sign_in(qtbot, door, badge, "2468")  # and the badge no longer signs in
    qtbot.waitUntil(lambda: "This badge was disabled on" in dialog.message.text(), timeout=5000)
    assert not door.staff_on_duty
    dialog.reject()
