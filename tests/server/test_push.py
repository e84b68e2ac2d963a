"""sync_push: idempotency, conflict rules per kind of data, rejections that do not block."""

from __future__ import annotations

import json
import threading
import uuid

import pytest

from tests.support.pg import OrgFixture, SupabaseDB, mutation

pytestmark = pytest.mark.postgres


@pytest.fixture
def org(supabase_db: SupabaseDB) -> OrgFixture:
    org = supabase_db.create_org("Alpha")
    supabase_db.create_device(org, "Kiosk North", "North")
    supabase_db.create_device(org, "Kiosk South", "South")
    return org


def _claims(db: SupabaseDB, org: OrgFixture, role: str, device: int = 0) -> dict:
    return db.claims(org, role, org.devices[device])


def _scan(
    org: OrgFixture, ticket: str, device: str, at: str, verdict="admitted", direction="in"
) -> dict:
    row_id = str(uuid.uuid4())
    return mutation(
        "checkins",
        "insert",
        row_id,
        {
            "event_id": org.event_id,
            "ticket_id": ticket,
            "device_id": device,
            "gate": "North",
            "direction": direction,
            "method": "qr",
            "kind": "scan",
            "scanned_at": at,
            "verdict": verdict,
            "offline": True,
        },
    )


def _statuses(results: list[dict]) -> list[str]:
    return [r["status"] for r in results]


def _count(db: SupabaseDB, table: str) -> int:
    return db.scalar(f"SELECT count(*) FROM {table}")


def test_replaying_a_whole_batch_is_all_duplicate_and_changes_nothing(supabase_db, org):
    tickets = supabase_db.create_tickets(org, 3)
    door = _claims(supabase_db, org, "door")
    device = org.devices[0]
    batch = [_scan(org, t, device, f"2026-11-22T19:0{i}:00.000000Z") for i, t in enumerate(tickets)]
    first = supabase_db.push(door, device, batch)
    assert _statuses(first) == ["applied"] * 3
    assert [r["mutation_id"] for r in first] == [m["mutation_id"] for m in batch]
    counts = (_count(supabase_db, "checkins"), _count(supabase_db, "sync_mutations"))
    version = supabase_db.scalar("SELECT last_value FROM sync_version_seq")

    replay = supabase_db.push(door, device, batch)
    assert _statuses(replay) == ["duplicate"] * 3
    assert [r["version"] for r in replay] == [r["version"] for r in first]
    assert all(r["original_status"] == "applied" for r in replay)
    assert (_count(supabase_db, "checkins"), _count(supabase_db, "sync_mutations")) == counts
    assert supabase_db.scalar("SELECT last_value FROM sync_version_seq") == version


def test_the_same_new_row_under_a_new_mutation_id_is_a_duplicate(supabase_db, org):
    [ticket] = supabase_db.create_tickets(org, 1)
    door = _claims(supabase_db, org, "door")
    scan = _scan(org, ticket, org.devices[0], "2026-11-22T19:00:00Z")
    supabase_db.push(door, org.devices[0], [scan])
    again = dict(scan, mutation_id=str(uuid.uuid4()))
    assert _statuses(supabase_db.push(door, org.devices[0], [again])) == ["duplicate"]
    assert _count(supabase_db, "checkins") == 1


