"""The hub as the app starts it: on a laptop whose internet is already gone, the hub fills
itself from the laptop's own replica, so doors can still join and share one authority."""

from __future__ import annotations

import shutil

import pytest

from app.config import Config
from app.sync.hub.join import HubBackend, join_hub
from app.sync.hub.server import parse_join
from app.sync.hub.service import HubService
from app.sync.localpg import free_port
from tests.hub.conftest import hub_folder

pytestmark = pytest.mark.postgres


def test_a_hub_started_offline_serves_the_event_from_the_organizers_replica(world):
    north_device = world.sdb.create_device(world.org, "North door")
    laptop = world.kiosk("Organizer laptop", staff_role="organizer")
    laptop.engine.sync_once()  # before the internet died
    folder = hub_folder()
    service = HubService(
        Config(backend="none"),
        laptop.db,
        world.event_id,
        laptop.device_id,
        folder / "hub",
        free_port(),
    )
    try:
        state = service.start()
        assert state.running and state.internet is None and state.kiosks == []
        assert "Internet: not set up" in state.headline()
        code = service.new_code("door")
        credential = join_hub(
            parse_join(code.payload.replace(code.addresses[0], "127.0.0.1")),
            north_device,
            "North door",
            world.folder / "north.pem",
        )
        hub = HubBackend(credential)
        page = hub.pull(world.event_id, "", 5000)
        tickets = [c for c in page.changes if c["table"] == "tickets"]
        assert len(tickets) == len(world.tickets)
        state = service.state()
        assert state.connected == 1 and "1 kiosk connected" in state.headline()
        assert service.revoke(north_device) == 1
        hub.close()
    finally:
        service.stop()
        shutil.rmtree(folder, ignore_errors=True)
    assert not service.state().running
