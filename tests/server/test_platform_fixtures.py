"""The FashionOS platform's own schemas (tests/fixtures/platform) apply on a bare PostgreSQL and
the platform's everyday writes work on them.

These databases are made on the session server without Showdesk's migrations; they are the
"before" against which a test can check that Showdesk's migrations leave the platform alone.
"""

from __future__ import annotations

import re
from typing import Any

import psycopg
import pytest

from tests.support.pg import PgServer, migration_files
from tests.support.platform import (
    DOCUMENTS,
    PLATFORM_DIR,
    apply_platform,
    platform_database,
    platform_everyday_writes,
    snapshot_platform,
)

pytestmark = pytest.mark.postgres


def _scalar(conn: psycopg.Connection, query: str, *params: Any) -> Any:
    row = conn.execute(query, params).fetchone()
    return row[0] if row else None


def _row(conn: psycopg.Connection, query: str, *params: Any) -> tuple:
    return tuple(conn.execute(query, params).fetchone())


def _auth_functions(conn: psycopg.Connection) -> dict[str, tuple[str, str]]:
    return {
        name: (result, definition)
        for name, result, definition in conn.execute(
            "SELECT p.proname, pg_get_function_result(p.oid), pg_get_functiondef(p.oid)"
            " FROM pg_proc p WHERE p.pronamespace = 'auth'::regnamespace"
        )
    }


def _showdesk_bootstrap() -> str:
    first = migration_files()[0]
    assert first.name.startswith("0001_")
    return first.read_text()


def test_stubs_rerun_and_keep_showdesk_bootstrap_functions(pg_server: PgServer):
    """Showdesk's 0001 first, then the stubs (twice): its auth functions stay, the rest is added.

    (The other order, stubs then 0001, is checked at the end of each document chain below.)
    """
    name = pg_server.create_database(template=None)
    try:
        with pg_server.connect(name) as conn:
            conn.execute(_showdesk_bootstrap())
            showdesk_functions = _auth_functions(conn)
            apply_platform(conn)
            apply_platform(conn)
            functions = _auth_functions(conn)
            assert {k: functions[k] for k in showdesk_functions} == showdesk_functions
            assert {k: v[0] for k, v in functions.items()} == {
                "uid": "uuid",
                "role": "text",
                "jwt": "jsonb",
                "email": "text",
            }
            assert _scalar(conn, "SELECT to_regclass('auth.users')::text") == "auth.users"
            assert dict(
                conn.execute(
                    "SELECT extname, extnamespace::regnamespace::text FROM pg_extension"
                    " WHERE extname <> 'plpgsql'"
                ).fetchall()
            ) == {"uuid-ossp": "extensions", "pgcrypto": "extensions", "pg_trgm": "extensions"}
            with conn.transaction():
                conn.execute(
                    "SELECT set_config('request.jwt.claims', %s, true)",
                    ('{"sub": "8d0fd2b6-9c8e-4d3f-9a51-0c8a4bd2e2a1", "role": "authenticated"}',),
                )
                assert _row(conn, "SELECT auth.uid()::text, auth.role()") == (
                    "8d0fd2b6-9c8e-4d3f-9a51-0c8a4bd2e2a1",
                    "authenticated",
                )
        with pg_server.connect(name) as conn:  # a new session gets Supabase's search_path
            assert _scalar(conn, "SHOW search_path") == '"$user", public, extensions'
            assert _scalar(conn, "SELECT uuid_generate_v4() IS NOT NULL") is True
    finally:
        pg_server.drop_database(name)


# --- what each document's writes must have left ----------------------------------------------


def _check_fashionistas(conn: psycopg.Connection, ids: dict[str, Any]) -> None:
    assert ids["stale_ticket_type_update_rejected"] is True
    assert _row(
        conn,
        "SELECT version, remaining_capacity FROM ticket_types WHERE id = %s",
        ids["ticket_type"],
    ) == (2, 38)
    orders = conn.execute(
        "SELECT appearance_order FROM runway_appearances WHERE runway_segment_id = %s"
        " ORDER BY appearance_order",
        (ids["runway_segment"],),
    ).fetchall()
    assert [r[0] for r in orders] == [1, 10]
    assert _scalar(conn, "SELECT status FROM orders WHERE id = %s", ids["order"]) == "completed"
    assert _scalar(conn, "SELECT status FROM events WHERE id = %s", ids["event"]) == "published"
    # create_audit_log read the request headers PostgREST sets
    audited = _scalar(
        conn,
        "SELECT count(*) FROM audit_logs WHERE record_id = %s AND ip_address = '203.0.113.7'",
        ids["order"],
    )
    assert audited == 2
    locks = _scalar(
        conn, "SELECT count(*) FROM ticket_inventory_locks WHERE order_id = %s", ids["order"]
    )
    assert locks == 0


