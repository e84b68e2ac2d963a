"""The hub's disk fills up mid-event (its folder on a small tmpfs, filled to the last byte):
kiosks keep every scan and go on with the server; once space is freed and the hub restarted,
nothing is lost and nothing is doubled."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from app.sync.backends import PostgresBackend
from app.sync.hub.relay import Relay
from app.sync.hub.server import Hub
from app.sync.localpg import free_port
from tests.hub.conftest import Venue

pytestmark = pytest.mark.postgres


@pytest.fixture
def small_disk():
    folder = Path(tempfile.mkdtemp(prefix="showdesk-hub-disk-"))
    os.chmod(folder, 0o755)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=160m,mode=0755", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"cannot mount a small disk here (needs root): {mounted.stderr.strip()}")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], capture_output=True)
    shutil.rmtree(folder, ignore_errors=True)


def _fill(folder: Path) -> Path:
    filler = folder / "filler"
    with filler.open("wb") as out:
        try:
            while True:
                out.write(b"\0" * (1 << 20))
                out.flush()
        except OSError:
            pass
    return filler


def test_a_full_hub_disk_loses_nothing(supabase_db, small_disk, tmp_path):
    org = supabase_db.create_org("Maison Full")
    tickets = supabase_db.create_tickets(org, 12)
    hub_device = supabase_db.create_device(org, "Organizer laptop", "Office")
    hub = Hub(small_disk / "hub", free_port(), listen="127.0.0.1").start()
    upstream = PostgresBackend(
        supabase_db.dsn,
        "authenticated",
        supabase_db.claims(org, staff_role="organizer", device_id=hub_device),
        timeout=5,
    )
    try:
        hub.configure(org.id, org.event_id, hub_device)
        relay = Relay(hub, upstream, org.event_id)
        relay.run_once()
        venue = Venue(supabase_db, org, tickets, hub, hub_device, relay, tmp_path)
        north = venue.kiosk("North door")
        north.engine.sync_once()
        codes = north.codes()
        filler = _fill(small_disk)
        for code in codes[:6]:
            assert north.door().scan(code).verdict == "admitted"
        north.engine.sync_once()  # the hub cannot write: the server takes them
        assert north.pending() == 0
        routes = north.engine.status().routes
        assert routes.hub is False and routes.internet is True
        assert supabase_db.scalar("select count(*) from checkins") == 6
        # space again; the hub is restarted (it may have stopped itself when its log was full)
        filler.unlink()
        hub.stop()
        hub.start()
        relay.run_once()
        north.engine.backend.hub.retry_at = 0
        north.engine.sync_once()
        north.engine.sync_once()
        assert north.engine.status().routes.primary == "hub"
        for code in codes[6:8]:
            assert north.door().scan(code).verdict == "admitted"
        north.engine.sync_once()
        relay.run_once()
        assert supabase_db.scalar("select count(*) from checkins") == 8
        assert supabase_db.scalar("select count(*) from sync_mutations") == 8
        with hub.connect() as conn:
            assert conn.execute("select count(*) from showdesk.checkins").fetchone()[0] == 8
        for kiosk in venue.kiosks:
            kiosk.engine.backend.close()
            kiosk.db.close()
    finally:
        upstream.close()
        hub.stop()