def test_a_rejection_does_not_block_the_rest_of_the_batch(supabase_db, org):
    [ticket] = supabase_db.create_tickets(org, 1)
    organizer = _claims(supabase_db, org, "organizer")
    device = org.devices[0]
    good1 = _scan(org, ticket, device, "2026-11-22T19:00:00Z")
    bad_fk = mutation(
        "tickets",
        "insert",
        str(uuid.uuid4()),
        {
            "event_id": org.event_id,
            "ticket_type_id": str(uuid.uuid4()),
            "ticket_number": "X1",
            "qr_code_data": "X1",
        },
    )
    bad_check = _scan(org, ticket, device, "2026-11-22T19:01:00Z", direction="sideways")
    bad_column = mutation("attendees", "update", str(uuid.uuid4()), {"shoe_size": 44})
    bad_table = mutation("wallets", "insert", str(uuid.uuid4()), {})
    bad_id = dict(good1, mutation_id="not-a-uuid")
    bad_time = _scan(org, ticket, device, "yesterday-ish")
    good2 = mutation(
        "attendees",
        "insert",
        str(uuid.uuid4()),
        {"event_id": org.event_id, "first_name": "Nadia", "last_name": "Okafor"},
    )
    results = supabase_db.push(
        organizer,
        device,
        [good1, bad_fk, bad_check, bad_column, bad_table, bad_id, bad_time, good2],
    )
    assert _statuses(results) == ["applied"] + ["rejected"] * 6 + ["applied"]
    reasons = [r["reason"] for r in results[1:7]]
    assert "refers to something the server does not have" in reasons[0]
    assert "not allowed" in reasons[1]
    assert "Unknown column(s) for attendees: shoe_size" in reasons[2]
    assert "Unknown table 'wallets'" in reasons[3]
    assert "mutation_id" in reasons[4]
    assert "wrong format" in reasons[5]
    assert all("Traceback" not in r and "ERROR" not in r for r in reasons)
    assert _count(supabase_db, "checkins") == 1
    assert supabase_db.scalar("SELECT count(*) FROM attendees WHERE first_name = 'Nadia'") == 1
    # rejected mutations are not remembered: fixed and re-sent, they are judged again
    assert _count(supabase_db, "sync_mutations") == 2


def test_malformed_batches_fail_as_a_whole_with_words(supabase_db, org):
    import psycopg

    door = _claims(supabase_db, org, "door")
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="JSON array"):
        with supabase_db.as_claims(door) as conn:
            conn.execute(
                "SELECT sync_push(%s, %s::jsonb)", (org.devices[0], json.dumps({"not": "a list"}))
            )
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="its own registered device"):
        supabase_db.push(door, str(uuid.uuid4()), [])


def _admissions(db: SupabaseDB, ticket: str) -> list[tuple[str, bool]]:
    rows = db.execute(
        "SELECT to_char(scanned_at AT TIME ZONE 'UTC', 'HH24:MI') AS at, double_entry FROM checkins"
        " WHERE ticket_id = %s ORDER BY scanned_at",
        (ticket,),
    )
    return [(r["at"], r["double_entry"]) for r in rows]


@pytest.mark.parametrize("arrival", ["earlier-first", "later-first"])
def test_double_entry_flags_the_later_admission_whatever_the_arrival_order(
    supabase_db, org, arrival
):
    [ticket] = supabase_db.create_tickets(org, 1)
    north, south = org.devices
    early = _scan(org, ticket, north, "2026-11-22T19:00:00Z")
    late = _scan(org, ticket, south, "2026-11-22T19:05:00Z")
    order = (
        [(north, early), (south, late)]
        if arrival == "earlier-first"
        else [(south, late), (north, early)]
    )
    for device, scan in order:
        claims = supabase_db.claims(org, "door", device)
        assert _statuses(supabase_db.push(claims, device, [scan])) == ["applied"]
    # both scans are kept; the first admission by device time stands
    assert _admissions(supabase_db, ticket) == [("19:00", False), ("19:05", True)]
    # and the flag reaches the replicas
    changes, _ = supabase_db.pull_all(supabase_db.claims(org, "door", north), org.event_id)
    flagged = [c["row"]["double_entry"] for c in changes if c["table"] == "checkins"]
    assert sorted(flagged) == [False, True]


