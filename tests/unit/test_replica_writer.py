"""The replica's one writer (app.store.replica_writer): the same conversion for wire rows
(pulled pages) and Python rows (demo seeding), upserts that keep what a row does not carry,
the full-resync sweep, and version stamps that leave ``updated_at`` alone."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select

from app.store import replica_writer as replica
from app.store.models import Event, Organization, TicketType
from app.store.serialize import from_wire, row_to_dict


def _wire_type(type_id: str, event_id: str, **changes) -> dict:
    row = {
        "id": type_id,
        "event_id": event_id,
        "name": "VIP",
        "tier": "vip",
        "price": "120.50",
        "currency": "EUR",
        "quantity": 40,
        "sale_starts_at": "2026-03-01T17:00:00+01:00",  # an offset, as PostgreSQL may send
        "sale_ends_at": None,
        "entry_starts_at": "2026-03-01T16:30:00Z",
        "entry_ends_at": "2026-03-01T22:00:00.123456Z",
        "allowed_gates": ["VIP entrance", "North door"],
        "allow_reentry": False,
        "color": "#aa00ff",
        "updated_at": "2026-02-01T10:00:00Z",
    }
    row.update(changes)
    return row


def _event(session) -> str:
    replica.insert_rows(session, Organization, [{"id": "org", "name": "M", "slug": "m"}])
    start = datetime(2026, 3, 1, 18, tzinfo=UTC)
    replica.insert_rows(
        session,
        Event,
        [
            {
                "id": "ev",
                "organization_id": "org",
                "name": "Show",
                "slug": "show",
                "starts_at": start,
                "ends_at": start,
            }
        ],
    )
    return "ev"


def _stored(session, table: str, row_id: str) -> dict:
    cursor = session.connection().exec_driver_sql(
        f'SELECT * FROM "{table}" WHERE id = ?', (row_id,)
    )
    names = [d[0] for d in cursor.cursor.description]
    return dict(zip(names, cursor.one(), strict=True))


def test_a_wire_row_and_the_same_row_built_in_python_are_stored_alike(db) -> None:
    with db.session() as session:
        event_id = _event(session)
        wire = _wire_type("from-wire", event_id)
        assert replica.upsert_wire_rows(session, TicketType, [(wire, 7)]) == 1
        python = {**from_wire(TicketType, wire), "id": "from-python", "server_version": 7}
        assert python["price"] == Decimal("120.50")
        assert python["sale_starts_at"] == datetime(2026, 3, 1, 16, tzinfo=UTC)
        replica.insert_rows(session, TicketType, [python])
        a = _stored(session, "ticket_types", "from-wire")
        b = _stored(session, "ticket_types", "from-python")
    assert {**a, "id": None} == {**b, "id": None}
    assert a["price"] == "120.50" and a["allow_reentry"] == 0
    assert a["sale_starts_at"] == "2026-03-01T16:00:00.000000Z"
    assert a["allowed_gates"] == '["VIP entrance","North door"]'
    with db.session() as session:
        row = session.get(TicketType, "from-wire")
        assert row is not None
        # what the ORM reads back is what from_wire makes, and goes out on the wire unchanged
        assert {k: v for k, v in row_to_dict(row).items() if k != "updated_at"} == {
            k: v
            for k, v in row_to_dict(TicketType(**from_wire(TicketType, wire))).items()
            if k != "updated_at"
        }
        assert row.server_version == 7


def test_an_upsert_replaces_what_the_row_carries_and_keeps_the_rest(db) -> None:
    with db.session() as session:
        event_id = _event(session)
        replica.upsert_wire_rows(session, TicketType, [(_wire_type("t", event_id), 1)])
        # a row carrying only some columns: the nullable ones it lacks keep their values
        partial = {"id": "t", "event_id": event_id, "name": "VIP+", "tier": "vip"}
        replica.upsert_wire_rows(session, TicketType, [(partial, 2)])
        stored = _stored(session, "ticket_types", "t")
        assert (stored["name"], stored["server_version"]) == ("VIP+", 2)
        assert (stored["tier"], stored["quantity"], stored["color"]) == ("vip", 40, "#aa00ff")
        assert stored["sale_starts_at"] == "2026-03-01T16:00:00.000000Z"
        # a new partial row gets the defaults its NOT NULL columns need
        partial = {"id": "new", "event_id": event_id, "name": "Press", "tier": "press"}
        replica.upsert_wire_rows(session, TicketType, [(partial, 3)])
        new = _stored(session, "ticket_types", "new")
    assert (new["price"], new["currency"], new["allowed_gates"]) == ("0", "EUR", "[]")
    assert new["allow_reentry"] == 1 and new["updated_at"] is not None


def test_changes_sweep_and_stamps(db) -> None:
    with db.session() as session:
        event_id = _event(session)
        rows = [(_wire_type(f"t{i}", event_id), i) for i in range(4)]
        written = replica.write_changes(session, {"ticket_types": rows}, {"ticket_types": ["t0"]})
        assert (written.upserted, written.deleted, written.tables) == (4, 1, {"ticket_types"})
        ids = set(session.scalars(select(TicketType.id)))
        assert ids == {"t1", "t2", "t3"}

        before = _stored(session, "ticket_types", "t1")["updated_at"]
        replica.stamp_server_versions(session, "ticket_types", [("t1", 99)])
        replica.stamp_server_versions(session, "not_replicated", [("t1", 5)])  # ignored
        after = _stored(session, "ticket_types", "t1")
        assert (after["server_version"], after["updated_at"]) == (99, before)

        assert replica.write_server_state(session, "ticket_types", "t2", {"deleted": True})
        assert not replica.write_server_state(session, "nope", "t2", {"deleted": True})
        keep = {"organizations": {"org"}, "events": {event_id}, "ticket_types": {"t3"}}
        assert replica.delete_missing(session, keep) == 1  # t1
        assert set(session.scalars(select(TicketType.id))) == {"t3"}
