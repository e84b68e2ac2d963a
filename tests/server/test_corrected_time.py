"""Check-ins on the server's clock (0019): both push paths store corrected_at and its
uncertainty, pulls carry them, the first admission is the first on the server's clock (the
kiosk's own where its offset was unknown), the platform bridges write that time back, and values
no honest kiosk sends are refused with a sentence."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from tests.server.test_bridge_ai_event_management import DOC, platform_sale
from tests.support.pg import OrgFixture, PgServer, SupabaseDB, apply_claims, mutation
from tests.support.platform import bridged_database

pytestmark = pytest.mark.postgres

PATHS = ("sync_push", "one_at_a_time", "set_insert")
BASE = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _at(minute: float) -> datetime:
    return BASE + timedelta(minutes=minute)


def _scan(
    event: str,
    ticket: str,
    device: str,
    device_minute: float,
    corrected_minute: float | None = None,
    uncertainty: float | None = 0.4,
    *,
    direction: str = "in",
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "event_id": event,
        "ticket_id": ticket,
        "device_id": device,
        "gate": "North",
        "direction": direction,
        "method": "qr",
        "kind": "scan",
        "scanned_at": _iso(_at(device_minute)),
        "verdict": "admitted" if direction == "in" else "exit_recorded",
        "offline": True,
    }
    if corrected_minute is not None:
        payload["corrected_at"] = _iso(_at(corrected_minute))
        payload["corrected_uncertainty_s"] = uncertainty
    payload.update(extra or {})
    return mutation("checkins", "insert", str(uuid.uuid4()), payload)


def _push(db: SupabaseDB, claims: dict, device: str, batch: list[dict], path: str) -> list[dict]:
    with db.connect(autocommit=False) as conn:
        apply_claims(conn, claims)
        if path == "set_insert":  # the set-based insert of 0006, called directly
            results = conn.execute(
                "SELECT to_jsonb(showdesk_private.push_checkin_run(%s,"
                " showdesk_private.my_org(), %s::jsonb, 1, %s)) AS r",
                (device, json.dumps(batch), len(batch)),
            ).fetchone()["r"]
        else:
            fast = "off" if path == "one_at_a_time" else "on"
            conn.execute("SELECT set_config('showdesk.push_fast_path', %s, true)", (fast,))
            results = conn.execute(
                "SELECT public.showdesk_sync_push(%s, %s::jsonb) AS r", (device, json.dumps(batch))
            ).fetchone()["r"]["results"]
        conn.commit()
    return results


@pytest.fixture
def org(supabase_db: SupabaseDB) -> OrgFixture:
    org = supabase_db.create_org("Alpha")
    supabase_db.create_device(org, "Kiosk North", "North")
    supabase_db.create_device(org, "Kiosk South", "South")
    return org


def _stored(db: SupabaseDB, row_id: str) -> tuple[datetime | None, float | None]:
    row = db.execute(
        "SELECT corrected_at, corrected_uncertainty_s FROM checkins WHERE id = %s", (row_id,)
    )[0]
    return row["corrected_at"], row["corrected_uncertainty_s"]


@pytest.mark.parametrize("path", PATHS)
def test_both_push_paths_store_the_corrected_time_and_pulls_carry_it(supabase_db, org, path):
    tickets = supabase_db.create_tickets(org, 3)
    device = org.devices[0]
    door = supabase_db.claims(org, "door", device)
    batch = [
        _scan(org.event_id, tickets[0], device, 10, 0, 0.25),
        _scan(org.event_id, tickets[1], device, 11, 1, 12.5),
        _scan(org.event_id, tickets[2], device, 12),  # offset unknown: no fields at all
        _scan(org.event_id, tickets[2], device, 13, extra={"corrected_at": None}),
    ]
    batch[3]["payload"]["corrected_uncertainty_s"] = None
    results = _push(supabase_db, door, device, batch, path)
    assert [r["status"] for r in results] == ["applied"] * 4, results
    assert _stored(supabase_db, batch[0]["row_id"]) == (_at(0), 0.25)
    assert _stored(supabase_db, batch[1]["row_id"]) == (_at(1), 12.5)
    assert _stored(supabase_db, batch[2]["row_id"]) == (None, None)
    assert _stored(supabase_db, batch[3]["row_id"]) == (None, None)

    changes, _cursor = supabase_db.pull_all(door, org.event_id)
    rows = {c["id"]: c["row"] for c in changes if c["table"] == "checkins"}
    first = rows[batch[0]["row_id"]]
    assert (first["corrected_at"], first["corrected_uncertainty_s"]) == (_iso(_at(0)), 0.25)
    assert first["scanned_at"] == _iso(_at(10))
    assert rows[batch[2]["row_id"]]["corrected_at"] is None


def _flags(db: SupabaseDB, ticket: str) -> list[tuple[str, bool]]:
    rows = db.execute(
        "SELECT gate, double_entry FROM checkins WHERE ticket_id = %s AND kind = 'scan'"
        " ORDER BY gate",
        (ticket,),
    )
    return [(r["gate"], r["double_entry"]) for r in rows]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("south_first", [True, False])
def test_the_first_admission_is_the_first_on_the_servers_clock(supabase_db, org, path, south_first):
    """North's clock is 10 minutes ahead: it scanned at 19:00 server time, its clock said
    19:10. South scanned at 19:05. By the kiosks' clocks South came first; it did not."""
    tickets = supabase_db.create_tickets(org, 3)
    north, south = org.devices
    door = supabase_db.claims(org, "door", north)
    e = org.event_id
    gate = {"gate": "South"}
    pairs = [
        # both offsets known: corrected times decide
        (_scan(e, tickets[0], north, 10, 0), _scan(e, tickets[0], south, 5, 5, extra=gate)),
        # South's offset unknown: its own clock stands in for the server's
        (_scan(e, tickets[1], north, 10, 0), _scan(e, tickets[1], south, 5, extra=gate)),
        # neither known: the kiosks' clocks, as before
        (_scan(e, tickets[2], north, 10), _scan(e, tickets[2], south, 5, extra=gate)),
    ]
    if south_first:
        batch = [s for _n, s in pairs] + [n for n, _s in pairs]
    else:
        batch = [n for n, _s in pairs] + [s for _n, s in pairs]
    # pushed in two calls, so the second is judged against rows already stored
    assert {r["status"] for r in _push(supabase_db, door, north, batch[:3], path)} == {"applied"}
    assert {r["status"] for r in _push(supabase_db, door, north, batch[3:], path)} == {"applied"}
    assert _flags(supabase_db, tickets[0]) == [("North", False), ("South", True)]
    assert _flags(supabase_db, tickets[1]) == [("North", False), ("South", True)]
    assert _flags(supabase_db, tickets[2]) == [("North", True), ("South", False)]