def test_exit_then_entry_is_a_reentry_not_a_double_entry(supabase_db, org):
    [ticket] = supabase_db.create_tickets(org, 1)
    north, south = org.devices
    scans = [
        (north, _scan(org, ticket, north, "2026-11-22T19:00:00Z")),
        (south, _scan(org, ticket, south, "2026-11-22T20:00:00Z")),
        (
            north,
            _scan(
                org, ticket, north, "2026-11-22T19:30:00Z", verdict="exit_recorded", direction="out"
            ),
        ),
    ]
    for device, scan in scans:
        supabase_db.push(supabase_db.claims(org, "door", device), device, [scan])
    assert _admissions(supabase_db, ticket) == [
        ("19:00", False),
        ("19:30", False),
        ("20:00", False),
    ]
    # without re-entry for the tier, a second admission is a double entry even after an exit
    supabase_db.execute("UPDATE ticket_types SET allow_reentry = false")
    late = _scan(org, ticket, south, "2026-11-22T21:00:00Z")
    supabase_db.push(supabase_db.claims(org, "door", south), south, [late])
    assert _admissions(supabase_db, ticket)[-2:] == [("20:00", True), ("21:00", True)]


def test_annulling_the_first_admission_clears_the_flag_of_the_second(supabase_db, org):
    [ticket] = supabase_db.create_tickets(org, 1)
    north, south = org.devices
    first = _scan(org, ticket, north, "2026-11-22T19:00:00Z")
    second = _scan(org, ticket, south, "2026-11-22T19:05:00Z")
    supabase_db.push(supabase_db.claims(org, "door", north), north, [first])
    supabase_db.push(supabase_db.claims(org, "door", south), south, [second])
    assert _admissions(supabase_db, ticket)[1] == ("19:05", True)
    annul = mutation(
        "checkins",
        "insert",
        str(uuid.uuid4()),
        {
            "event_id": org.event_id,
            "ticket_id": ticket,
            "device_id": north,
            "kind": "annul",
            "verdict": "annulled",
            "annuls_checkin_id": first["row_id"],
            "reason": "scanned by mistake",
            "scanned_at": "2026-11-22T19:06:00Z",
        },
    )
    assert _statuses(supabase_db.push(supabase_db.claims(org, "door", north), north, [annul])) == [
        "applied"
    ]
    flags = supabase_db.execute(
        "SELECT id, double_entry FROM checkins WHERE kind = 'scan' ORDER BY scanned_at"
    )
    assert [r["double_entry"] for r in flags] == [False, False]


def test_checkins_are_append_only(supabase_db, org):
    [ticket] = supabase_db.create_tickets(org, 1)
    organizer = _claims(supabase_db, org, "organizer")
    scan = _scan(org, ticket, org.devices[0], "2026-11-22T19:00:00Z")
    supabase_db.push(organizer, org.devices[0], [scan])
    edit = mutation("checkins", "update", scan["row_id"], {"verdict": "unknown"}, base_version=1)
    delete = mutation("checkins", "delete", scan["row_id"])
    results = supabase_db.push(organizer, org.devices[0], [edit, delete])
    assert _statuses(results) == ["rejected", "rejected"]
    assert "append-only" in results[0]["reason"]


def _version(db: SupabaseDB, table: str, row_id: str) -> int:
    return db.scalar(f"SELECT version FROM {table} WHERE id = %s", (row_id,))


def test_same_column_edited_on_both_sides_is_a_conflict_the_server_wins(supabase_db, org):
    supabase_db.create_tickets(org, 1)
    attendee = supabase_db.scalar("SELECT id FROM attendees")
    attendee = str(attendee)
    organizer = _claims(supabase_db, org, "organizer")
    base = _version(supabase_db, "attendees", attendee)
    # another kiosk's edit reached the server first
    [first] = supabase_db.push(
        _claims(supabase_db, org, "organizer", 1),
        org.devices[1],
        [mutation("attendees", "update", attendee, {"notes": "Wheelchair user"}, base)],
    )
    assert first["status"] == "applied" and first["version"] > base
    # this kiosk edited the same column offline, from the same base
    [lost] = supabase_db.push(
        organizer,
        org.devices[0],
        [mutation("attendees", "update", attendee, {"notes": "Plus one"}, base)],
    )
    assert lost["status"] == "conflict"
    assert lost["server_row"]["notes"] == "Wheelchair user"
    assert lost["version"] == first["version"]
    assert "notes" in lost["reason"]
    assert (
        supabase_db.scalar("SELECT notes FROM attendees WHERE id = %s", (attendee,))
        == "Wheelchair user"
    )
    # a replay of the conflicting mutation answers with the stored result
    [replay] = supabase_db.push(
        organizer,
        org.devices[0],
        [
            mutation(
                "attendees",
                "update",
                attendee,
                {"notes": "Plus one"},
                base,
                mutation_id=lost["mutation_id"],
            )
        ],
    )
    assert replay["status"] == "duplicate" and replay["original_status"] == "conflict"
    assert replay["server_row"]["notes"] == "Wheelchair user"