def _check_ai_event_management(conn: psycopg.Connection, ids: dict[str, Any]) -> None:
    status, checked_in, qr = _row(
        conn,
        "SELECT status, check_in_time IS NOT NULL, qr_code_data FROM tickets WHERE id = %s",
        ids["tickets"][0],
    )
    assert (status, checked_in) == ("used", True) and qr.startswith("QR:")
    available = _scalar(
        conn,
        "SELECT available_quantity FROM ticket_categories WHERE id = %s",
        ids["ticket_category"],
    )
    assert available == 99
    org = _scalar(conn, "SELECT organization_id::text FROM events WHERE id = %s", ids["event"])
    assert org == ids["organization"]


def _check_fashionos_expansion(conn: psycopg.Connection, ids: dict[str, Any]) -> None:
    assert _row(
        conn,
        "SELECT status, checked_in_at IS NOT NULL FROM registrations WHERE id = %s",
        ids["registration"],
    ) == ("attended", True)
    assert _scalar(conn, "SELECT count(*) FROM event_models WHERE event_id = %s", ids["event"]) == 1
    assert (
        _scalar(conn, "SELECT time FROM call_times WHERE id = %s", ids["call_times"][0]) == "13:30"
    )
    sold = _scalar(conn, "SELECT quantity_sold FROM ticket_tiers WHERE id = %s", ids["ticket_tier"])
    assert sold == 1


def _check_event_checkins(conn: psycopg.Connection, ids: dict[str, Any]) -> None:
    checkin = _row(
        conn,
        "SELECT c.check_out_time IS NOT NULL, c.is_present, c.check_in_method,"
        " c.qr_code_scanned = a.qr_code, a.checked_in"
        " FROM event_checkins c JOIN attendees a ON a.id = c.attendee_id WHERE c.id = %s",
        ids["event_checkins"][0],
    )
    assert checkin == (True, False, "qr_code", True, True)
    count = _scalar(
        conn, "SELECT count(*) FROM event_checkins WHERE attendee_id = %s", ids["attendee"]
    )
    assert count == 1


CHECKS = {
    "fashionistas": _check_fashionistas,
    "ai_event_management": _check_ai_event_management,
    "fashionos_expansion": _check_fashionos_expansion,
    "event_checkins": _check_event_checkins,
}


def _check_fashionistas_schema(tables: dict[str, Any]) -> None:
    """The fixture's changes to the document: what it kept, what it made instead."""
    assert tables["events"]["kind"] == "r" and "events_current" not in tables
    assert tables["orders"]["kind"] == "r" and "orders_archive" not in tables
    assert {p[0] for p in tables["events"]["policies"]} == {
        "events_public_access",
        "events_organizer_access",
        "event_access_policy",
    }
    assert any(
        i[0] == "ticket_inventory_locks_ticket_type_id_order_id_key"
        and "WHERE (order_id IS NOT NULL)" in i[1]
        for i in tables["ticket_inventory_locks"]["indexes"]
    )
    assert ("runway_appearances_runway_segment_id_appearance_order_key", "u") in {
        c[:2] for c in tables["runway_appearances"]["constraints"]
    }
    assert any(t[0] == "ticket_types_update_trigger" for t in tables["ticket_types"]["triggers"])
    for partitioned in ("sponsor_analytics", "campaign_analytics", "user_engagement"):
        assert tables[f"{partitioned}_partitioned"]["kind"] == "p"
    assert "idx_venues_location" not in {i[0] for i in tables["venues"]["indexes"]}


def _check_ai_event_management_schema(tables: dict[str, Any]) -> None:
    assert len(tables["events"]["policies"]) == 8 and tables["events"]["rls"] is True
    assert tables["team_assignments"]["rls"] is False  # RLS only on the seven tables named
    assert sum(t["rls"] for t in tables.values()) == 7
    assert any(
        "(organization_id)::text = (auth.jwt() ->> 'organization_id'::text)" in (p[4] or "")
        for p in tables["venues"]["policies"]
    )


SCHEMA_CHECKS = {
    "fashionistas": _check_fashionistas_schema,
    "ai_event_management": _check_ai_event_management_schema,
}


@pytest.mark.parametrize(
    "chain",
    [
        ("fashionistas", "fashionos_expansion", "event_checkins"),
        ("ai_event_management", "event_checkins", "fashionos_expansion"),
    ],
    ids=["fashionistas", "ai_event_management"],
)
def test_documents_apply_and_everyday_writes_succeed(pg_server: PgServer, chain):
    """Each base, then the add-ons on it (in both orders); after each document, its writes."""
    with platform_database(pg_server) as name, pg_server.connect(name) as conn:
        for document in chain:
            apply_platform(conn, document)
            ids = platform_everyday_writes(conn, document)
            assert ids["document"] == document and ids["base"] == chain[0]
            CHECKS[document](conn, ids)
            if document != chain[0]:
                CHECKS[chain[0]](conn, ids)  # an add-on's writes include its base's
        again = platform_everyday_writes(conn, chain[-1])  # repeatable on the same database
        assert again["event"] != ids["event"]
        CHECKS[chain[-1]](conn, again)

        snapshot = snapshot_platform(conn)
        SCHEMA_CHECKS[chain[0]](snapshot["tables"])
        auth = _auth_functions(conn)
        apply_platform(conn)  # the stubs again, then Showdesk's bootstrap: nothing changes
        conn.execute(_showdesk_bootstrap())
        assert _auth_functions(conn) == auth
        assert snapshot_platform(conn) == snapshot


