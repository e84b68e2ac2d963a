"""Row Level Security: an organization sees only its own rows, a role only what it needs,
anon nothing private — through a role-switched connection and through the HTTP gateway."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from tests.support.pg import OrgFixture, SupabaseDB, mutation

pytestmark = pytest.mark.postgres

PRIVATE_TABLES = [
    "organizations", "venues", "events", "ticket_types", "orders", "attendees", "tickets",
    "revoked_tokens", "checkins", "runway_shows", "runway_segments", "designers", "models",
    "looks", "runway_appearances", "people", "call_times", "devices", "staff",
    "sync_changes", "sync_mutations",
]  # fmt: skip


def _populate(db: SupabaseDB) -> tuple[OrgFixture, OrgFixture]:
    """Two organizations with a row in every table (and an applied push each)."""
    orgs = []
    for name in ("Alpha", "Beta"):
        org = db.create_org(name)
        db.create_device(org)
        tickets = db.create_tickets(org, 2)
        db.create_backstage(org)
        db.execute(
            "UPDATE tickets SET status = 'cancelled' WHERE id = %s", (tickets[1],)
        )  # → revoked_tokens
        scan = mutation(
            "checkins",
            "insert",
            str(uuid.uuid4()),
            {"event_id": org.event_id, "ticket_id": tickets[0], "verdict": "admitted"},
        )
        [result] = db.push(db.claims(org, "door", org.devices[0]), org.devices[0], [scan])
        assert result["status"] == "applied"
        orgs.append(org)
    return orgs[0], orgs[1]


@pytest.fixture(scope="module")
def shared(pg_server) -> Iterator[tuple[SupabaseDB, OrgFixture, OrgFixture]]:
    """One populated database for the read-only tests of this module (they never write)."""
    db = SupabaseDB(pg_server, pg_server.create_database())
    alpha, beta = _populate(db)
    yield db, alpha, beta
    db.close()
    pg_server.drop_database(db.name)


@pytest.fixture
def two_orgs(supabase_db: SupabaseDB) -> tuple[OrgFixture, OrgFixture]:
    return _populate(supabase_db)


def _visible(db: SupabaseDB, claims: dict | None, table: str, role: str | None = None) -> int:
    with db.as_claims(claims, role) as conn:
        return conn.execute(f"SELECT count(*) AS n FROM showdesk.{table}").fetchone()["n"]


def test_an_organization_never_sees_another_organizations_rows(shared):
    db, alpha, beta = shared
    for table in PRIVATE_TABLES:
        total = db.scalar(f"SELECT count(*) FROM {table}")
        seen_a = _visible(db, db.claims(alpha, "organizer", alpha.devices[0]), table)
        seen_b = _visible(db, db.claims(beta, "organizer", beta.devices[0]), table)
        assert seen_a > 0 and seen_b > 0, f"{table}: the test data should have rows of both"
        # every row is seen by exactly one of them
        assert seen_a + seen_b == total, f"{table}: {seen_a} + {seen_b} != {total}"
        a_ids = _ids(db, db.claims(alpha, "organizer", alpha.devices[0]), table)
        b_ids = _ids(db, db.claims(beta, "organizer", beta.devices[0]), table)
        assert not (a_ids & b_ids), table


def _ids(db: SupabaseDB, claims: dict, table: str) -> set[str]:
    key = {"sync_changes": "table_name || row_id", "sync_mutations": "mutation_id"}.get(table, "id")
    with db.as_claims(claims) as conn:
        return {str(r["k"]) for r in conn.execute(f"SELECT {key} AS k FROM {table}")}


def test_direct_reads_of_another_org_by_id_return_nothing(shared):
    supabase_db, alpha, beta = shared
    door_a = supabase_db.claims(alpha, "door", alpha.devices[0])
    with supabase_db.as_claims(door_a) as conn:
        assert conn.execute("SELECT * FROM events WHERE id = %s", (beta.event_id,)).fetchall() == []
        assert (
            conn.execute("SELECT * FROM tickets WHERE event_id = %s", (beta.event_id,)).fetchall()
            == []
        )
        assert conn.execute("SELECT count(*) AS n FROM tickets").fetchone()["n"] == 2


def test_direct_writes_into_another_org_are_refused(supabase_db, two_orgs):
    alpha, beta = two_orgs
    organizer_a = supabase_db.claims(alpha, "organizer", alpha.devices[0])
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        with supabase_db.as_claims(organizer_a) as conn:
            conn.execute(
                "INSERT INTO attendees (event_id, first_name, last_name) VALUES (%s, 'Eve', 'Intruder')",
                (beta.event_id,),
            )
    with supabase_db.as_claims(organizer_a) as conn:
        updated = conn.execute(
            "UPDATE tickets SET status = 'cancelled' WHERE event_id = %s", (beta.event_id,)
        )
        assert updated.rowcount == 0
        deleted = conn.execute("DELETE FROM checkins WHERE event_id = %s", (beta.event_id,))
        assert deleted.rowcount == 0
    assert supabase_db.scalar("SELECT count(*) FROM tickets WHERE status = 'valid'") == 2


def test_pushes_into_another_org_are_rejected(supabase_db, two_orgs):
    alpha, beta = two_orgs
    organizer_a = supabase_db.claims(alpha, "organizer", alpha.devices[0])
    beta_ticket = str(
        supabase_db.scalar("SELECT id FROM tickets WHERE event_id = %s LIMIT 1", (beta.event_id,))
    )
    results = supabase_db.push(
        organizer_a,
        alpha.devices[0],
        [
            mutation(
                "checkins",
                "insert",
                str(uuid.uuid4()),
                {"event_id": beta.event_id, "ticket_id": beta_ticket, "verdict": "admitted"},
            ),
            mutation("tickets", "update", beta_ticket, {"status": "cancelled"}, 1),
        ],
    )
    assert [r["status"] for r in results] == ["rejected", "rejected"]
    assert "Not permitted" in results[0]["reason"]
    # and Beta's device cannot be used by Alpha
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        supabase_db.push(supabase_db.claims(alpha, "organizer"), beta.devices[0], [])


def test_roles_see_only_what_they_need(shared):
    supabase_db, alpha, beta = shared
    door = supabase_db.claims(alpha, "door", alpha.devices[0])
    producer = supabase_db.claims(alpha, "producer", alpha.devices[0])
    assert _visible(supabase_db, door, "tickets") == 2
    assert _visible(supabase_db, door, "call_times") == 0
    assert _visible(supabase_db, producer, "call_times") == 1
    assert _visible(supabase_db, producer, "tickets") == 0
    assert _visible(supabase_db, producer, "attendees") == 0
    # and pulls follow the same rules
    door_tables = {c["table"] for c in supabase_db.pull_all(door, alpha.event_id)[0]}
    producer_tables = {c["table"] for c in supabase_db.pull_all(producer, alpha.event_id)[0]}
    assert "tickets" in door_tables and "call_times" not in door_tables
    assert "call_times" in producer_tables and "tickets" not in producer_tables


def test_identity_by_lookup_when_the_token_has_no_app_metadata(shared):
    supabase_db, alpha, beta = shared
    staff_id = str(
        supabase_db.scalar("SELECT id FROM staff WHERE organization_id = %s", (alpha.id,))
    )
    claims = {"sub": staff_id, "role": "authenticated"}
    assert _visible(supabase_db, claims, "tickets") == 2  # staff row says: door of Alpha
    assert _visible(supabase_db, claims, "call_times") == 0
    device_claims = {"sub": alpha.devices[0], "role": "authenticated"}
    assert _visible(supabase_db, device_claims, "tickets") == 2
    stranger = {"sub": str(uuid.uuid4()), "role": "authenticated"}
    assert _visible(supabase_db, stranger, "tickets") == 0


def test_a_revoked_device_is_refused_everything_in_words(supabase_db, two_orgs):
    alpha, _ = two_orgs
    door = supabase_db.claims(alpha, "door", alpha.devices[0])
    supabase_db.execute(
        "UPDATE devices SET revoked_at = '2026-11-30 18:05:00+00' WHERE id = %s",
        (alpha.devices[0],),
    )
    attempts = [
        lambda: _visible(supabase_db, door, "tickets"),
        lambda: supabase_db.push(door, alpha.devices[0], []),
        lambda: supabase_db.pull(door, alpha.event_id),
    ]
    for attempt in attempts:
        with pytest.raises(psycopg.errors.InsufficientPrivilege) as refused:
            attempt()
        diag = refused.value.diag
        assert diag.message_primary == (
            "This kiosk was removed from Alpha on 2026-11-30 18:05 UTC."
        ), diag.message_primary
        assert diag.message_hint == "showdesk:device-revoked"
        assert json.loads(diag.message_detail)["revoked_at"] == "2026-11-30T18:05:00Z"


def test_anon_reads_nothing_private(shared):
    db, _, _ = shared
    for table in PRIVATE_TABLES:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            _visible(db, None, table, role="anon")


def test_anon_cannot_call_the_sync_functions(shared):
    supabase_db, alpha, beta = shared
    for sql, args in [
        ("SELECT showdesk_sync_pull(%s, NULL, 10)", (alpha.event_id,)),
        ("SELECT showdesk_sync_push(%s, '[]'::jsonb)", (alpha.devices[0],)),
        ("SELECT showdesk_register_device('Kiosk', 'North')", None),
    ]:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            with supabase_db.as_claims(None, "anon") as conn:
                conn.execute(sql, args)


def test_authenticated_without_an_organization_sees_nothing(shared):
    supabase_db, alpha, beta = shared
    claims = supabase_db.claims(None, "door")
    for table in ("events", "tickets", "organizations", "sync_changes"):
        assert _visible(supabase_db, claims, table) == 0


def test_service_role_bypasses_rls(shared):
    supabase_db, alpha, beta = shared
    assert _visible(supabase_db, {"role": "service_role"}, "tickets", role="service_role") == 4


def test_register_device(supabase_db, two_orgs):
    alpha, beta = two_orgs
    device_id = str(uuid.uuid4())
    kiosk = supabase_db.claims(alpha, "door", device_id)
    with supabase_db.as_claims(kiosk) as conn:
        first = conn.execute("SELECT register_device('Kiosk East', 'East') AS r").fetchone()["r"]
    assert (
        first["device_id"] == device_id
        and first["organization_id"] == alpha.id
        and first["gate"] == "East"
    )
    with supabase_db.as_claims(kiosk) as conn:
        again = conn.execute("SELECT register_device('Kiosk East 2', 'East') AS r").fetchone()["r"]
    assert again["device_id"] == device_id
    assert (
        supabase_db.scalar("SELECT name FROM devices WHERE id = %s", (device_id,)) == "Kiosk East 2"
    )
    # an organizer's laptop without a device id gets a fresh one
    with supabase_db.as_claims(supabase_db.claims(alpha, "organizer")) as conn:
        laptop = conn.execute("SELECT register_device('Laptop', NULL) AS r").fetchone()["r"]
    assert laptop["device_id"] != device_id and laptop["gate"] is None
    # bad input and strangers get a sentence
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="name of 1 to 100"):
        with supabase_db.as_claims(kiosk) as conn:
            conn.execute("SELECT register_device('   ', 'East')")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="not linked to an organization"):
        with supabase_db.as_claims(supabase_db.claims(None, "door")) as conn:
            conn.execute("SELECT register_device('Kiosk', 'East')")
    # a device id that belongs to another organization cannot be taken over
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        with supabase_db.as_claims(supabase_db.claims(beta, "door", device_id)) as conn:
            conn.execute("SELECT register_device('Hijack', 'East')")
    assert supabase_db.scalar(
        "SELECT organization_id FROM devices WHERE id = %s", (device_id,)
    ) == uuid.UUID(alpha.id)


def test_identity_follows_the_claims_within_one_transaction(shared):
    """whoami() is cached per transaction, keyed by the claims: new claims, new answer."""
    from tests.support.pg import apply_claims

    db, alpha, beta = shared
    with db.as_claims(db.claims(alpha, "door", alpha.devices[0])) as conn:
        alpha_ids = {r["id"] for r in conn.execute("SELECT id FROM tickets")}
        apply_claims(conn, db.claims(beta, "door", beta.devices[0]))
        beta_ids = {r["id"] for r in conn.execute("SELECT id FROM tickets")}
        apply_claims(conn, db.claims(alpha, "producer", alpha.devices[0]))
        assert conn.execute("SELECT count(*) AS n FROM tickets").fetchone()["n"] == 0
    assert alpha_ids and beta_ids and not (alpha_ids & beta_ids)


# What each screen reads from the replica (the UI's half of the role split, app/ui/main.py).
SCREEN_TABLES = {
    "door": {"events", "ticket_types", "tickets", "attendees", "checkins", "revoked_tokens"},
    "lineup": {
        "runway_shows",
        "runway_segments",
        "looks",
        "designers",
        "models",
        "runway_appearances",
    },
    "calltimes": {"call_times", "people"},
    "organizer": {"events", "ticket_types", "tickets", "checkins", "devices"},
    "audit": {"checkins", "call_times", "runway_appearances", "staff", "devices"},
}


@pytest.mark.parametrize("role", ["door", "producer", "organizer", "admin"])
def test_the_screens_of_a_role_read_only_what_the_server_lets_it_pull(shared, role):
    """UI and server agree: every table a role's screens read is in what the server lets that
    role read, and a hidden screen with names or staff in it (lineup, call times, the audit
    trail; the door for a producer) reads a table the role may not, so hiding it is not the
    only protection."""
    from app.ui.main import ALL_SCREENS, ROLE_SCREENS

    supabase_db, alpha, _beta = shared
    readable = set(supabase_db.scalar("SELECT showdesk_private.role_tables(%s, 'read')", (role,)))
    shown = ROLE_SCREENS[role]
    for screen in shown:
        if screen in SCREEN_TABLES:
            assert SCREEN_TABLES[screen] <= readable, (role, screen)
    for screen in set(ALL_SCREENS) - set(shown):
        if screen == "organizer" and role == "door":
            continue  # the same door tables as its own counters: hidden for focus, not secrecy
        if screen in SCREEN_TABLES:
            assert not SCREEN_TABLES[screen] <= readable, (role, screen)