def test_different_columns_edited_on_both_sides_merge(supabase_db, org):
    supabase_db.create_tickets(org, 1)
    attendee = str(supabase_db.scalar("SELECT id FROM attendees"))
    organizer = _claims(supabase_db, org, "organizer")
    base = _version(supabase_db, "attendees", attendee)
    a = supabase_db.push(
        _claims(supabase_db, org, "organizer", 1),
        org.devices[1],
        [mutation("attendees", "update", attendee, {"notes": "VIP"}, base)],
    )
    b = supabase_db.push(
        organizer,
        org.devices[0],
        [mutation("attendees", "update", attendee, {"phone": "+33 6 12 34 56 78"}, base)],
    )
    # the same value written on both sides is no conflict either
    c = supabase_db.push(
        organizer,
        org.devices[0],
        [mutation("attendees", "update", attendee, {"notes": "VIP"}, base)],
    )
    assert _statuses(a + b + c) == ["applied", "applied", "applied"]
    row = supabase_db.execute("SELECT notes, phone FROM attendees WHERE id = %s", (attendee,))[0]
    assert row == {"notes": "VIP", "phone": "+33 6 12 34 56 78"}


@pytest.fixture
def lineup(supabase_db: SupabaseDB, org: OrgFixture) -> dict:
    with supabase_db.connect() as conn:
        show = conn.execute(
            "INSERT INTO runway_shows (event_id, name) VALUES (%s, 'SS27') RETURNING id",
            (org.event_id,),
        ).fetchone()["id"]
        segment = conn.execute(
            "INSERT INTO runway_segments (show_id, name, order_key) VALUES (%s, 'Opening', 'a0') RETURNING id",
            (show,),
        ).fetchone()["id"]
        rows = []
        for i, key in enumerate(["a0", "a1", "a2"]):
            look = conn.execute(
                "INSERT INTO looks (event_id, title) VALUES (%s, %s) RETURNING id",
                (org.event_id, f"Look {i + 1}"),
            ).fetchone()["id"]
            rows.append(
                str(
                    conn.execute(
                        "INSERT INTO runway_appearances (segment_id, look_id, order_key) VALUES (%s, %s, %s)"
                        " RETURNING id",
                        (segment, look, key),
                    ).fetchone()["id"]
                )
            )
    return {"show": str(show), "segment": str(segment), "appearances": rows}


def test_moves_of_different_looks_both_stand(supabase_db, org, lineup):
    producer = _claims(supabase_db, org, "producer")
    a1, a2, a3 = lineup["appearances"]
    v1, v3 = (
        _version(supabase_db, "runway_appearances", a1),
        _version(supabase_db, "runway_appearances", a3),
    )
    # producer 1 moves look 3 to the top; producer 2 (offline, same snapshot) moves look 1 to the end
    r1 = supabase_db.push(
        producer,
        org.devices[0],
        [mutation("runway_appearances", "update", a3, {"order_key": "Zz"}, v3)],
    )
    r2 = supabase_db.push(
        _claims(supabase_db, org, "producer", 1),
        org.devices[1],
        [mutation("runway_appearances", "update", a1, {"order_key": "a3"}, v1)],
    )
    assert _statuses(r1 + r2) == ["applied", "applied"]
    order = [
        r["id"]
        for r in supabase_db.execute(
            'SELECT id::text FROM runway_appearances ORDER BY order_key COLLATE "C"'
        )
    ]
    assert order == [a3, a2, a1]
    # the same look moved by both: the second loses, and is told where the server put it
    r3 = supabase_db.push(
        _claims(supabase_db, org, "producer", 1),
        org.devices[1],
        [mutation("runway_appearances", "update", a3, {"order_key": "a5"}, v3)],
    )
    assert r3[0]["status"] == "conflict" and r3[0]["server_row"]["order_key"] == "Zz"
    # while a status change of the moved row, from the old base, merges (different column)
    r4 = supabase_db.push(
        _claims(supabase_db, org, "producer", 1),
        org.devices[1],
        [mutation("runway_appearances", "update", a3, {"status": "ready"}, v3)],
    )
    assert r4[0]["status"] == "applied"


