"""The Venue hub screen, on a real hub: start it, make a join code whose QR a real decoder
reads back, see the kiosk that joined with it, revoke it, stop the hub."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from app.store.models import Device, Event
from app.sync.hub.join import HubBackend, join_hub
from app.sync.hub.server import parse_join
from app.sync.hub.service import HubService
from app.sync.localpg import free_port
from app.ui.qt import QImage, Qt
from tests.hub.conftest import hub_folder

pytestmark = pytest.mark.postgres


def _pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height = image.width(), image.height()
    data = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes())
    rows = data.reshape(height, image.bytesPerLine())[:, : width * 3]
    return rows.reshape(height, width, 3)[:, :, ::-1].copy()  # RGB -> BGR


@pytest.fixture
def hub_service(door_ctx):
    """A HubService for the demo replica, in its own folder and port; stopped after."""
    folder = hub_folder()
    service = HubService(
        door_ctx.config,
        door_ctx.db,
        door_ctx.event_id,
        door_ctx.device_id,
        folder / "hub",
        free_port(),
    )
    yield service
    service.stop()
    shutil.rmtree(folder, ignore_errors=True)


def _organization(ctx) -> str:
    with ctx.db.session() as session:
        return session.get(Event, ctx.event_id).organization_id


def test_the_hub_screen_starts_the_hub_joins_and_revokes_a_kiosk(
    qtbot, door_ctx, tmp_path, hub_service
):
    from app.scan.decoders import ZbarDecoder
    from app.ui.hub_tab import VenueHubTab

    with door_ctx.db.session() as session:
        door = Device(organization_id=_organization(door_ctx), name="North door", gate="North")
        session.add(door)
        session.flush()
        door_id = door.id
    tab = VenueHubTab(door_ctx, hub_service)
    qtbot.addWidget(tab)
    tab.resize(1280, 760)
    tab.show()
    try:
        qtbot.waitUntil(lambda: tab.state is not None, timeout=10000)
        assert tab.headline.text() == "Venue hub: off" and not tab.code_button.isEnabled()
        qtbot.mouseClick(tab.start_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: tab.state is not None and tab.state.running, timeout=30000)
        assert tab.headline.text().startswith("Venue hub: running on")
        assert "Internet: not set up" in tab.headline.text()
        tab.code_button.click()
        qtbot.waitUntil(lambda: tab.code is not None, timeout=10000)
        [read] = ZbarDecoder().decode(_pixels(tab.qr.pixmap().toImage()))
        assert read.text == tab.code.payload
        assert tab.code.typed in tab.typed.text()
        ticket = parse_join(read.text)
        ticket = type(ticket)(("127.0.0.1",), ticket.port, ticket.pin, ticket.code)
        credential = join_hub(ticket, door_id, "North door", tmp_path / "north.pem")
        backend = HubBackend(credential)
        backend.pull(door_ctx.event_id, "", 10)
        tab.refresh()
        qtbot.waitUntil(lambda: tab.table.rowCount() == 1, timeout=10000)
        assert [tab.table.item(0, c).text() for c in range(3)] == [
            "North door",
            "door",
            "connected",
        ]
        assert "1 kiosk connected" in tab.headline.text()
        tab.table.selectRow(0)
        tab.revoke_button.click()
        qtbot.waitUntil(
            lambda: tab.table.rowCount() == 1 and tab.table.item(0, 2).text() == "revoked",
            timeout=10000,
        )
        backend.close()
        tab.start_button.click()
        qtbot.waitUntil(lambda: tab.state is not None and not tab.state.running, timeout=30000)
        assert tab.headline.text() == "Venue hub: off"
    finally:
        tab.timer.stop()


def test_a_door_joins_the_hub_by_scanning_its_qr_and_syncs_through_it(
    qtbot, make_door, door_ctx, hub_service
):
    from app.ui.sync_panel import sync_service

    org = _organization(door_ctx)
    with door_ctx.db.session() as session:
        session.merge(Device(id=door_ctx.device_id, organization_id=org, name="North door"))
    service = hub_service
    try:
        service.start()
        code = service.hub.create_join_code("door", ["127.0.0.1"])
        door = make_door()
        door.scan_code(code.payload)
        qtbot.waitUntil(lambda: door.panel.headline.text() == "JOINED THE VENUE HUB", timeout=20000)
        assert door_ctx.config.hub_login and door_ctx.config.hub_port == code.port
        runner = sync_service(door_ctx).runner
        assert runner is not None
        qtbot.waitUntil(lambda: runner.engine.status().routes.hub is True, timeout=20000)
        assert runner.engine.status().route_words.startswith(
            "Internet: not set up · Venue hub: connected"
        )
        assert [k["device_id"] for k in service.hub.kiosks()] == [door_ctx.device_id]
        # the same QR again: a join code works once
        door.scan_code(code.payload)
        qtbot.waitUntil(lambda: "already used" in door.join_dialog.message.text(), timeout=20000)
        door.join_dialog.reject()
    finally:
        for svc in list(door_ctx.services):
            svc.stop()


def test_the_join_dialog_by_keyboard_says_what_is_wrong_then_joins(qtbot, door_ctx, hub_service):
    from app.ui.hub_join import JoinHubDialog

    org = _organization(door_ctx)
    with door_ctx.db.session() as session:
        session.merge(Device(id=door_ctx.device_id, organization_id=org, name="South door"))
    try:
        hub_service.start()
        code = hub_service.hub.create_join_code("door", ["127.0.0.1"])
        dialog = JoinHubDialog(door_ctx)
        qtbot.addWidget(dialog)
        dialog.show()
        assert dialog.address.isVisible()  # typed: the address is asked for
        qtbot.keyClicks(dialog.code, "ABCD-EFGH")
        qtbot.keyClick(dialog.code, Qt.Key.Key_Tab)
        qtbot.keyClicks(dialog.address, f"127.0.0.1:{code.port}")
        qtbot.keyClick(dialog.address, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: "3 groups of 4" in dialog.message.text(), timeout=10000)
        assert dialog.isVisible()
        wrong = code.typed[:-9] + "-00000000"  # the right code, another certificate
        dialog.code.clear()
        qtbot.keyClicks(dialog.code, wrong)
        qtbot.keyClick(dialog.address, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: "different certificate" in dialog.message.text(), timeout=10000)
        dialog.code.clear()
        qtbot.keyClicks(dialog.code, code.typed)
        with qtbot.waitSignal(dialog.joined, timeout=20000):
            qtbot.keyClick(dialog.address, Qt.Key.Key_Return)
        assert not dialog.isVisible()
        assert door_ctx.config.hub_login
    finally:
        for svc in list(door_ctx.services):
            svc.stop()