class _Rollback(Exception):
    pass


def test_snapshot_describes_public_and_notices_changes(pg_server: PgServer):
    with (
        platform_database(pg_server, "ai_event_management") as name,
        pg_server.connect(name) as conn,
    ):
        before = snapshot_platform(conn)
        conn.execute("SET search_path = pg_catalog")  # deparsing does not depend on it
        assert snapshot_platform(conn) == before
        assert _scalar(conn, "SHOW search_path") == "pg_catalog"
        conn.execute("RESET search_path")

        tables, functions = before["tables"], before["functions"]
        tickets = tables["tickets"]
        assert ("id", "uuid", True, "gen_random_uuid()", "", "") in tickets["columns"]
        assert ("qr_code_data", "text", True, None, "", "") in tickets["columns"]
        assert ("ticket_availability_trigger", "O") in {(t[0], t[2]) for t in tickets["triggers"]}
        assert ("tickets_ticket_number_key", "u") in {c[:2] for c in tickets["constraints"]}
        assert tickets["rls"] is True and tickets["rows"] == 0
        risk_level = tables["event_risks"]["columns"][6]
        assert (risk_level[0], risk_level[4]) == ("risk_level", "s")  # GENERATED ... STORED
        assert "=arwdDxt/postgres" in " ".join(tickets["acl"])  # Supabase's default grants
        assert "available_quantity - 1" in functions["update_ticket_availability()"]["definition"]
        assert not any(f.startswith("uuid_generate") for f in functions)  # in extensions
        assert set(tables) >= {"organizations", "users", "events", "ticket_orders", "tickets"}

        changes = [
            "ALTER TABLE tickets ALTER COLUMN status DROP DEFAULT",
            "ALTER TABLE tickets ALTER COLUMN qr_code_data DROP NOT NULL",
            "ALTER TABLE tickets ADD COLUMN checked_in_by uuid",
            "ALTER TABLE tickets DISABLE TRIGGER ticket_availability_trigger",
            "ALTER TABLE tickets DROP CONSTRAINT tickets_ticket_number_key",
            "ALTER INDEX tickets_pkey RENAME TO tickets_pk",
            "ALTER TABLE tickets ADD CONSTRAINT probe CHECK (price_paid >= 0) NOT VALID",
            "CREATE INDEX probe ON tickets (status)",
            "CREATE POLICY probe ON tickets FOR SELECT USING (true)",
            "ALTER TABLE team_assignments ENABLE ROW LEVEL SECURITY",
            "REVOKE ALL ON tickets FROM anon",
            "CREATE OR REPLACE FUNCTION update_updated_at_column() RETURNS trigger"
            " LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
            "CREATE FUNCTION showdesk_probe() RETURNS int LANGUAGE sql AS 'SELECT 1'",
            "INSERT INTO organizations (name, slug) VALUES ('Probe', 'probe')",
            "CREATE VIEW probe AS SELECT 1 AS one",
        ]
        for change in changes:
            with pytest.raises(_Rollback), conn.transaction():
                conn.execute(change)
                assert snapshot_platform(conn) != before, change
                raise _Rollback
        assert snapshot_platform(conn) == before

        platform_everyday_writes(conn, "ai_event_management")
        after = snapshot_platform(conn)
        assert after["functions"] == before["functions"]
        changed = {t for t in tables if after["tables"][t] != tables[t]}
        assert {"organizations", "users", "events", "tickets", "audit_logs"} <= changed
        for t in changed:  # only the row counts moved
            assert {**after["tables"][t], "rows": 0} == {**tables[t], "rows": 0}


def test_readme_lists_every_fixture_and_its_changes():
    """README.md has a row per fixture whose last cell counts the file's FIXTURE CHANGEs."""
    readme = (PLATFORM_DIR / "README.md").read_text()
    rows = {
        m.group(1): int(m.group(2))
        for m in re.finditer(r"^\| `(\w+)\.sql` \|.*\| (\d+) \|$", readme, flags=re.M)
    }
    expected = {
        document: len(
            re.findall(
                r"^\s*-- FIXTURE CHANGE:",
                (PLATFORM_DIR / f"{document}.sql").read_text(),
                flags=re.M,
            )
        )
        for document in ("supabase_stubs", *DOCUMENTS)
    }
    assert rows == expected
