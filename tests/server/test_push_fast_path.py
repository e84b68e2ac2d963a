"""sync_push's set-based path for runs of check-in inserts (0006) answers exactly like the
one-mutation-at-a-time path: same results in the same order, same rows, same flags."""

from __future__ import annotations

import json
import random
import uuid
from typing import Any

import pytest

from tests.support.pg import OrgFixture, SupabaseDB, apply_claims, mutation

pytestmark = pytest.mark.postgres


@pytest.fixture
def org(supabase_db: SupabaseDB) -> OrgFixture:
    org = supabase_db.create_org("Alpha")
    supabase_db.create_device(org, "Kiosk North", "North")
    supabase_db.create_device(org, "Kiosk South", "South")
    return org


def _scan(
    org: OrgFixture,
    ticket: str,
    device: str,
    at: str,
    direction: str = "in",
    event_id: str | None = None,
) -> dict:
    return mutation(
        "checkins",
        "insert",
        str(uuid.uuid4()),
        {
            "event_id": event_id or org.event_id,
            "ticket_id": ticket,
            "device_id": device,
            "gate": "North",
            "direction": direction,
            "method": "qr",
            "kind": "scan",
            "scanned_at": at,
            "verdict": "admitted" if direction == "in" else "exit_recorded",
            "offline": True,
        },
    )


def _annul(org: OrgFixture, ticket: str, device: str, target: dict, at: str) -> dict:
    return mutation(
        "checkins",
        "insert",
        str(uuid.uuid4()),
        {
            "event_id": org.event_id,
            "ticket_id": ticket,
            "device_id": device,
            "kind": "annul",
            "verdict": "annulled",
            "annuls_checkin_id": target["row_id"],
            "reason": "scanned by mistake",
            "scanned_at": at,
        },
    )


def _at(minute: int) -> str:
    return f"2026-11-22T{19 + minute // 60:02d}:{minute % 60:02d}:00.000000Z"


def _push(
    db: SupabaseDB, claims: dict, device: str, batch: list[dict], *, fast: bool, keep: bool
) -> dict[str, Any]:
    """Push ``batch`` in one transaction; report the results, how many mutations took the
    one-at-a-time path (push_one calls), and the check-ins and idempotency records the
    caller sees afterwards. ``keep=False`` rolls everything back."""
    with db.connect(autocommit=False) as conn:
        conn.execute("SET track_functions = 'pl'")
        apply_claims(conn, claims)
        conn.execute(
            "SELECT set_config('showdesk.push_fast_path', %s, true)", ("on" if fast else "off",)
        )
        results = conn.execute(
            "SELECT sync_push(%s, %s::jsonb) AS r", (device, json.dumps(batch))
        ).fetchone()["r"]["results"]
        one_by_one = conn.execute(
            "SELECT coalesce(sum(calls), 0) AS n FROM pg_stat_xact_user_functions"
            " WHERE funcname = 'push_one'"
        ).fetchone()["n"]
        checkins = conn.execute(
            "SELECT id::text, ticket_id::text, double_entry, device_id::text, gate, kind"
            " FROM checkins ORDER BY id"
        ).fetchall()
        records = conn.execute(
            "SELECT mutation_id::text, row_id::text, status FROM sync_mutations ORDER BY 1"
        ).fetchall()
        if keep:
            conn.commit()
        else:
            conn.rollback()
    return {"results": results, "one_by_one": one_by_one, "checkins": checkins, "records": records}


def _comparable(results: list[dict]) -> list[tuple]:
    """Results without the version numbers (the sequence moves on between the two runs);
    whether there is a version still counts."""
    return [
        (
            r["mutation_id"],
            r["status"],
            r.get("original_status"),
            r["reason"],
            r["server_row"],
            r["version"] is not None,
        )
        for r in results
    ]


def _both_paths(db: SupabaseDB, claims: dict, device: str, batch: list[dict]) -> dict:
    """The batch through the per-mutation path (rolled back), then the fast path (kept);
    asserts they agree and returns the fast run."""
    slow = _push(db, claims, device, batch, fast=False, keep=False)
    fast = _push(db, claims, device, batch, fast=True, keep=True)
    assert _comparable(fast["results"]) == _comparable(slow["results"])
    assert fast["checkins"] == slow["checkins"]
    assert fast["records"] == slow["records"]
    assert slow["one_by_one"] == len(batch)
    return fast


