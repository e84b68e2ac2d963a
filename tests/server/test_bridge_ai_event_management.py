"""The bridge to the platform's AI event management schema, on a real PostgreSQL.

The platform's SQL (tests/fixtures/platform/ai_event_management.sql) is applied as written and
written to as the platform would; then Showdesk's migrations are applied over it. The platform
must keep working exactly as before, while kiosks sync its events, admit its tickets by the
platform's own QR codes and write each admission back into the platform's ticket row.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from tests.support.pg import OrgFixture, PgServer, SupabaseDB, apply_migrations, mutation
from tests.support.platform import (
    apply_platform,
    bridged_database,
    platform_everyday_writes,
    snapshot_platform,
)
from tests.sync.conftest import World

pytestmark = pytest.mark.postgres

DOC = "ai_event_management"


def without_showdesk(snapshot: dict[str, Any]) -> dict[str, Any]:
    """A platform snapshot less what Showdesk may add: showdesk_* functions in public and the
    showdesk_bridge triggers on bridged tables (no column, constraint, index or policy)."""
    tables = {}
    for name, table in snapshot["tables"].items():
        table = dict(table)
        table["triggers"] = [t for t in table["triggers"] if t[0] != "showdesk_bridge"]
        tables[name] = table
    functions = {k: v for k, v in snapshot["functions"].items() if not k.startswith("showdesk_")}
    return {**snapshot, "tables": tables, "functions": functions}


def platform_sale(conn: psycopg.Connection, org_name: str, tickets: int = 3) -> dict[str, Any]:
    """What the platform writes when an organization sells tickets for an event tonight."""
    sfx = uuid.uuid4().hex[:8]
    now = datetime.now(UTC)
    ids: dict[str, Any] = {}
    with conn.transaction():
        conn.execute("SET LOCAL search_path = public, extensions")
        one = lambda q, *a: conn.execute(q, a).fetchone()[0]  # noqa: E731
        ids["org"] = str(
            one(
                "INSERT INTO organizations (name, slug) VALUES (%s, %s) RETURNING id",
                org_name,
                f"org-{sfx}",
            )
        )
        ids["venue"] = str(
            one(
                "INSERT INTO venues (organization_id, name, address, city, country, max_capacity)"
                " VALUES (%s, 'Hall', '1 Rue', 'Paris', 'France', 500) RETURNING id",
                ids["org"],
            )
        )
        ids["event"] = str(
            one(
                "INSERT INTO events (organization_id, name, slug, status, start_datetime,"
                " end_datetime, timezone, venue_id) VALUES (%s, %s, %s, 'active', %s, %s,"
                " 'Europe/Paris', %s) RETURNING id",
                ids["org"],
                f"{org_name} Show",
                f"show-{sfx}",
                now - timedelta(hours=1),
                now + timedelta(hours=5),
                ids["venue"],
            )
        )
        ids["category"] = str(
            one(
                "INSERT INTO ticket_categories (event_id, name, category_type, base_price,"
                " total_quantity, available_quantity) VALUES (%s, 'VIP', 'vip', 120, 100, 100)"
                " RETURNING id",
                ids["event"],
            )
        )
        ids["order"] = str(
            one(
                "INSERT INTO ticket_orders (organization_id, event_id, order_number,"
                " customer_email, customer_name, subtotal, total_amount, payment_status)"
                " VALUES (%s, %s, %s, 'buyer@example.com', 'Bea Buyer', 360, 360, 'paid')"
                " RETURNING id",
                ids["org"],
                ids["event"],
                f"ORD-{sfx}",
            )
        )
        ids["tickets"] = []
        ids["codes"] = []
        for i in range(tickets):
            code = f"FOS-{sfx}-{i}"
            ids["tickets"].append(
                str(
                    one(
                        "INSERT INTO tickets (order_id, ticket_category_id, ticket_number,"
                        " attendee_name, attendee_email, qr_code_data, price_paid)"
                        " VALUES (%s, %s, %s, %s, %s, %s, 120) RETURNING id",
                        ids["order"],
                        ids["category"],
                        f"T-{sfx}-{i}",
                        f"Guest{i} Van Platform",
                        f"guest{i}-{sfx}@example.com",
                        code,
                    )
                )
            )
            ids["codes"].append(code)
    return ids


@pytest.fixture
def bridged(pg_server: PgServer):
    """A database holding the platform's tables with one organization's sale, then Showdesk."""
    with bridged_database(pg_server, (DOC,), lambda c: platform_sale(c, "Maison Platform")) as b:
        yield b


def _world(db: SupabaseDB, sale: dict[str, Any], folder) -> World:
    org = OrgFixture(sale["org"], "Maison Platform", sale["venue"], sale["event"], sale["category"])
    return World(db, org, sale["tickets"], folder)


def _platform_ticket(db: SupabaseDB, ticket: str) -> dict[str, Any]:
    return db.execute("SELECT status, check_in_time FROM public.tickets WHERE id = %s", (ticket,))[
        0
    ]


def test_platform_schema_rows_and_writes_are_unchanged_by_showdesk(pg_server: PgServer):
    name = pg_server.create_database(template=None)
    try:
        with pg_server.connect(name) as conn:
            apply_platform(conn, DOC)
            platform_everyday_writes(conn, DOC)
            before = snapshot_platform(conn)
            apply_migrations(conn)
            after = snapshot_platform(conn)
            assert without_showdesk(after) == without_showdesk(before)
            added = {
                name: [t[0] for t in table["triggers"] if t[0] == "showdesk_bridge"]
                for name, table in after["tables"].items()
            }
            assert {n for n, t in added.items() if t} == {
                "organizations",
                "venues",
                "events",
                "ticket_categories",
                "ticket_orders",
                "tickets",
            }
            # the platform's own everyday writes, triggers and checks included, still work
            ids = platform_everyday_writes(conn, DOC)
            # and were mirrored: the new event, its category and its remaining ticket
            rows = conn.execute(
                "SELECT (SELECT name FROM showdesk.events WHERE id = %s),"
                " (SELECT count(*) FROM showdesk.tickets WHERE event_id = %s),"
                " (SELECT count(*) FROM showdesk.bridge_errors)",
                (ids["event"], ids["event"]),
            ).fetchone()
            assert rows == ("Spring Runway 2027", 1, 0)
            bridges = conn.execute("SELECT showdesk.server_info() ->> 'bridges'").fetchone()[0]
            assert bridges == '["ai_event_management"]'
    finally:
        pg_server.drop_database(name)


def test_kiosk_admits_a_platform_ticket_and_the_platform_sees_it(bridged, tmp_path):
    db, sale = bridged
    world = _world(db, sale, tmp_path)
    kiosk = world.kiosk("North kiosk", "North")
    kiosk.engine.sync_once()
    assert sorted(kiosk.codes()) == sorted(sale["codes"])

    result = kiosk.door().scan(sale["codes"][0])
    assert result.verdict == "admitted"
    assert "Guest0" in (result.attendee_name or "")
    kiosk.engine.sync_once()

    row = _platform_ticket(db, sale["tickets"][0])
    assert row["status"] == "used" and row["check_in_time"] is not None
    assert _platform_ticket(db, sale["tickets"][1]) == {"status": "valid", "check_in_time": None}

    # a second kiosk that has seen the first one's scan refuses the same code
    south = world.kiosk("South kiosk", "South")
    south.engine.sync_once()
    assert south.door().scan(sale["codes"][0]).verdict == "already_admitted"


def test_annulling_the_only_admission_puts_the_platform_ticket_back(bridged, tmp_path):
    db, sale = bridged
    world = _world(db, sale, tmp_path)
    kiosk = world.kiosk("North kiosk", "North")
    kiosk.engine.sync_once()
    door = kiosk.door()
    first = door.scan(sale["codes"][1])
    kiosk.engine.sync_once()
    assert _platform_ticket(db, sale["tickets"][1])["status"] == "used"

    door.annul(first.checkin_id, reason="scanned the wrong guest")
    kiosk.engine.sync_once()
    assert _platform_ticket(db, sale["tickets"][1]) == {"status": "valid", "check_in_time": None}


def test_platform_edits_reach_the_kiosk_and_a_late_commit_is_not_skipped(bridged, tmp_path):
    db, sale = bridged
    world = _world(db, sale, tmp_path)
    kiosk = world.kiosk("North kiosk", "North")
    kiosk.engine.sync_once()

    early = db.connect(autocommit=False)
    early.execute("SET search_path = public, extensions")
    early.execute(
        "UPDATE tickets SET attendee_name = 'Early Writer' WHERE id = %s", (sale["tickets"][0],)
    )  # takes its change number now, commits last
    done = threading.Event()

    def late_but_quick():
        with db.connect() as conn:
            conn.execute("SET search_path = public, extensions")
            conn.execute(
                "UPDATE tickets SET status = 'cancelled' WHERE id = %s", (sale["tickets"][2],)
            )
        done.set()

    worker = threading.Thread(target=late_but_quick)
    worker.start()
    worker.join(10)
    assert done.is_set()
    kiosk.engine.sync_once()  # sees neither: the early transaction holds the watermark
    from sqlalchemy import select

    from app.store.models import Attendee, Ticket

    with kiosk.db.session() as session:
        assert session.get(Ticket, sale["tickets"][2]).status == "valid"
    early.commit()
    early.close()
    kiosk.engine.sync_once()

    with kiosk.db.session() as session:
        statuses = dict(session.execute(select(Ticket.id, Ticket.status)).all())
        names = set(session.scalars(select(Attendee.first_name)))
    assert statuses[sale["tickets"][2]] == "cancelled"
    assert "Early" in names
    assert kiosk.door().scan(sale["codes"][2]).verdict == "cancelled"


def test_another_organization_cannot_admit_or_probe_a_platform_ticket(bridged, pg_server):
    db, sale = bridged
    with pg_server.connect(db.name) as conn:
        other = platform_sale(conn, "Maison Rivale", tickets=1)
    device = db.create_device(other["org"], "Rival kiosk", "Main")
    claims = db.claims(other["org"], "door", device)
    forged = mutation(
        "checkins",
        "insert",
        str(uuid.uuid4()),
        {
            "event_id": other["event"],  # its own event, so the insert itself is allowed...
            "ticket_id": sale["tickets"][0],  # ...naming the victim's platform ticket
            "device_id": device,
            "gate": "Main",
            "direction": "in",
            "method": "qr",
            "kind": "scan",
            "scanned_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "verdict": "admitted",
            "offline": True,
        },
    )
    # refused like a ticket that does not exist (0016), and nothing reaches the victim's row
    assert [r["status"] for r in db.push(claims, device, [forged])] == ["rejected"]
    assert _platform_ticket(db, sale["tickets"][0]) == {"status": "valid", "check_in_time": None}
    # and the rival's kiosk reads nothing of the victim's platform rows
    changes, _ = db.pull_all(claims, other["event"])
    seen = {c["id"] for c in changes}
    assert not seen & {sale["event"], sale["order"], *sale["tickets"]}
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        db.pull(claims, sale["event"])


def test_a_platform_row_showdesk_cannot_mirror_never_fails_the_platform_write(bridged):
    db, sale = bridged
    # the platform allows two tickets with the same QR data; Showdesk's codes are unique
    with db.connect() as conn:
        conn.execute("SET search_path = public, extensions")
        twin = conn.execute(
            "INSERT INTO tickets (order_id, ticket_category_id, ticket_number, attendee_name,"
            " attendee_email, qr_code_data, price_paid) VALUES (%s, %s, 'TWIN', 'Twin Guest',"
            " 'twin@example.com', %s, 120) RETURNING id",
            (sale["order"], sale["category"], sale["codes"][0]),
        ).fetchone()["id"]
    assert db.scalar("SELECT count(*) FROM public.tickets WHERE id = %s", (twin,)) == 1
    errors = db.execute("SELECT bridge, table_name, row_id, message FROM showdesk.bridge_errors")
    assert [(e["bridge"], e["table_name"], e["row_id"]) for e in errors] == [(DOC, "tickets", twin)]
    assert "qr_code_data" in errors[0]["message"] or "unique" in errors[0]["message"].lower()


@pytest.fixture
def bridged_with_records(pg_server: PgServer):
    """The AI base plus the EventOS check-in log and the ERD's attendees (checked_in)."""

    def write(conn: psycopg.Connection) -> dict[str, Any]:
        sale = platform_sale(conn, "Maison Records")
        conn.execute(
            "INSERT INTO public.attendees (ticket_id, qr_code, attendee_info)"
            ' VALUES (%s, %s, \'{"name": "Guest0"}\') RETURNING id',
            (sale["tickets"][0], sale["codes"][0]),
        )
        return sale

    with bridged_database(pg_server, (DOC, "event_checkins"), write) as b:
        yield b


