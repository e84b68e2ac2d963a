"""Venue-hub fixtures: a real server (PostgreSQL with migrations/supabase), a real hub
(another PostgreSQL cluster with TLS, started by app.sync.hub.server.Hub on a loopback port),
its relay, and kiosks with real SQLite replicas that join the hub with real join codes.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from app.store.db import open_database, set_meta
from app.sync.backends import PostgresBackend
from app.sync.engine import SyncEngine
from app.sync.hub.join import HubBackend, HubCredential, join_hub
from app.sync.hub.relay import Relay
from app.sync.hub.routing import RoutedBackend
from app.sync.hub.server import Hub, parse_join
from app.sync.localpg import free_port
from tests.sync.conftest import Kiosk, world  # noqa: F401 - the sync tests' world, here too

pytestmark = pytest.mark.postgres


def hub_folder() -> Path:
    """A folder the hub's server may use: PostgreSQL runs as ``postgres`` when tests run as
    root, and pytest's tmp_path is private to root."""
    folder = Path(tempfile.mkdtemp(prefix="showdesk-hub-test-"))
    os.chmod(folder, 0o755)
    return folder


@dataclass
class Venue:
    """One organization's event on the server, its venue hub and the hub's relay."""

    sdb: object  # tests.support.pg.SupabaseDB
    org: object  # tests.support.pg.OrgFixture
    tickets: list[str]
    hub: Hub
    hub_device: str
    relay: Relay
    folder: Path
    kiosks: list[Kiosk] = field(default_factory=list)

    @property
    def event_id(self) -> str:
        return self.org.event_id

    def server_backend(self, device_id: str, staff_role: str = "door", dsn: str | None = None):
        claims = self.sdb.claims(self.org, staff_role=staff_role, device_id=device_id)
        return PostgresBackend(dsn or self.sdb.dsn, "authenticated", claims, timeout=5)

    def join(
        self, name: str, role: str = "door", device_id: str | None = None
    ) -> tuple[str, HubCredential]:
        """A device of the organization on the server, known to the hub, joined with a code."""
        device = device_id or self.sdb.create_device(self.org, name, "Main")
        self.relay.run_once()  # the hub learns the device from the server
        code = self.hub.create_join_code(role, ["127.0.0.1"])
        credential = join_hub(
            parse_join(code.payload), device, name, self.folder / f"{device}-hub.pem"
        )
        return device, credential

    def kiosk(
        self,
        name: str,
        role: str = "door",
        *,
        server: bool = True,
        server_dsn: str | None = None,
    ) -> Kiosk:
        """A kiosk joined to the hub; with ``server`` it also reaches the server directly."""
        device, credential = self.join(name, role)
        db = open_database(self.folder / f"{name.replace(' ', '_')}.sqlite")
        with db.session() as session:
            set_meta(session, "device_id", device)
            set_meta(session, "event_id", self.event_id)
        backend = RoutedBackend(
            HubBackend(credential),
            self.server_backend(device, role, server_dsn) if server else None,
        )
        engine = SyncEngine(db, backend, self.event_id, device)
        kiosk = Kiosk(name, device, db, engine, "Main")
        self.kiosks.append(kiosk)
        return kiosk

    def server_checkins(self) -> list[dict]:
        return self.sdb.execute("select * from checkins order by scanned_at, id")


@pytest.fixture
def hub_root() -> Iterator[Path]:
    folder = hub_folder()
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def hub_template() -> Iterator[Path]:
    """One stopped hub folder (initdb, certificate, every migration) that each test copies:
    a first start costs about 2 s, a copy 0.2 s. Tests of the first start itself (the
    process tests, the swapped certificate) make their own."""
    folder = hub_folder()
    Hub(folder / "hub", free_port(), listen="127.0.0.1").start().stop()
    yield folder / "hub"
    shutil.rmtree(folder, ignore_errors=True)


def copy_hub(template: Path, root: Path) -> Hub:
    """A started hub in ``root`` from a copy of ``template`` (files owned by the server user)."""
    shutil.copytree(template, root, symlinks=True)
    hub = Hub(root, free_port(), listen="127.0.0.1")
    hub.pg.chown_tree(root)
    return hub.start()


@pytest.fixture
def venue(supabase_db, hub_root, hub_template, tmp_path) -> Iterator[Venue]:
    org = supabase_db.create_org("Maison Hub")
    tickets = supabase_db.create_tickets(org, 12)
    hub_device = supabase_db.create_device(org, "Organizer laptop", "Office")
    hub = copy_hub(hub_template, hub_root / "hub")
    hub.configure(org.id, org.event_id, hub_device)
    upstream = PostgresBackend(
        supabase_db.dsn,
        "authenticated",
        supabase_db.claims(org, staff_role="organizer", device_id=hub_device),
        timeout=5,
    )
    relay = Relay(hub, upstream, org.event_id)
    relay.run_once()
    v = Venue(supabase_db, org, tickets, hub, hub_device, relay, tmp_path)
    yield v
    for kiosk in v.kiosks:
        kiosk.engine.backend.close()
        kiosk.db.close()
    upstream.close()
    hub.stop()