def _flags(db: SupabaseDB, ticket: str) -> list[tuple[str, str, bool]]:
    rows = db.execute(
        "SELECT to_char(scanned_at AT TIME ZONE 'UTC', 'HH24:MI') AS at, direction, double_entry"
        " FROM checkins WHERE ticket_id = %s AND kind = 'scan' ORDER BY scanned_at",
        (ticket,),
    )
    return [(r["at"], r["direction"], r["double_entry"]) for r in rows]


def test_a_plain_run_of_scans_goes_in_at_once_exactly_once(supabase_db, org):
    tickets = supabase_db.create_tickets(org, 20)
    device = org.devices[0]
    door = supabase_db.claims(org, "door", device)
    batch = [_scan(org, t, device, _at(i)) for i, t in enumerate(tickets * 2)]
    fast = _both_paths(supabase_db, door, device, batch)
    assert fast["one_by_one"] == 0
    assert [r["status"] for r in fast["results"]] == ["applied"] * 40
    assert [r["mutation_id"] for r in fast["results"]] == [m["mutation_id"] for m in batch]
    assert len({r["version"] for r in fast["results"]}) == 40
    # each ticket's second admission (20 minutes later, still inside) is the double entry
    assert _flags(supabase_db, tickets[3]) == [("19:03", "in", False), ("19:23", "in", True)]

    replay = _push(supabase_db, door, device, batch, fast=True, keep=True)
    assert [r["status"] for r in replay["results"]] == ["duplicate"] * 40
    assert [r["original_status"] for r in replay["results"]] == ["applied"] * 40
    assert [r["version"] for r in replay["results"]] == [r["version"] for r in fast["results"]]
    assert replay["one_by_one"] == 0
    assert supabase_db.scalar("SELECT count(*) FROM checkins") == 40
    assert supabase_db.scalar("SELECT count(*) FROM sync_mutations") == 40


def _mixed_batch(supabase_db: SupabaseDB, org: OrgFixture) -> tuple[list[dict], dict]:
    """200 check-ins: scans, exits and an annulment over 40 tickets in shuffled order, a
    replay of an applied mutation, the same row under a new mutation id, malformed ones."""
    tickets = supabase_db.create_tickets(org, 40)
    north, south = org.devices
    door_north = supabase_db.claims(org, "door", north)
    no_reentry = supabase_db.scalar(
        "INSERT INTO ticket_types (event_id, name, tier, price, allow_reentry)"
        " VALUES (%s, 'Gala', 'vip', 90, false) RETURNING id::text",
        (org.event_id,),
    )
    supabase_db.execute(
        "UPDATE tickets SET ticket_type_id = %s WHERE id = %s", (no_reentry, tickets[1])
    )
    # pushed earlier: the late admissions of tickets 0 and 1
    earlier = [
        _scan(org, tickets[0], south, _at(30)),
        _scan(org, tickets[1], south, _at(90)),
        _scan(org, tickets[2], south, _at(5)),
    ]
    assert [r["status"] for r in supabase_db.push(door_north, north, earlier)] == ["applied"] * 3

    first_admission = _scan(org, tickets[4], north, _at(0))
    special = [
        _scan(org, tickets[0], north, _at(0)),  # earlier admission arriving later
        _scan(org, tickets[1], north, _at(0)),  # no re-entry tier: in, out, in
        _scan(org, tickets[1], north, _at(60), direction="out"),
        _scan(org, tickets[3], north, _at(50)),  # later admission first, earlier below
        _scan(org, tickets[3], north, _at(40), direction="out"),
        _scan(org, tickets[3], north, _at(10)),
        _scan(org, tickets[4], north, _at(20)),  # flagged until the first is annulled
        first_admission,
        _annul(org, tickets[4], north, first_admission, _at(25)),
        earlier[2],  # a replay of an applied mutation
        dict(earlier[0], mutation_id=str(uuid.uuid4())),  # the same row, a new mutation id
        dict(_scan(org, tickets[5], north, _at(1)), mutation_id="not-a-uuid"),
        _scan(org, tickets[5], north, "yesterday-ish"),
        _scan(org, tickets[5], north, _at(2), direction="sideways"),
        mutation(
            "checkins", "insert", str(uuid.uuid4()), {"event_id": org.event_id, "shoe_size": 44}
        ),
    ]
    rng = random.Random(7)
    filler = [
        _scan(
            org,
            tickets[rng.randrange(6, 40)],
            rng.choice(org.devices),
            _at(rng.randrange(180)),
            direction=rng.choice(["in", "in", "out"]),
        )
        for _ in range(200 - len(special))
    ]
    batch = filler + special
    rng.shuffle(batch)
    return batch, {"tickets": tickets, "door": door_north, "special": special}


