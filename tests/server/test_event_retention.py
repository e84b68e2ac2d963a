"""0023: the organizer's retention period per event (events.retention_days), against the real
PostgreSQL the suite starts: organizers and admins set it through sync_push, door and producer
devices cannot, the CHECK keeps it within 0..365, every kiosk gets it with its next pull, and
the platform bridge leaves it alone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from app.cli import main
from app.store.db import Database, open_database, set_meta
from app.store.models import Event, OutboxEntry
from app.sync.backends import PostgresBackend
from app.sync.engine import SyncEngine
from tests.support.pg import OrgFixture, PgServer, SupabaseDB, mutation

pytestmark = pytest.mark.postgres


@pytest.fixture
def org(supabase_db: SupabaseDB) -> Iterator[tuple[SupabaseDB, OrgFixture, OrgFixture]]:
    db = supabase_db
    a, b = db.create_org("Alpha"), db.create_org("Beta")
    db.create_device(a, "Door")
    db.create_device(a, "Office")
    db.create_device(b, "Door")
    db.create_tickets(a, 1)
    yield db, a, b


def _days(db: SupabaseDB, event_id: str) -> int | None:
    return db.scalar("SELECT retention_days FROM events WHERE id = %s", (event_id,))


def _version(db: SupabaseDB, event_id: str) -> int:
    return db.scalar("SELECT version FROM events WHERE id = %s", (event_id,))


def _set(days: int | None, event_id: str, base: int | None = None) -> dict:
    return mutation("events", "update", event_id, {"retention_days": days}, base)


def test_a_new_event_leaves_it_to_the_kiosks(org):
    db, a, _b = org
    assert _days(db, a.event_id) is None


def test_organizers_and_admins_set_it_door_and_producer_cannot(org):
    db, a, b = org
    device = a.devices[0]
    for role, days in (("organizer", 3), ("admin", 14)):
        [result] = db.push(db.claims(a, role, device), device, [_set(days, a.event_id)])
        assert result["status"] == "applied", (role, result)
        assert _days(db, a.event_id) == days

    for role in ("door", "producer"):
        claims = db.claims(a, role, device)
        [result] = db.push(claims, device, [_set(60, a.event_id, _version(db, a.event_id))])
        assert result["status"] == "rejected", role
        assert result["reason"].startswith("Not permitted"), result["reason"]
        with db.as_claims(claims) as conn:
            done = conn.execute(
                "UPDATE showdesk.events SET retention_days = 60 WHERE id = %s", (a.event_id,)
            ).rowcount
        assert done == 0, role
    assert _days(db, a.event_id) == 14

    # another organization's organizer does not reach it either
    other = db.claims(b, "organizer", b.devices[0])
    [result] = db.push(other, b.devices[0], [_set(1, a.event_id)])
    assert result["status"] == "rejected"
    assert _days(db, a.event_id) == 14

    # and back to each kiosk's own setting
    [result] = db.push(db.claims(a, "organizer", device), device, [_set(None, a.event_id)])
    assert result["status"] == "applied"
    assert _days(db, a.event_id) is None


def test_the_check_keeps_it_within_0_to_365(org):
    db, a, _b = org
    organizer = db.claims(a, "organizer", a.devices[0])
    results = db.push(
        organizer,
        a.devices[0],
        [_set(400, a.event_id), _set(-1, a.event_id), _set(0, a.event_id), _set(365, a.event_id)],
    )
    assert [r["status"] for r in results] == ["rejected", "rejected", "applied", "applied"]
    assert "events_retention_days_range" in results[0]["reason"]
    assert _days(db, a.event_id) == 365
    with pytest.raises(psycopg.errors.CheckViolation):  # even for the server's own writes
        db.execute("UPDATE events SET retention_days = 400 WHERE id = %s", (a.event_id,))


def _kiosk(
    db: SupabaseDB, org: OrgFixture, device: str, role: str, path: Path
) -> tuple[Database, PostgresBackend, SyncEngine]:
    replica = open_database(path)
    with replica.session() as s:
        set_meta(s, "device_id", device)
        set_meta(s, "event_id", org.event_id)
    backend = PostgresBackend(db.dsn, "authenticated", db.claims(org, role, device), timeout=5)
    return replica, backend, SyncEngine(replica, backend, org.event_id, device)


def _replica_days(replica: Database, event_id: str) -> int | None:
    with replica.session() as s:
        event = s.get(Event, event_id)
        assert event is not None
        return event.retention_days


def test_the_organizers_command_reaches_a_door_kiosk_with_its_next_pull(org, tmp_path, capsys):
    db, a, _b = org
    door_device, office_device = a.devices[0], a.devices[1]
    office_path = tmp_path / "office.sqlite"
    door, door_backend, door_engine = _kiosk(db, a, door_device, "door", tmp_path / "door.sqlite")
    office, office_backend, office_engine = _kiosk(db, a, office_device, "organizer", office_path)
    try:
        door_engine.sync_once()
        office_engine.sync_once()
        assert _replica_days(door, a.event_id) is None
        office.close()  # the command opens the file itself

        assert main(["event", "retention", "--days", "3", "--db", str(office_path)]) == 0
        assert "next pull" in capsys.readouterr().out
        office = open_database(office_path)
        office_engine = SyncEngine(office, office_backend, a.event_id, office_device)
        report = office_engine.sync_once()
        assert report.push.applied == 1 and report.push.rejected == 0
        assert _days(db, a.event_id) == 3
        with office.session() as s:
            assert s.query(OutboxEntry).count() == 0

        door_engine.sync_once()
        assert _replica_days(door, a.event_id) == 3

        # a door kiosk's own attempt is refused by the server (the command refuses earlier
        # when the device is enrolled as one): the organizer's value stands
        with door.session() as s:
            from app.store import outbox

            event = s.get(Event, a.event_id)
            assert event is not None
            event.retention_days = 90
            outbox.record(s, event, "update", fields=["retention_days"])
        report = door_engine.sync_once()
        assert report.push.rejected == 1 and report.push.applied == 0
        assert _days(db, a.event_id) == 3

        office.close()
        assert main(["event", "retention", "--days", "default", "--db", str(office_path)]) == 0
        office = open_database(office_path)
        office_engine = SyncEngine(office, office_backend, a.event_id, office_device)
        office_engine.sync_once()
        assert _days(db, a.event_id) is None
        # the next change of the row brings the server's value back to the door kiosk
        door_engine.sync_once()
        assert _replica_days(door, a.event_id) is None
    finally:
        door_backend.close()
        office_backend.close()
        door.close()
        office.close()


def test_the_platform_bridge_does_not_overwrite_it(pg_server: PgServer):
    from tests.server.test_bridge_ai_event_management import DOC, platform_sale
    from tests.support.platform import bridged_database

    with bridged_database(pg_server, (DOC,), lambda c: platform_sale(c, "Maison Bridge")) as (
        db,
        sale,
    ):
        event_id = sale["event"]
        db.execute("UPDATE showdesk.events SET retention_days = 5 WHERE id = %s", (event_id,))
        with db.connect() as conn:
            conn.execute("SET search_path = public, extensions")
            conn.execute("UPDATE events SET name = 'Renamed Show' WHERE id = %s", (event_id,))
        row = db.execute(
            "SELECT name, retention_days FROM showdesk.events WHERE id = %s", (event_id,)
        )[0]
        assert row == {"name": "Renamed Show", "retention_days": 5}
