"""Screens follow the device's role: a door kiosk shows the door only (no backstage names, no
call-time alerts, no audit trail); a producer lineup and call times; an organizer all, the
audit trail included; an admin all and enrolling devices. Call-time toasts never show while the door (and its verdict) is in front."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any

import pytest

from .conftest import fresh_tickets, no_camera

ALL = ["&Door", "&Lineup", "&Call times", "&Organizer", "&Audit trail", "S&ync"]


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