def test_a_mixed_batch_answers_like_the_one_at_a_time_path(supabase_db, org):
    batch, ctx = _mixed_batch(supabase_db, org)
    tickets, special = ctx["tickets"], ctx["special"]
    fast = _both_paths(supabase_db, ctx["door"], org.devices[0], batch)
    # only the odd ones went one at a time; the rest went in with one insert
    assert 0 < fast["one_by_one"] <= 6
    by_id = {r["mutation_id"]: r for r in fast["results"]}
    assert by_id[special[9]["mutation_id"]]["status"] == "duplicate"
    assert by_id[special[9]["mutation_id"]]["original_status"] == "applied"
    assert by_id[special[10]["mutation_id"]]["status"] == "duplicate"
    assert by_id["not-a-uuid"]["status"] == "rejected"
    for bad in special[12:]:
        assert by_id[bad["mutation_id"]]["status"] == "rejected", bad
    statuses = [r["status"] for r in fast["results"]]
    assert statuses.count("applied") == 200 - 2 - 4
    # rejections are not stored
    assert supabase_db.scalar("SELECT count(*) FROM sync_mutations") == 3 + 194

    # the first admission by device time stands, whichever arrived first
    assert _flags(supabase_db, tickets[0]) == [("19:00", "in", False), ("19:30", "in", True)]
    # no re-entry: a second admission after an exit is still a double entry
    assert _flags(supabase_db, tickets[1]) == [
        ("19:00", "in", False),
        ("20:00", "out", False),
        ("20:30", "in", True),
    ]
    # an exit allows re-entry
    assert _flags(supabase_db, tickets[3]) == [
        ("19:10", "in", False),
        ("19:40", "out", False),
        ("19:50", "in", False),
    ]
    # the annulled first admission does not count: the second one stands
    assert _flags(supabase_db, tickets[4]) == [("19:00", "in", False), ("19:20", "in", False)]


def test_a_scan_the_policies_refuse_is_rejected_alone(supabase_db, org):
    other = supabase_db.create_org("Beta")
    [foreign_ticket] = supabase_db.create_tickets(other, 1)
    batch, ctx = _mixed_batch(supabase_db, org)
    intruder = _scan(org, foreign_ticket, org.devices[0], _at(3), event_id=other.event_id)
    batch.insert(100, intruder)
    batch.pop()
    fast = _both_paths(supabase_db, ctx["door"], org.devices[0], batch)
    assert fast["one_by_one"] <= 7  # the refused scan is found by halving, not one by one
    [answer] = [r for r in fast["results"] if r["mutation_id"] == intruder["mutation_id"]]
    assert answer["status"] == "rejected"
    assert "Not permitted" in answer["reason"]
    assert (
        supabase_db.scalar("SELECT count(*) FROM checkins WHERE event_id = %s", (other.event_id,))
        == 0
    )
    assert [r["status"] for r in fast["results"]].count("applied") >= 190


def test_a_role_that_may_not_add_checkins_gets_every_one_rejected(supabase_db, org):
    tickets = supabase_db.create_tickets(org, 3)
    device = org.devices[0]
    producer = supabase_db.claims(org, "producer", device)
    batch = [_scan(org, t, device, _at(i)) for i, t in enumerate(tickets)]
    fast = _both_paths(supabase_db, producer, device, batch)
    assert [r["status"] for r in fast["results"]] == ["rejected"] * 3
    assert supabase_db.scalar("SELECT count(*) FROM checkins") == 0