@pytest.fixture
def call_time(supabase_db: SupabaseDB, org: OrgFixture) -> str:
    with supabase_db.connect() as conn:
        person = conn.execute(
            "INSERT INTO people (event_id, full_name, role, department) VALUES (%s, 'Ines Duarte', 'Model', 'models')"
            " RETURNING id",
            (org.event_id,),
        ).fetchone()["id"]
        return str(
            conn.execute(
                "INSERT INTO call_times (event_id, person_id, call_at) VALUES (%s, %s, '2026-11-22T17:00:00Z')"
                " RETURNING id",
                (org.event_id, person),
            ).fetchone()["id"]
        )


def test_the_earliest_arrival_stands(supabase_db, org, call_time):
    base = _version(supabase_db, "call_times", call_time)
    pushes = [
        "2026-11-22T17:05:00.000000Z",
        "2026-11-22T17:01:00.000000Z",
        "2026-11-22T17:10:00.000000Z",
    ]
    for i, at in enumerate(pushes):
        [r] = supabase_db.push(
            _claims(supabase_db, org, "producer", i % 2),
            org.devices[i % 2],
            [mutation("call_times", "update", call_time, {"arrived_at": at}, base)],
        )
        assert r["status"] == "applied", r
    arrived = supabase_db.scalar(
        "SELECT to_char(arrived_at AT TIME ZONE 'UTC', 'HH24:MI') FROM call_times WHERE id = %s",
        (call_time,),
    )
    assert arrived == "17:01"


def test_producer_cannot_touch_door_tables_and_door_cannot_edit_the_lineup(
    supabase_db, org, lineup
):
    [ticket] = supabase_db.create_tickets(org, 1)
    producer = _claims(supabase_db, org, "producer")
    door = _claims(supabase_db, org, "door")
    [r1] = supabase_db.push(
        producer, org.devices[0], [_scan(org, ticket, org.devices[0], "2026-11-22T19:00:00Z")]
    )
    a1 = lineup["appearances"][0]
    [r2] = supabase_db.push(
        door, org.devices[0], [mutation("runway_appearances", "update", a1, {"order_key": "b"})]
    )
    [r3] = supabase_db.push(
        door, org.devices[0], [mutation("tickets", "update", ticket, {"status": "cancelled"})]
    )
    assert _statuses([r1, r2, r3]) == ["rejected"] * 3
    assert "Not permitted" in r1["reason"]
    assert _count(supabase_db, "checkins") == 0
    assert supabase_db.scalar("SELECT status FROM tickets") == "valid"


def test_deletes_conflict_when_the_row_changed_and_repeat_as_duplicate(supabase_db, org):
    supabase_db.create_tickets(org, 1)
    attendee = str(supabase_db.scalar("SELECT id FROM attendees"))
    organizer = _claims(supabase_db, org, "organizer")
    base = _version(supabase_db, "attendees", attendee)
    supabase_db.execute("DELETE FROM tickets")
    supabase_db.execute(
        "UPDATE attendees SET notes = 'changed on the server' WHERE id = %s", (attendee,)
    )
    [stale] = supabase_db.push(
        organizer, org.devices[0], [mutation("attendees", "delete", attendee, base_version=base)]
    )
    assert stale["status"] == "conflict" and stale["server_row"]["notes"] == "changed on the server"
    current = _version(supabase_db, "attendees", attendee)
    [ok] = supabase_db.push(
        organizer, org.devices[0], [mutation("attendees", "delete", attendee, base_version=current)]
    )
    assert ok["status"] == "applied" and ok["version"] > current
    [again] = supabase_db.push(
        organizer, org.devices[0], [mutation("attendees", "delete", attendee)]
    )
    assert again["status"] == "duplicate"
    [edit] = supabase_db.push(
        organizer,
        org.devices[0],
        [mutation("attendees", "update", attendee, {"notes": "x"}, current)],
    )
    assert edit["status"] == "conflict" and edit["server_row"] is None


