"""Screens follow the device's role: a door kiosk shows the door only (no backstage names, no
call-time alerts, no audit trail); a producer lineup and call times; an organizer all, the
audit trail included; an admin all and enrolling devices. Call-time toasts never show while the door (and its verdict) is in front."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any

import pytest

from .conftest import fresh_tickets, no_camera

ALL = ["&Door", "&Lineup", "&Call times", "&Organizer", "&Audit trail", "Venue &hub", "S&ync"]


def _labels(window) -> list[str]:
    return [window.tabs.tabText(i) for i in range(window.tabs.count())]


@contextmanager
def _window(qtbot, ctx: Any, role: str | None):
    from app.ui import tasks
    from app.ui.main import MainWindow
    from app.ui.qt import QApplication

    ctx.config.device_role = role
    window = MainWindow(ctx, door_options={"source_factory": no_camera})
    qtbot.addWidget(window)
    window.show()
    try:
        if window.door is not None:
            qtbot.waitUntil(lambda: window.door.is_ready, timeout=15000)
        qtbot.waitUntil(lambda: not window._pending, timeout=15000)  # background builds
        yield window
    finally:
        for service in ctx.services:
            service.stop()
        tasks.shutdown(wait=True)
        QApplication.processEvents()


def test_a_door_kiosk_has_the_door_only_and_no_call_alerts(qtbot, door_ctx):
    from app.ui.calltimes.alert_service import running_services

    with _window(qtbot, door_ctx, "door") as window:
        assert _labels(window) == ["&Door"]
        assert set(window._built) == set() and window.door is not None
        qtbot.wait(200)
        mine = [s for s in running_services() if s.db is door_ctx.db]
        assert mine == []  # no call-time scheduler on a door kiosk
        with pytest.raises(KeyError):
            window.calltimes  # noqa: B018 (the screen is not there to be built)
        with pytest.raises(KeyError):
            window.audit  # noqa: B018 (no audit trail on a door kiosk)
        assert window.sync_indicator.isVisible()  # its own sync status: the status bar


def test_a_producer_sees_lineup_and_call_times_without_the_door(qtbot, door_ctx):
    from app.ui.calltimes import CallTimesTab
    from app.ui.calltimes.alert_service import running_services
    from app.ui.lineup import LineupTab

    with _window(qtbot, door_ctx, "producer") as window:
        assert _labels(window) == ["&Lineup", "&Call times", "S&ync"]
        assert window.door is None
        assert isinstance(window.tabs.currentWidget(), LineupTab)
        assert isinstance(window.calltimes, CallTimesTab)
        assert window.calltimes.alerts in running_services()
        assert not window.calltimes.alert_stack.held  # no door here: alerts show
        assert not window.sync.enrol_kiosk_button.isVisibleTo(window.sync)
        with pytest.raises(KeyError):
            window.audit  # noqa: B018 (the audit trail is the organizer's)


@pytest.mark.parametrize(("role", "enrols"), [("organizer", False), ("admin", True), (None, True)])
def test_organizers_and_admins_see_everything(qtbot, door_ctx, role, enrols):
    from app.ui.organizer.audit_tab import AuditTab

    with _window(qtbot, door_ctx, role) as window:
        assert _labels(window) == ALL
        assert isinstance(window.audit, AuditTab)
        assert window.sync.enrol_kiosk_button.isVisibleTo(window.sync) is enrols
        assert window.sync.enrol_device_button.isVisibleTo(window.sync)


def test_an_unknown_role_gets_the_door_only(qtbot, door_ctx):
    with _window(qtbot, door_ctx, "janitor") as window:
        assert _labels(window) == ["&Door"]


def test_no_call_time_toast_while_a_verdict_shows(qtbot, door_ctx):
    with _window(qtbot, door_ctx, "organizer") as window:
        stack = window.calltimes.alert_stack
        ticket = fresh_tickets(door_ctx, 1)[0]
        window.door.scan_code(ticket[1])
        qtbot.waitUntil(lambda: window.door.last_result is not None, timeout=5000)
        assert window.tabs.currentWidget() is window.door

        toast = stack.show_alert("Ana Silva is due at 17:30", "Not arrived", "late")
        # Held: this one and any real call alert the scheduler found meanwhile.
        assert stack.held and not toast.isVisible() and stack.visible_messages() == []

        window.tabs.setCurrentWidget(window.calltimes)  # where call times are: shown
        assert toast.isVisible() and "Not arrived" in stack.visible_messages()

        window.door.scan_code("SD1-NOT-A-TICKET")  # a scan brings the door forward: hidden
        qtbot.waitUntil(lambda: window.tabs.currentWidget() is window.door, timeout=5000)
        assert not toast.isVisible() and toast in stack.toasts

        window.tabs.setCurrentWidget(window.lineup)
        assert toast.isVisible()
        window.door.enter_kiosk_mode(window)  # a locked kiosk: the door only, nothing over it
        assert window.tabs.currentWidget() is window.door and not toast.isVisible()
        window.door.kiosk.unlock()


def test_a_producer_kiosk_is_locked_too(qtbot, door_ctx):
    """`--kiosk` on a producer's tablet: fullscreen, closing refused, every producer screen
    usable; a door volunteer's badge cannot take it out of kiosk mode, the kiosk PIN can."""
    from sqlalchemy import select

    from app.store.models import Staff
    from app.store.staff import badge_payload
    from app.ui.qt import QKeySequence, Qt

    door_ctx.config.kiosk_pin = "8642"
    with _window(qtbot, door_ctx, "producer") as window:
        window.enter_kiosk_mode()
        qtbot.waitUntil(lambda: window.kiosk.state is not None, timeout=5000)
        assert window.kiosk.locked and window.isFullScreen()
        assert window.kiosk_button.text() == "Leave kiosk mode… (Ctrl+Shift+K)"
        window.close()
        assert window.isVisible() and window.kiosk.refused == 1
        window.tabs.setCurrentWidget(window.calltimes)  # the role's screens stay usable
        assert window.tabs.currentWidget() is window.calltimes

        with door_ctx.db.session() as session:
            volunteer = session.scalars(select(Staff).where(Staff.role == "door")).first()
            volunteer_badge = badge_payload(volunteer.badge_code)
        qtbot.keyClick(
            window,
            Qt.Key.Key_K,
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
        )
        dialog = window.kiosk.dialog
        assert dialog is not None and dialog.isVisible()
        dialog.badge_field.setText(volunteer_badge)
        dialog.field.setText("2468")  # the volunteer's right PIN: not enough to leave
        dialog.try_pin()
        qtbot.waitUntil(lambda: "cannot do this here" in dialog.message.text(), timeout=5000)
        assert window.kiosk.locked

        dialog.badge_field.clear()
        dialog.field.setText("8642")
        dialog.try_pin()
        qtbot.waitUntil(lambda: not window.kiosk.locked, timeout=5000)
        assert window.kiosk_button.text() == "Kiosk mode (Ctrl+Shift+K)"
        assert QKeySequence("Ctrl+Shift+K").toString() in window.kiosk_button.text()