def test_the_same_mutation_twice_in_one_batch_is_applied_once(supabase_db, org):
    tickets = supabase_db.create_tickets(org, 3)
    device = org.devices[0]
    door = supabase_db.claims(org, "door", device)
    scans = [_scan(org, t, device, _at(i)) for i, t in enumerate(tickets)]
    same_row = dict(scans[2], mutation_id=str(uuid.uuid4()))
    batch = [scans[0], scans[1], scans[0], scans[2], same_row]
    fast = _both_paths(supabase_db, door, device, batch)
    assert [r["status"] for r in fast["results"]] == [
        "applied",
        "applied",
        "duplicate",
        "applied",
        "duplicate",
    ]
    assert fast["results"][2]["original_status"] == "applied"
    assert supabase_db.scalar("SELECT count(*) FROM checkins") == 3


def test_other_mutations_around_a_run_keep_their_place(supabase_db, org):
    tickets = supabase_db.create_tickets(org, 4)
    device = org.devices[0]
    organizer = supabase_db.claims(org, "organizer", device)
    attendee = mutation(
        "attendees",
        "insert",
        str(uuid.uuid4()),
        {"event_id": org.event_id, "first_name": "Nadia", "last_name": "Okafor"},
    )
    scans = [_scan(org, t, device, _at(i)) for i, t in enumerate(tickets)]
    bad = mutation("checkins", "update", scans[0]["row_id"], {"gate": "South"})
    batch = [scans[0], scans[1], attendee, scans[2], bad, scans[3]]
    fast = _both_paths(supabase_db, organizer, device, batch)
    assert [r["status"] for r in fast["results"]] == [
        "applied",
        "applied",
        "applied",
        "applied",
        "rejected",
        "applied",
    ]
    assert [r["mutation_id"] for r in fast["results"]] == [m["mutation_id"] for m in batch]


def test_flags_match_the_ticket_by_ticket_walk_in_any_arrival_order(supabase_db, org):
    """Random scans, exits, refusals and annulments over tickets with and without re-entry,
    pushed in shuffled batches: the set-based recompute leaves exactly the flags the
    original walk (recompute_double_entries, 0003) gives."""
    tickets = supabase_db.create_tickets(org, 12)
    no_reentry = supabase_db.scalar(
        "INSERT INTO ticket_types (event_id, name, tier, price, allow_reentry)"
        " VALUES (%s, 'Gala', 'vip', 90, false) RETURNING id::text",
        (org.event_id,),
    )
    supabase_db.execute(
        "UPDATE tickets SET ticket_type_id = %s WHERE id = ANY(%s::uuid[])",
        (no_reentry, tickets[:6]),
    )
    rng = random.Random(11)
    device = org.devices[0]
    door = supabase_db.claims(org, "door", device)
    scans: list[dict] = []
    for _ in range(300):
        ticket = rng.choice(tickets)
        if scans and rng.random() < 0.08:
            target = rng.choice(scans)
            scans.append(
                _annul(org, target["payload"]["ticket_id"], device, target, _at(rng.randrange(240)))
            )
            continue
        scan = _scan(
            org, ticket, device, _at(rng.randrange(240)), direction=rng.choice(["in", "in", "out"])
        )
        if rng.random() < 0.1:
            scan["payload"]["verdict"] = "already_admitted"
        scans.append(scan)
    rng.shuffle(scans)
    for start in range(0, len(scans), 37):
        results = supabase_db.push(door, device, scans[start : start + 37])
        assert {r["status"] for r in results} == {"applied"}

    def flags() -> list[tuple[str, bool]]:
        rows = supabase_db.execute("SELECT id::text, double_entry FROM checkins ORDER BY id")
        return [(r["id"], r["double_entry"]) for r in rows]

    after_push = flags()
    assert any(flag for _, flag in after_push)
    supabase_db.execute(
        "SELECT showdesk_private.recompute_double_entries(t) FROM unnest(%s::uuid[]) t",
        (tickets,),
    )
    assert flags() == after_push