def test_admissions_are_written_into_event_checkins_and_attendees(bridged_with_records, tmp_path):
    db, sale = bridged_with_records
    bridges = db.scalar("SELECT showdesk.server_info() -> 'bridges'")
    assert bridges == ["ai_event_management", "attendee_flags", "event_checkins"]
    world = _world(db, sale, tmp_path)
    kiosk = world.kiosk("North kiosk", "North")
    kiosk.engine.sync_once()
    door = kiosk.door()
    first = door.scan(sale["codes"][0])
    second = door.scan(sale["codes"][1])
    kiosk.engine.sync_once()

    rows = db.execute(
        "SELECT id, event_id, attendee_id, qr_code_scanned, check_in_method, is_present"
        " FROM public.event_checkins ORDER BY check_in_time"
    )
    attendee = db.scalar(
        "SELECT id FROM public.attendees WHERE ticket_id = %s", (sale["tickets"][0],)
    )
    assert [
        (
            str(r["id"]),
            str(r["event_id"]),
            r["attendee_id"],
            r["qr_code_scanned"],
            r["check_in_method"],
            r["is_present"],
        )
        for r in rows
    ] == [
        (first.checkin_id, sale["event"], attendee, sale["codes"][0], "qr_code", True),
        (second.checkin_id, sale["event"], None, sale["codes"][1], "qr_code", True),
    ]
    assert db.scalar("SELECT checked_in FROM public.attendees WHERE id = %s", (attendee,)) is True

    door.annul(first.checkin_id, reason="wrong guest")
    kiosk.engine.sync_once()
    assert [str(r["id"]) for r in db.execute("SELECT id FROM public.event_checkins")] == [
        second.checkin_id
    ]
    assert db.scalar("SELECT checked_in FROM public.attendees WHERE id = %s", (attendee,)) is False
    assert db.scalar("SELECT count(*) FROM showdesk.bridge_errors") == 0


