"""0022: staff rows for kiosk sign-in (badge code, disabled_at, Argon2id PIN hashes only) and
the check-in's staff_id, against the real PostgreSQL the suite starts."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from app.store import staff as st
from app.store.db import open_database, set_meta
from app.store.demo import DEMO_PIN_HASHES, DEMO_PINS
from app.store.models import Staff
from app.sync.backends import PostgresBackend
from app.sync.engine import SyncEngine
from tests.support.pg import OrgFixture, SupabaseDB, mutation

pytestmark = pytest.mark.postgres

HASH = DEMO_PIN_HASHES["door"]
PIN = DEMO_PINS["door"]


@pytest.fixture
def two(supabase_db: SupabaseDB) -> Iterator[tuple[SupabaseDB, OrgFixture, OrgFixture, dict]]:
    db = supabase_db
    a, b = db.create_org("Alpha"), db.create_org("Beta")
    staff = {}
    for org in (a, b):
        db.create_device(org)
        db.create_tickets(org, 1)
        staff[org.name] = str(
            db.scalar(
                "INSERT INTO staff (organization_id, event_id, name, role, pin_hash)"
                " VALUES (%s, %s, 'Camille', 'door', %s) RETURNING id",
                (org.id, org.event_id, HASH),
            )
        )
    yield db, a, b, staff


def _refused(db: SupabaseDB, claims, sql: str, params=()) -> str:
    try:
        with db.as_claims(claims) as conn:
            done = conn.execute(sql, params).rowcount
    except psycopg.Error as exc:
        return exc.sqlstate or "error"
    return f"{done} rows"


def test_a_badge_code_is_made_random_and_hex(two):
    db, a, _b, staff = two
    codes = [r["badge_code"] for r in db.execute("SELECT badge_code FROM staff")]
    assert len(codes) == 2 and len(set(codes)) == 2
    assert all(st.BADGE_CODE_RE.fullmatch(c) for c in codes)
    for bad in ("1234", "A" * 32, "0" * 31, "g" * 32):
        with pytest.raises(psycopg.errors.CheckViolation):
            db.execute("UPDATE staff SET badge_code = %s WHERE id = %s", (bad, staff["Alpha"]))
    # unique within an organization
    code = db.scalar("SELECT badge_code FROM staff WHERE id = %s", (staff["Alpha"],))
    with pytest.raises(psycopg.errors.UniqueViolation):
        db.execute(
            "INSERT INTO staff (organization_id, name, role, badge_code) VALUES (%s, 'X', 'door', %s)",
            (a.id, code),
        )


def test_only_argon2id_hashes_are_stored_never_a_plain_pin(two):
    db, a, _b, staff = two
    org_claims = db.claims(a, "organizer", a.devices[0])
    for bad in (PIN, "$argon2i$v=19$m=65536,t=2,p=1$abc$def", "$2b$12$abcdefghijk", ""):
        assert (
            _refused(
                db,
                org_claims,
                "UPDATE showdesk.staff SET pin_hash = %s WHERE id = %s",
                (bad, staff["Alpha"]),
            )
            == "23514"
        ), bad
    [result] = db.push(
        org_claims,
        a.devices[0],
        [mutation("staff", "update", staff["Alpha"], {"pin_hash": "2468"})],
    )
    assert result["status"] == "rejected"
    good = st.hash_pin("7315")
    [result] = db.push(
        org_claims, a.devices[0], [mutation("staff", "update", staff["Alpha"], {"pin_hash": good})]
    )
    assert result["status"] == "applied"
    assert db.scalar("SELECT pin_hash FROM staff WHERE id = %s", (staff["Alpha"],)) == good


def test_another_organization_neither_reads_nor_writes_staff(two):
    db, a, b, staff = two
    for role in ("door", "producer", "organizer", "admin"):
        claims = db.claims(b, role, b.devices[0])
        seen = db.execute_as(claims, "SELECT id::text, organization_id::text FROM showdesk.staff")
        assert {r["organization_id"] for r in seen} == {b.id}, role
        assert (
            _refused(
                db,
                claims,
                "UPDATE showdesk.staff SET disabled_at = now() WHERE id = %s",
                (staff["Alpha"],),
            )
            == "0 rows"
        )
        assert (
            _refused(db, claims, "DELETE FROM showdesk.staff WHERE id = %s", (staff["Alpha"],))
            == "0 rows"
        )
        assert (
            _refused(
                db,
                claims,
                "INSERT INTO showdesk.staff (organization_id, name, role) VALUES (%s, 'Mole', 'admin')",
                (a.id,),
            )
            == "42501"
        )
    assert db.scalar("SELECT disabled_at FROM staff WHERE id = %s", (staff["Alpha"],)) is None


def test_a_door_kiosk_reads_its_organizations_hashes_but_writes_no_staff(two):
    db, a, _b, staff = two
    door = db.claims(a, "door", a.devices[0])
    rows = db.execute_as(door, "SELECT id::text, pin_hash, badge_code FROM showdesk.staff")
    assert [(r["id"], r["pin_hash"]) for r in rows] == [(str(staff["Alpha"]), HASH)]
    for role in ("door", "producer"):
        claims = db.claims(a, role, a.devices[0])
        assert (
            _refused(
                db,
                claims,
                "UPDATE showdesk.staff SET role = 'admin' WHERE id = %s",
                (staff["Alpha"],),
            )
            == "0 rows"
        ), role
        [result] = db.push(
            claims,
            a.devices[0],
            [
                mutation(
                    "staff", "update", str(staff["Alpha"]), {"disabled_at": None, "role": "admin"}
                )
            ],
        )
        assert result["status"] == "rejected", role
    assert db.scalar("SELECT role FROM staff WHERE id = %s", (staff["Alpha"],)) == "door"


def test_organizers_manage_staff_but_only_an_admin_makes_or_touches_an_admin(two):
    db, a, _b, staff = two
    organizer = db.claims(a, "organizer", a.devices[0])
    admin = db.claims(a, "admin", a.devices[0])
    assert (
        _refused(
            db,
            organizer,
            "UPDATE showdesk.staff SET disabled_at = now() WHERE id = %s",
            (staff["Alpha"],),
        )
        == "1 rows"
    )
    insert = "INSERT INTO showdesk.staff (organization_id, name, role) VALUES (%s, 'New', %s)"
    assert _refused(db, organizer, insert, (a.id, "producer")) == "1 rows"
    assert _refused(db, organizer, insert, (a.id, "admin")) == "42501"
    assert (
        _refused(
            db,
            organizer,
            "UPDATE showdesk.staff SET role = 'admin' WHERE id = %s",
            (staff["Alpha"],),
        )
        == "42501"
    )
    assert _refused(db, admin, insert, (a.id, "admin")) == "1 rows"
    boss = db.scalar("SELECT id FROM staff WHERE role = 'admin' AND organization_id = %s", (a.id,))
    assert (
        _refused(
            db, organizer, "UPDATE showdesk.staff SET disabled_at = now() WHERE id = %s", (boss,)
        )
        == "42501"
    )
    assert _refused(db, organizer, "DELETE FROM showdesk.staff WHERE id = %s", (boss,)) == "42501"


def _scan(event_id: str, staff_id: str | None) -> dict:
    payload = {"event_id": event_id, "verdict": "admitted", "ticket_id": None}
    if staff_id is not None:
        payload["staff_id"] = str(staff_id)
    return mutation("checkins", "insert", str(uuid.uuid4()), payload)


def test_pushed_checkins_keep_their_staff_and_a_forged_one_is_refused(two):
    db, a, b, staff = two
    second = db.create_event(a, "Encore")
    other_event_staff = db.scalar(
        "INSERT INTO staff (organization_id, event_id, name, role) VALUES (%s, %s, 'E', 'door')"
        " RETURNING id",
        (a.id, second),
    )
    org_wide = db.scalar(
        "INSERT INTO staff (organization_id, name, role) VALUES (%s, 'O', 'door') RETURNING id",
        (a.id,),
    )
    door = db.claims(a, "door", a.devices[0])
    batch = [
        _scan(a.event_id, staff["Alpha"]),
        _scan(a.event_id, staff["Beta"]),  # another organization's staff
        _scan(a.event_id, None),
        _scan(a.event_id, other_event_staff),  # works another event only
        _scan(a.event_id, org_wide),
        _scan(a.event_id, str(uuid.uuid4())),  # no such row: a scan is never dropped
    ]
    results = db.push(door, a.devices[0], batch)
    assert [r["status"] for r in results] == [
        "applied", "rejected", "applied", "rejected", "applied", "applied",
    ]  # fmt: skip
    assert results[1]["reason"] == results[3]["reason"]
    assert results[1]["reason"].startswith("Not permitted")
    stored = {
        r["id"]: r["staff_id"]
        for r in db.execute(
            "SELECT id::text, staff_id::text FROM checkins WHERE event_id = %s", (a.event_id,)
        )
    }
    assert stored[batch[0]["row_id"]] == str(staff["Alpha"])
    assert batch[1]["row_id"] not in stored
    # the same by a direct insert
    assert (
        _refused(
            db,
            door,
            "INSERT INTO showdesk.checkins (event_id, device_id, verdict, staff_id) VALUES (%s, %s, 'admitted', %s)",
            (a.event_id, a.devices[0], staff["Beta"]),
        )
        == "42501"
    )


def test_disabling_reaches_a_kiosk_with_its_next_pull(two, tmp_path: Path):
    db, a, _b, staff = two
    badge = db.scalar("SELECT badge_code FROM staff WHERE id = %s", (staff["Alpha"],))
    replica = open_database(tmp_path / "kiosk.sqlite")
    claims = db.claims(a, "door", a.devices[0])
    backend = PostgresBackend(db.dsn, "authenticated", claims, timeout=5)
    try:
        with replica.session() as s:
            set_meta(s, "device_id", a.devices[0])
            set_meta(s, "event_id", a.event_id)
        engine = SyncEngine(replica, backend, a.event_id, a.devices[0])
        engine.sync_once()
        with replica.session() as s:
            row = s.get(Staff, str(staff["Alpha"]))
            assert (row.badge_code, row.pin_hash, row.disabled_at) == (badge, HASH, None)
            signed = st.sign_in(s, st.badge_payload(badge), PIN, event_id=a.event_id)
            assert signed.ok and signed.staff is not None

        organizer = db.claims(a, "organizer", a.devices[0])
        with db.as_claims(organizer) as conn:
            conn.execute(
                "UPDATE showdesk.staff SET disabled_at = now() WHERE id = %s", (staff["Alpha"],)
            )
        engine.sync_once()
        with replica.session() as s:
            assert s.get(Staff, str(staff["Alpha"])).disabled_at is not None
            refused = st.sign_in(s, st.badge_payload(badge), PIN)
            assert not refused.ok
            assert refused.message.startswith("This badge was disabled on ")
            assert not st.still_allowed(s, signed.staff)
    finally:
        backend.close()
        replica.close()


def test_lineup_edits_and_arrivals_record_who_and_still_merge(two):
    db, a, b, staff = two
    back = db.create_backstage(a)
    producer = db.claims(a, "producer", a.devices[0])
    other = str(
        db.scalar(
            "INSERT INTO staff (organization_id, name, role) VALUES (%s, 'Marta', 'producer')"
            " RETURNING id",
            (a.id,),
        )
    )
    look = back["appearances"][0]
    base = db.scalar("SELECT version FROM runway_appearances WHERE id = %s", (look,))
    edits = [
        mutation(
            "runway_appearances",
            "update",
            look,
            {"notes": "quick change", "edited_by_staff_id": staff["Alpha"]},
            base,
        ),
        # made offline from the same base by someone else, another column: still merges
        mutation(
            "runway_appearances",
            "update",
            look,
            {"order_key": "a5", "edited_by_staff_id": other},
            base,
        ),
        mutation("runway_appearances", "update", look, {"edited_by_staff_id": staff["Beta"]}, base),
    ]
    results = db.push(producer, a.devices[0], edits)
    assert [r["status"] for r in results] == ["applied", "applied", "rejected"]
    row = db.execute(
        "SELECT notes, order_key, edited_by_staff_id::text AS who FROM runway_appearances"
        " WHERE id = %s",
        (look,),
    )[0]
    assert row == {"notes": "quick change", "order_key": "a5", "who": other}

    call = back["call_time"]
    base = db.scalar("SELECT version FROM call_times WHERE id = %s", (call,))
    t0 = "2026-12-03T19:10:00.000000Z"

    def arrival(at: str, who: str) -> dict:
        return mutation(
            "call_times", "update", call, {"arrived_at": at, "arrived_by_staff_id": who}, base
        )

    results = db.push(
        producer,
        a.devices[0],
        [
            arrival(t0, staff["Alpha"]),
            arrival("2026-12-03T19:05:00.000000Z", other),  # earlier: it stands, with its staff
            arrival("2026-12-03T19:20:00.000000Z", staff["Alpha"]),  # later: changes nothing
            # another organization's staff, on an arrival that would stand: refused
            arrival("2026-12-03T19:00:00.000000Z", staff["Beta"]),
        ],
    )
    assert [r["status"] for r in results] == ["applied", "applied", "applied", "rejected"]
    row = db.execute(
        "SELECT to_char(arrived_at AT TIME ZONE 'UTC', 'HH24:MI') AS at,"
        " arrived_by_staff_id::text AS who FROM call_times WHERE id = %s",
        (call,),
    )[0]
    assert row == {"at": "19:05", "who": other}


def test_a_disabled_staff_members_own_account_reaches_nothing(two):
    db, a, _b, staff = two
    # a staff member's own auth user is their staff row's id (0004), whatever the token says
    claims = db.claims(a, "organizer", sub=staff["Alpha"])
    read = "SELECT count(*) AS n FROM showdesk.staff"
    assert db.execute_as(claims, read)[0]["n"] == 1
    db.execute("UPDATE staff SET disabled_at = now() WHERE id = %s", (staff["Alpha"],))
    assert db.execute_as(claims, read)[0]["n"] == 0
    assert db.execute_as(claims, "SELECT count(*) AS n FROM showdesk.events")[0]["n"] == 0
    assert (
        _refused(
            db,
            claims,
            "UPDATE showdesk.staff SET disabled_at = NULL WHERE id = %s",
            (staff["Alpha"],),
        )
        == "0 rows"
    )
    with pytest.raises(psycopg.Error):
        db.pull(claims, a.event_id)
    # another member of the organization is not affected
    other = db.claims(a, "organizer", sub=str(uuid.uuid4()))
    assert db.execute_as(other, read)[0]["n"] == 1
