"""Derived state stays in its tenant (0019): double-entry flags and the bridges' standing
admissions are computed from the check-ins of one event only, so nothing organization A pushes
flips anything of organization B.

A forges every field of a push against B's data — B's event, B's tickets, ticket ids B admitted
that the server does not know yet, B's devices, B's check-in ids as row ids and as annulment
targets (also before they arrive), B's organization in the internal push functions, times
earlier than all of B's — through every push path, as a door and as an organizer. B's rows in
every table keep their checksum, and what B pushes afterwards is judged on B's rows alone.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import psycopg
import pytest

from tests.server.test_hostile_tenant import _checksum_sql
from tests.support.pg import OrgFixture, SupabaseDB, apply_claims, mutation

pytestmark = pytest.mark.postgres

PATHS = ("sync_push", "one_at_a_time", "set_insert")


def _at(minute: int) -> str:
    return f"2026-11-22T{19 + minute // 60:02d}:{minute % 60:02d}:00.000000Z"


def _checkin(
    event: str,
    ticket: str | None,
    device: str,
    minute: int,
    *,
    direction: str = "in",
    row_id: str | None = None,
    annuls: str | None = None,
    corrected: int | None = None,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "event_id": event,
        "ticket_id": ticket,
        "device_id": device,
        "gate": "North",
        "direction": direction,
        "method": "qr",
        "kind": "annul" if annuls else "scan",
        "scanned_at": _at(minute),
        "verdict": "annulled" if annuls else ("admitted" if direction == "in" else "exit_recorded"),
        "offline": True,
    }
    if annuls:
        payload["annuls_checkin_id"] = annuls
    if corrected is not None:
        payload["corrected_at"] = _at(corrected)
        payload["corrected_uncertainty_s"] = 0.25
    return mutation("checkins", "insert", row_id or str(uuid.uuid4()), payload)


def _push(db: SupabaseDB, claims: dict, device: str, batch: list[dict], path: str) -> list[dict]:
    """``batch`` through one push path; its results (the call's error as one result)."""
    with db.connect(autocommit=False) as conn:
        apply_claims(conn, claims)
        try:
            if path == "set_insert":  # the set-based insert of 0006, called directly
                org = conn.execute("SELECT showdesk_private.my_org() AS o").fetchone()["o"]
                results = conn.execute(
                    "SELECT to_jsonb(showdesk_private.push_checkin_run(%s, %s, %s::jsonb, 1, %s))"
                    " AS r",
                    (device, org, json.dumps(batch), len(batch)),
                ).fetchone()["r"]
            else:
                fast = "off" if path == "one_at_a_time" else "on"
                conn.execute("SELECT set_config('showdesk.push_fast_path', %s, true)", (fast,))
                results = conn.execute(
                    "SELECT public.showdesk_sync_push(%s, %s::jsonb) AS r",
                    (device, json.dumps(batch)),
                ).fetchone()["r"]["results"]
        except psycopg.Error as exc:
            conn.rollback()
            return [{"status": "error", "reason": exc.diag.message_primary}]
        conn.commit()
    return results


def _internal(db: SupabaseDB, claims: dict, sql: str, params: tuple) -> str:
    """Call an internal push function as the caller; 'error' or what it answered."""
    with db.connect(autocommit=False) as conn:
        apply_claims(conn, claims)
        try:
            answer = conn.execute(sql, params).fetchone()
        except psycopg.Error as exc:
            conn.rollback()
            return f"error: {exc.diag.message_primary}"
        conn.commit()
    return json.dumps(answer, default=str)


class Tenants:
    """A and B with devices; B's tickets: T1 (re-entry), T2 (no re-entry), and ids of tickets
    B admitted on their signature that the server does not have (U, U3)."""

    def __init__(self, db: SupabaseDB) -> None:
        self.db = db
        self.a = db.create_org("Alpha")
        self.b = db.create_org("Beta")
        for org in (self.a, self.b):
            db.create_device(org, "Kiosk North", "North")
            db.create_device(org, "Kiosk South", "South")
        self.t1, self.t2 = db.create_tickets(self.b, 2)
        gala = db.scalar(
            "INSERT INTO ticket_types (event_id, name, tier, price, allow_reentry)"
            " VALUES (%s, 'Gala', 'vip', 90, false) RETURNING id::text",
            (self.b.event_id,),
        )
        db.execute("UPDATE tickets SET ticket_type_id = %s WHERE id = %s", (gala, self.t2))
        self.u = str(uuid.uuid4())
        self.u3 = str(uuid.uuid4())
        self.z = str(uuid.uuid4())  # the id B's kiosk gives its first admission of U3, not yet sent
        self.b_scans: list[dict[str, Any]] = []  # what B pushed (the fixture fills it)
        self.sql = _checksum_sql(db)

    def claims(self, org: OrgFixture, role: str = "door", device: int = 0) -> dict:
        return self.db.claims(org, role, org.devices[device])

    def b_checksum(self) -> dict[str, str]:
        events = [r["id"] for r in self.db.execute(
            "SELECT id FROM events WHERE organization_id = %s", (self.b.id,)
        )]  # fmt: skip
        rows = self.db.execute(self.sql, {"org": self.b.id, "events": events})
        return {r["t"]: f"{r['n']}:{r['sum']}" for r in rows}

    def flags(self, ticket: str) -> list[tuple[str, str, bool]]:
        rows = self.db.execute(
            "SELECT to_char(scanned_at AT TIME ZONE 'UTC', 'HH24:MI') AS at, direction,"
            " double_entry FROM checkins WHERE ticket_id = %s AND event_id = %s AND kind = 'scan'"
            " ORDER BY scanned_at",
            (ticket, self.b.event_id),
        )
        return [(r["at"], r["direction"], r["double_entry"]) for r in rows]


@pytest.fixture
def tenants(supabase_db: SupabaseDB) -> Tenants:
    w = Tenants(supabase_db)
    b = w.b
    b1, b2 = b.devices
    e = b.event_id
    w.b_scans = [
        _checkin(e, w.t1, b1, 0, corrected=0),
        _checkin(e, w.t1, b2, 5),  # still inside: a double entry
        _checkin(e, w.t2, b1, 0),
        _checkin(e, w.t2, b1, 10, direction="out"),
        _checkin(e, w.t2, b2, 20),  # no re-entry on this tier: a double entry
        _checkin(e, w.u, b1, 10, corrected=10),
        _checkin(e, w.u, b2, 30),  # still inside: a double entry
    ]
    results = supabase_db.push(w.claims(b), b1, w.b_scans)
    assert [r["status"] for r in results] == ["applied"] * len(w.b_scans)
    assert w.flags(w.t1) == [("19:00", "in", False), ("19:05", "in", True)]
    assert w.flags(w.t2) == [("19:00", "in", False), ("19:10", "out", False), ("19:20", "in", True)]
    assert w.flags(w.u) == [("19:10", "in", False), ("19:30", "in", True)]
    return w


def _forged(w: Tenants, a_device: str) -> list[dict[str, Any]]:
    """Everything A can put in a push against B, as check-in inserts (A's event unless the
    point is B's event); fresh mutation and row ids each call."""
    a, b = w.a, w.b
    s = {m["payload"]["ticket_id"] + m["payload"]["scanned_at"]: m["row_id"] for m in w.b_scans}
    t1_first, t1_second = s[w.t1 + _at(0)], s[w.t1 + _at(5)]
    u_first = s[w.u + _at(10)]
    return [
        # B's event itself
        _checkin(b.event_id, w.t1, a_device, -60, corrected=-60),
        _checkin(b.event_id, w.u, a_device, 25, direction="out"),
        # B's tickets under A's event
        _checkin(a.event_id, w.t1, a_device, -60, corrected=-60),
        _checkin(a.event_id, w.t2, a_device, 15, direction="out"),
        # ticket ids B admitted that the server has no row for: accepted (scans are never
        # dropped), earlier than B's on both clocks, an exit between B's two admissions
        _checkin(a.event_id, w.u, a_device, -60, corrected=-60),
        _checkin(a.event_id, w.u, a_device, 20, direction="out", corrected=20),
        _checkin(a.event_id, w.u3, a_device, -30, corrected=-30),
        # B's check-in ids as the row id
        _checkin(a.event_id, w.u, a_device, -50, row_id=t1_second),
        _checkin(b.event_id, w.t1, a_device, -50, row_id=u_first),
        # B's check-ins as annulment targets, named with B's ticket, with none, with A's own
        _checkin(a.event_id, w.t1, a_device, 40, annuls=t1_first),
        _checkin(a.event_id, None, a_device, 40, annuls=u_first),
        _checkin(a.event_id, w.u, a_device, 40, annuls=u_first),
        _checkin(b.event_id, w.u, a_device, 40, annuls=u_first),
        # an annulment of B's next check-in, before it reaches the server
        _checkin(a.event_id, w.u3, a_device, 40, annuls=w.z),
        _checkin(a.event_id, None, a_device, 41, annuls=w.z),
        # B's device
        _checkin(a.event_id, w.u, b.devices[0], -40, corrected=-40),
    ]


@pytest.mark.parametrize("role", ["door", "organizer"])
def test_nothing_a_pushes_changes_bs_rows_or_flags(supabase_db, tenants, role):
    w = tenants
    before = w.b_checksum()
    a_device = w.a.devices[0]
    accepted: set[str] = set()
    for path in PATHS:
        batch = _forged(w, a_device)
        results = _push(supabase_db, w.claims(w.a, role), a_device, batch, path)
        assert len(results) == len(batch), (path, results)
        accepted |= {
            m["payload"]["scanned_at"] + str(m["payload"].get("annuls_checkin_id"))
            for m, r in zip(batch, results, strict=True)
            if r["status"] == "applied"
        }
        assert w.b_checksum() == before, f"{role} via {path} changed B's rows"
        # B's own ids were never taken, whatever the path
        taken = {r["row_id"] for r in batch} & {m["row_id"] for m in w.b_scans}
        for r, m in zip(results, batch, strict=True):
            if m["row_id"] in taken:
                assert r["status"] == "rejected", (path, m["payload"])

    # the forged scans of unknown ticket ids went in (in A's event), the rest did not
    assert _at(-60) + "None" in accepted and _at(20) + "None" in accepted
    assert _at(40) + w.z in accepted  # the early annulment of B's coming check-in
    assert not any(t.endswith(w.b_scans[0]["row_id"]) for t in accepted)

    # updates and deletes of B's check-ins, and pushes as B's device or with B's organization
    for op in ("update", "delete"):
        m = mutation("checkins", op, w.b_scans[1]["row_id"], {"double_entry": False})
        [r] = supabase_db.push(w.claims(w.a, role), a_device, [m])
        assert r["status"] == "rejected"
    b_device = w.b.devices[0]
    [r] = _push(supabase_db, w.claims(w.a, role), b_device, _forged(w, b_device)[:1], "sync_push")
    assert r["status"] == "error"
    run = json.dumps(_forged(w, b_device))
    for sql, params in (
        (
            "SELECT showdesk_private.push_checkin_run(%s, %s, %s::jsonb, 1, 16)",
            (b_device, w.b.id, run),
        ),
        (
            "SELECT showdesk_private.push_one(%s, %s, %s::jsonb)",
            (b_device, w.b.id, json.dumps(_forged(w, b_device)[4])),
        ),
        (
            "SELECT showdesk_private.push_one(%s, %s, %s::jsonb)",
            (a_device, w.b.id, json.dumps(_forged(w, a_device)[4])),
        ),
    ):
        _internal(supabase_db, w.claims(w.a, role), sql, params)
        assert w.b_checksum() == before, f"{role}: {sql} with B's organization changed B's rows"

    # B's flags, as they were
    assert w.flags(w.t1) == [("19:00", "in", False), ("19:05", "in", True)]
    assert w.flags(w.u) == [("19:10", "in", False), ("19:30", "in", True)]


def test_what_b_pushes_later_is_judged_on_bs_rows_alone(supabase_db, tenants):
    w = tenants
    a_device = w.a.devices[0]
    # A annuls B's coming admission of U3 (an id A should not know, but might)
    results = _push(supabase_db, w.claims(w.a), a_device, _forged(w, a_device)[13:15], "sync_push")
    assert {r["status"] for r in results} == {"applied"}, results

    b1, b2 = w.b.devices
    e = w.b.event_id
    later = [_checkin(e, w.u3, b1, 0, row_id=w.z, corrected=0), _checkin(e, w.u3, b2, 15)]
    assert {r["status"] for r in supabase_db.push(w.claims(w.b), b1, later)} == {"applied"}
    # B's first admission stands (A's annulment is not B's), so B's second is the double entry
    assert w.flags(w.u3) == [("19:00", "in", False), ("19:15", "in", True)]
    before = w.b_checksum()

    # A's own earlier scan of that id is judged in A's event, on A's rows
    results = _push(supabase_db, w.claims(w.a), a_device, _forged(w, a_device)[6:7], "sync_push")
    assert [r["status"] for r in results] == ["applied"]
    assert w.b_checksum() == before
    assert supabase_db.execute(
        "SELECT double_entry FROM checkins WHERE ticket_id = %s AND event_id = %s AND kind = 'scan'",
        (w.u3, w.a.event_id),
    ) == [{"double_entry": False}]


def test_a_ticket_arriving_late_counts_only_its_events_admissions(supabase_db, tenants):
    """The platform bridges write back a ticket's standing admissions; A's scans of the id,
    pushed before the ticket reached the server, are not among them."""
    w = tenants
    a_device = w.a.devices[0]
    results = _push(supabase_db, w.claims(w.a), a_device, _forged(w, a_device)[4:6], "sync_push")
    assert {r["status"] for r in results} == {"applied"}
    supabase_db.execute(
        "INSERT INTO tickets (id, event_id, ticket_type_id, ticket_number, qr_code_data)"
        " VALUES (%s, %s, %s, 'T-LATE', 'LATE-1')",
        (w.u, w.b.event_id, w.b.ticket_type_id),
    )
    standing = supabase_db.execute(
        "SELECT c.event_id::text AS e, to_char(c.scanned_at AT TIME ZONE 'UTC', 'HH24:MI') AS at"
        " FROM showdesk_private.bridge_standing_admissions(%s) c ORDER BY c.scanned_at",
        (w.u,),
    )
    assert standing == [{"e": w.b.event_id, "at": "19:10"}, {"e": w.b.event_id, "at": "19:30"}]
    # and re-deriving the flags of every event with that ticket leaves B's as they were
    supabase_db.execute("SELECT showdesk_private.recompute_double_entries(%s)", (w.u,))
    assert w.flags(w.u) == [("19:10", "in", False), ("19:30", "in", True)]