def test_kiosk_and_doctor_say_which_platform_tables_are_bridged(bridged, tmp_path):
    import json

    from app.config import Config
    from app.doctor import check_platform

    db, sale = bridged
    kiosk = _world(db, sale, tmp_path).kiosk("North kiosk", "North")
    assert kiosk.engine.status().server_words is None  # not known before the first sync
    kiosk.engine.sync_once()
    status = kiosk.engine.status()
    assert status.bridges == ["ai_event_management"]
    assert status.server_words == "Bridged to the FashionOS platform's tables: AI event management"

    claims = db.claims(sale["org"], "door", kiosk.device_id)
    config = Config(backend="postgres", postgres_dsn=db.dsn, postgres_claims=json.dumps(claims))
    check = check_platform(config)
    assert (check.status, check.details) == ("ok", {"bridges": ["ai_event_management"]})
    assert "AI event management" in check.message


def test_a_standalone_server_is_named_as_such(supabase_db, tmp_path):
    from app.sync.status import server_words

    org = supabase_db.create_org("Maison Seule")
    supabase_db.create_tickets(org, 1)
    kiosk = World(supabase_db, org, [], tmp_path).kiosk("Kiosk", "Main")
    kiosk.engine.sync_once()
    assert kiosk.engine.status().bridges == []
    assert kiosk.engine.status().server_words == server_words([])
    assert "Standalone" in server_words([])