def test_cancelling_a_ticket_revokes_its_token_for_every_door(supabase_db, org):
    [ticket] = supabase_db.create_tickets(org, 1)
    door = _claims(supabase_db, org, "door")
    _, cursor = supabase_db.pull_all(door, org.event_id)
    organizer = _claims(supabase_db, org, "organizer")
    base = _version(supabase_db, "tickets", ticket)
    [r] = supabase_db.push(
        organizer,
        org.devices[0],
        [mutation("tickets", "update", ticket, {"status": "refunded"}, base)],
    )
    assert r["status"] == "applied"
    changes, _ = supabase_db.pull_all(door, org.event_id, cursor)
    revoked = [c["row"] for c in changes if c["table"] == "revoked_tokens"]
    assert len(revoked) == 1
    assert (
        revoked[0]["ticket_id"] == ticket
        and revoked[0]["reason"] == "refunded"
        and revoked[0]["token_serial"] == 1
    )
    # re-issuing bumps the serial and revokes the old one
    supabase_db.execute(
        "UPDATE tickets SET token_serial = 2, status = 'valid' WHERE id = %s", (ticket,)
    )
    assert (
        supabase_db.scalar("SELECT count(*) FROM revoked_tokens WHERE ticket_id = %s", (ticket,))
        == 1
    )
    supabase_db.execute("UPDATE tickets SET token_serial = 3 WHERE id = %s", (ticket,))
    assert [
        r["token_serial"]
        for r in supabase_db.execute("SELECT token_serial FROM revoked_tokens ORDER BY 1")
    ] == [
        1,
        2,
    ]


def test_the_same_mutation_pushed_twice_at_once_is_applied_once(supabase_db, org):
    [ticket] = supabase_db.create_tickets(org, 1)
    door = _claims(supabase_db, org, "door")
    scan = _scan(org, ticket, org.devices[0], "2026-11-22T19:00:00Z")
    from tests.support.pg import apply_claims

    first = supabase_db.connect(autocommit=False)
    try:
        apply_claims(first, door)
        r1 = first.execute(
            "SELECT sync_push(%s, %s::jsonb) AS r", (org.devices[0], json.dumps([scan]))
        ).fetchone()
        results: list = []
        worker = threading.Thread(
            target=lambda: results.extend(supabase_db.push(door, org.devices[0], [scan]))
        )
        worker.start()
        worker.join(0.5)
        assert worker.is_alive()  # the second push waits for the first transaction
        first.commit()
        worker.join(10)
    finally:
        first.close()
    assert r1["r"]["results"][0]["status"] == "applied"
    assert _statuses(results) == ["duplicate"]
    assert _count(supabase_db, "checkins") == 1


def test_deleting_a_row_others_still_refer_to_is_rejected_with_words(supabase_db, org):
    [ticket] = supabase_db.create_tickets(org, 1)
    attendee = str(supabase_db.scalar("SELECT attendee_id FROM tickets WHERE id = %s", (ticket,)))
    organizer = _claims(supabase_db, org, "organizer")
    [r] = supabase_db.push(organizer, org.devices[0], [mutation("attendees", "delete", attendee)])
    assert r["status"] == "rejected"
    assert r["reason"].startswith("Other rows still refer to this row of attendees")
    assert supabase_db.scalar("SELECT count(*) FROM attendees WHERE id = %s", (attendee,)) == 1
