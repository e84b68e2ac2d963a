"""A project that ran the first Showdesk migrations (everything in public) upgrades in place.

``tests/fixtures/supabase_v1`` holds those files exactly as they shipped. A kiosk syncs and
queues a scan against them; the current migrations are then applied over the same database.
The data, the idempotency records and the kiosk's cursor must all survive the move into
schema ``showdesk``, and public must keep nothing of Showdesk but the API wrappers.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from tests.support.pg import PgServer, SupabaseDB, apply_migrations, mutation

pytestmark = pytest.mark.postgres

V1_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "supabase_v1"


def _scan(event_id: str, ticket: str, device: str, at: str) -> dict:
    return mutation(
        "checkins",
        "insert",
        str(uuid.uuid4()),
        {
            "event_id": event_id,
            "ticket_id": ticket,
            "device_id": device,
            "gate": "North",
            "direction": "in",
            "method": "qr",
            "kind": "scan",
            "scanned_at": at,
            "verdict": "admitted",
            "offline": True,
        },
    )


def _v1_pull_all(db: SupabaseDB, claims: dict, event_id: str) -> tuple[list[dict], str]:
    changes: list[dict] = []
    cursor = None
    while True:
        with db.as_claims(claims) as conn:
            page = conn.execute(
                "SELECT public.sync_pull(%s, %s, 500) AS r", (event_id, cursor)
            ).fetchone()["r"]
        changes.extend(page["changes"])
        cursor = page["cursor"]
        if not page["has_more"]:
            return changes, cursor


def _v1_push(db: SupabaseDB, claims: dict, device: str, mutations: list[dict]) -> list[dict]:
    with db.as_claims(claims) as conn:
        result = conn.execute(
            "SELECT public.sync_push(%s, %s::jsonb) AS r", (device, json.dumps(mutations))
        ).fetchone()["r"]
    return result["results"]


def _relations(db: SupabaseDB, schema: str) -> set[str]:
    return {
        r["relname"]
        for r in db.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND c.relkind IN ('r', 'S', 'v', 'm')",
            (schema,),
        )
    }


@pytest.fixture
def v1_db(pg_server: PgServer):
    db = SupabaseDB(pg_server, pg_server.create_database(template=None))
    with pg_server.connect(db.name) as conn:
        for path in sorted(V1_DIR.glob("*.sql")):
            conn.execute(path.read_text())
    yield db
    db.close()
    pg_server.drop_database(db.name)


def test_v1_fixture_is_the_public_schema_layout(v1_db: SupabaseDB):
    """The fixture really is the old layout: Showdesk's tables and RPCs in public."""
    assert {"events", "tickets", "checkins", "sync_changes", "sync_mutations"} <= _relations(
        v1_db, "public"
    )
    assert v1_db.scalar("SELECT to_regprocedure('public.sync_pull(uuid,text,integer)')")


def test_upgrade_keeps_rows_idempotency_records_and_cursors(pg_server: PgServer, v1_db):
    db = v1_db
    org = db.create_org("Maison Upgrade")
    device = db.create_device(org, "North kiosk", "North")
    tickets = db.create_tickets(org, 3)
    claims = db.claims(org, "door", device)
    _, cursor = _v1_pull_all(db, claims, org.event_id)
    scan = _scan(org.event_id, tickets[0], device, "2026-12-02T18:00:00.000000Z")
    assert [r["status"] for r in _v1_push(db, claims, device, [scan])] == ["applied"]
    _, cursor = _v1_pull_all(db, claims, org.event_id)  # the kiosk's cursor after its own scan
    before = {
        t: db.scalar(f"SELECT count(*) FROM public.{t}")
        for t in ("events", "tickets", "attendees", "checkins", "sync_changes", "sync_mutations")
    }
    old_public = _relations(db, "public")

    with pg_server.connect(db.name) as conn:
        apply_migrations(conn)

    assert _relations(db, "public") == set(), "Showdesk left tables in public"
    assert old_public <= _relations(db, "showdesk")
    assert db.scalar("SELECT to_regprocedure('public.sync_pull(uuid,text,integer)')") is None
    after = {t: db.scalar(f"SELECT count(*) FROM showdesk.{t}") for t in before}
    assert after == before

    # the queued scan sent again (a kiosk that never saw the answer) is still a duplicate
    again = db.push(claims, device, [scan])
    assert [r["status"] for r in again] == ["duplicate"]

    # the kiosk's cursor is still good: no reset, nothing new, then exactly the next change
    page = db.pull(claims, org.event_id, cursor)
    assert page["reset"] is False and page["changes"] == []
    db.execute(
        "UPDATE showdesk.attendees SET notes = 'VIP table 4'"
        " WHERE id = (SELECT attendee_id FROM showdesk.tickets WHERE id = %s)",
        (tickets[1],),
    )
    page = db.pull(claims, org.event_id, page["cursor"])
    assert page["reset"] is False
    assert [(c["table"], c["row"]["notes"]) for c in page["changes"]] == [
        ("attendees", "VIP table 4")
    ]

    # the server rules still run on the moved tables: a second admission is a double entry
    other = db.create_device(org, "South kiosk", "South")
    late = _scan(org.event_id, tickets[0], other, "2026-12-02T18:05:00.000000Z")
    assert [r["status"] for r in db.push(db.claims(org, "door", other), other, [late])] == [
        "applied"
    ]
    flagged = db.scalar(
        "SELECT double_entry FROM showdesk.checkins WHERE id = %s", (late["row_id"],)
    )
    assert flagged is True

    # and applying everything once more changes nothing
    with pg_server.connect(db.name) as conn:
        apply_migrations(conn)
    assert {t: db.scalar(f"SELECT count(*) FROM showdesk.{t}") for t in before}["checkins"] == 2