def test_a_ticket_the_platform_marks_used_is_already_admitted_at_the_door(bridged, tmp_path):
    db, sale = bridged
    kiosk = _world(db, sale, tmp_path).kiosk("North kiosk", "North")
    kiosk.engine.sync_once()
    at = datetime.now(UTC) - timedelta(minutes=3)
    db.execute(  # the platform's own door app checks the guest in
        "UPDATE public.tickets SET status = 'used', check_in_time = %s WHERE id = %s",
        (at, sale["tickets"][2]),
    )
    kiosk.engine.sync_once()
    answer = kiosk.door().scan(sale["codes"][2])
    assert answer.verdict == "already_admitted"
    assert _platform_ticket(db, sale["tickets"][2]) == {"status": "used", "check_in_time": at}
    kiosk.engine.sync_once()
    # the kiosk's refused scan changed nothing on the platform, and nothing was doubled
    assert _platform_ticket(db, sale["tickets"][2]) == {"status": "used", "check_in_time": at}
    assert (
        db.scalar(
            "SELECT count(*) FROM showdesk.checkins WHERE ticket_id = %s AND verdict = 'admitted'",
            (sale["tickets"][2],),
        )
        == 1
    )


def test_a_platform_table_of_the_wrong_shape_stops_the_migration_with_a_sentence(pg_server):
    name = pg_server.create_database(template=None)
    try:
        with pg_server.connect(name) as conn:
            apply_platform(conn, DOC)
            conn.execute("ALTER TABLE public.tickets DROP COLUMN attendee_phone")
            before = snapshot_platform(conn)
            with pytest.raises(RuntimeError) as failed:
                apply_migrations(conn)
            assert (
                "Showdesk bridge ai_event_management needs column attendee_phone (text) of the "
                "platform table public.tickets, which has no such column."
            ) in str(failed.value)
            # stopped before installing anything on the platform's tables
            assert without_showdesk(snapshot_platform(conn)) == without_showdesk(before)
            assert not any(
                t[0] == "showdesk_bridge"
                for table in snapshot_platform(conn)["tables"].values()
                for t in table["triggers"]
            )
    finally:
        pg_server.drop_database(name)