REFUSED = [
    ({"corrected_uncertainty_s": -0.5}, "cannot be negative"),
    ({"corrected_uncertainty_s": 7200}, "more than a measured clock offset can have"),
    ({"corrected_uncertainty_s": "NaN"}, "not NaN or infinity"),
    ({"corrected_at": "infinity"}, "not NaN or infinity"),
    ({"corrected_uncertainty_s": None}, "comes with its uncertainty"),
    ({"corrected_at": None}, "comes with its uncertainty"),
    ({"corrected_at": _iso(datetime.now(UTC) + timedelta(hours=2))}, "2 h ahead of the server"),
    ({"corrected_at": _iso(datetime.now(UTC) - timedelta(days=500))}, "more than 400 days"),
]


@pytest.mark.parametrize("path", PATHS)
def test_values_no_kiosk_sends_are_refused_in_words_and_the_rest_goes_in(supabase_db, org, path):
    tickets = supabase_db.create_tickets(org, 2)
    device = org.devices[0]
    door = supabase_db.claims(org, "door", device)
    good = [_scan(org.event_id, t, device, 10, 0) for t in tickets]
    bad = [_scan(org.event_id, tickets[0], device, 20, 20, extra=fields) for fields, _w in REFUSED]
    batch = [good[0], *bad, good[1]]
    results = _push(supabase_db, door, device, batch, path)
    assert [r["status"] for r in results] == ["applied", *["rejected"] * len(bad), "applied"]
    for result, (_fields, words) in zip(results[1:-1], REFUSED, strict=True):
        assert result["reason"].startswith("The server could not apply this change: ")
        assert words in result["reason"], result["reason"]
    assert supabase_db.scalar("SELECT count(*) FROM checkins") == 2
    # a sane value at the edges goes in: up to the uncertainty plus a minute ahead, 0 s sure
    edge = _scan(org.event_id, tickets[1], device, 30, extra={})
    edge["payload"].update(
        corrected_at=_iso(datetime.now(UTC) + timedelta(seconds=30)), corrected_uncertainty_s=0
    )
    assert [r["status"] for r in _push(supabase_db, door, device, [edge], path)] == ["applied"]


def test_a_direct_write_is_judged_the_same(supabase_db, org):
    [ticket] = supabase_db.create_tickets(org, 1)
    with pytest.raises(psycopg.Error, match="cannot be negative") as refused:
        supabase_db.execute(
            "INSERT INTO checkins (event_id, ticket_id, device_id, verdict, corrected_at,"
            " corrected_uncertainty_s) VALUES (%s, %s, %s, 'admitted', now(), -1)",
            (org.event_id, ticket, org.devices[0]),
        )
    assert refused.value.diag.sqlstate == "SDC01"


@pytest.fixture
def bridged_with_records(pg_server: PgServer):
    def write(conn) -> dict[str, Any]:
        return platform_sale(conn, "Maison Clocks")

    with bridged_database(pg_server, (DOC, "event_checkins"), write) as b:
        yield b


def test_the_platform_is_told_the_first_admission_on_the_servers_clock(bridged_with_records):
    db, sale = bridged_with_records
    north = db.create_device(sale["org"], "Kiosk North", "North")
    south = db.create_device(sale["org"], "Kiosk South", "South")
    ticket = sale["tickets"][0]
    late_clock = _scan(sale["event"], ticket, north, 10, 0)  # 19:10 on North's clock
    on_time = _scan(sale["event"], ticket, south, 5, extra={"gate": "South"})
    for device, m in ((south, on_time), (north, late_clock)):
        [r] = db.push(db.claims(sale["org"], "door", device), device, [m])
        assert r["status"] == "applied", r
    assert db.execute(
        "SELECT status, check_in_time FROM public.tickets WHERE id = %s", (ticket,)
    ) == [{"status": "used", "check_in_time": _at(0)}]
    logged = db.execute("SELECT id::text, check_in_time FROM public.event_checkins ORDER BY 2")
    assert logged == [
        {"id": late_clock["row_id"], "check_in_time": _at(0)},
        {"id": on_time["row_id"], "check_in_time": _at(5)},
    ]
    assert db.scalar("SELECT count(*) FROM showdesk.bridge_errors") == 0
