"""sync_pull: ordered resumable pages, tombstones, reset, and THE late-commit guarantee."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import psycopg
import pytest

from tests.support.pg import OrgFixture, SupabaseDB

pytestmark = pytest.mark.postgres


@pytest.fixture
def org(supabase_db: SupabaseDB) -> OrgFixture:
    org = supabase_db.create_org("Alpha")
    supabase_db.create_device(org)
    return org


@pytest.fixture
def door(supabase_db: SupabaseDB, org: OrgFixture) -> dict:
    return supabase_db.claims(org, "door", org.devices[0])


def _ids(changes: list[dict], table: str | None = None) -> list[str]:
    return [c["id"] for c in changes if table is None or c["table"] == table]


def test_first_pull_brings_the_event_with_wire_formats(supabase_db, org, door):
    supabase_db.create_tickets(org, 2)
    page = supabase_db.pull(door, org.event_id)
    assert page["reset"] is False and page["has_more"] is False
    server_time = datetime.fromisoformat(page["server_time"].replace("Z", "+00:00"))
    assert abs((server_time - datetime.now(UTC)).total_seconds()) < 60
    tables = {c["table"] for c in page["changes"]}
    assert {
        "organizations",
        "venues",
        "events",
        "ticket_types",
        "orders",
        "attendees",
        "tickets",
        "devices",
    } <= tables
    tier = next(c for c in page["changes"] if c["table"] == "ticket_types")
    assert tier["row"]["price"] == "25.00"  # money as exact text
    assert tier["row"]["allowed_gates"] == []  # jsonb list
    event = next(c for c in page["changes"] if c["table"] == "events")["row"]
    assert event["starts_at"].endswith("Z") and "T" in event["starts_at"]  # ISO-8601 UTC
    assert "version" not in event and event["id"] == org.event_id
    versions = [c["version"] for c in page["changes"]]
    assert all(isinstance(v, int) and v > 0 for v in versions)


def test_nothing_new_means_an_empty_page_and_a_stable_cursor(supabase_db, org, door):
    _, cursor = supabase_db.pull_all(door, org.event_id)
    again = supabase_db.pull(door, org.event_id, cursor)
    assert again["changes"] == [] and again["has_more"] is False
    assert supabase_db.pull(door, org.event_id, again["cursor"])["changes"] == []


def test_pages_are_ordered_resumable_and_respect_the_limit(supabase_db, org, door):
    supabase_db.create_tickets(org, 20)
    everything = supabase_db.pull(door, org.event_id, None, 5000)["changes"]
    pages, cursor, cursors = [], None, []
    while True:
        page = supabase_db.pull(door, org.event_id, cursor, 7)
        assert len(page["changes"]) <= 7
        pages.append(page["changes"])
        cursors.append(page["cursor"])
        cursor = page["cursor"]
        if not page["has_more"]:
            break
    assert all(len(p) == 7 for p in pages[:-1])
    flat = [c for p in pages for c in p]
    assert _ids(flat) == _ids(everything)  # same changes, same order, none twice
    assert [c["version"] for c in flat] == sorted(c["version"] for c in flat)
    # resuming from any intermediate cursor gives exactly the rest
    resumed, _ = supabase_db.pull_all(door, org.event_id, cursors[1], 7)
    assert _ids(resumed) == _ids(flat)[14:]


def test_updates_arrive_once_with_a_new_version(supabase_db, org, door):
    [ticket] = supabase_db.create_tickets(org, 1)
    _, cursor = supabase_db.pull_all(door, org.event_id)
    supabase_db.execute(
        "UPDATE attendees SET notes = 'VIP host' WHERE event_id = %s", (org.event_id,)
    )
    changes, cursor = supabase_db.pull_all(door, org.event_id, cursor)
    assert [(c["table"], c["row"]["notes"]) for c in changes] == [("attendees", "VIP host")]
    # an UPDATE that changes nothing is not a change
    supabase_db.execute("UPDATE tickets SET status = status WHERE id = %s", (ticket,))
    assert supabase_db.pull(door, org.event_id, cursor)["changes"] == []


def test_deletes_arrive_as_tombstones(supabase_db, org, door):
    tickets = supabase_db.create_tickets(org, 2)
    _, cursor = supabase_db.pull_all(door, org.event_id)
    supabase_db.execute("DELETE FROM tickets WHERE id = %s", (tickets[0],))
    changes, _ = supabase_db.pull_all(door, org.event_id, cursor)
    assert len(changes) == 1
    tomb = changes[0]
    assert tomb == {
        "table": "tickets",
        "id": tickets[0],
        "deleted": True,
        "row": None,
        "version": tomb["version"],
    }
    # a fresh replica gets the tombstone too (harmless) but not the row
    full, _ = supabase_db.pull_all(door, org.event_id)
    assert [c["deleted"] for c in full if c["id"] == tickets[0]] == [True]


def test_cursor_older_than_the_kept_tombstones_resets(supabase_db, org, door):
    tickets = supabase_db.create_tickets(org, 2)
    _, old_cursor = supabase_db.pull_all(door, org.event_id)
    supabase_db.execute("DELETE FROM tickets WHERE id = %s", (tickets[0],))
    _, new_cursor = supabase_db.pull_all(door, org.event_id, old_cursor)
    supabase_db.execute(
        "UPDATE sync_settings SET value = '7' WHERE key = 'tombstone_retention_days'"
    )
    # not yet old enough: nothing purged, nobody reset
    assert supabase_db.scalar("SELECT sync_purge()")["purged_tombstones"] == 0
    assert supabase_db.pull(door, org.event_id, old_cursor)["reset"] is False
    purged = supabase_db.scalar("SELECT sync_purge(now() + interval '8 days')")
    assert purged["purged_tombstones"] == 1
    reset = supabase_db.pull(door, org.event_id, old_cursor)
    assert reset.pop("server_time").endswith("Z")
    assert reset == {"changes": [], "cursor": None, "has_more": False, "reset": True}
    # a replica that had already seen the delete carries on
    assert supabase_db.pull(door, org.event_id, new_cursor)["reset"] is False
    # and a full resync works, without the purged row
    full, _ = supabase_db.pull_all(door, org.event_id, "")
    assert tickets[0] not in _ids(full) and tickets[1] in _ids(full)


def test_malformed_or_future_cursor_resets(supabase_db, org, door):
    for cursor in [
        "garbage",
        "1:abc:1",
        "2:5:5",
        "1:99999999999999:0",
        "1:5:5; drop table tickets",
    ]:
        assert supabase_db.pull(door, org.event_id, cursor)["reset"] is True, cursor


def test_a_cursor_taken_under_another_role_starts_again(supabase_db, org, door):
    supabase_db.create_tickets(org, 2)
    backstage = supabase_db.create_backstage(org)
    _, cursor = supabase_db.pull_all(door, org.event_id)
    assert cursor.startswith("2:")
    producer = supabase_db.claims(org, "producer", org.devices[0])
    # the same kiosk signed in as a producer: what the door cursor passed is not enough
    assert supabase_db.pull(producer, org.event_id, cursor)["reset"] is True
    full, producer_cursor = supabase_db.pull_all(producer, org.event_id, "")
    assert set(backstage["appearances"]) <= set(_ids(full, "runway_appearances"))
    assert _ids(full, "tickets") == []
    # and back: each scope keeps its own cursor valid, the other's resets
    assert supabase_db.pull(door, org.event_id, cursor)["reset"] is False
    assert supabase_db.pull(door, org.event_id, producer_cursor)["reset"] is True
    # a kiosk of another organization has another scope too
    other = supabase_db.create_org("Beta")
    outsider = supabase_db.claims(other, "door", supabase_db.create_device(other))
    _, beta_cursor = supabase_db.pull_all(outsider, other.event_id)
    assert beta_cursor.split(":")[1] != cursor.split(":")[1]


def test_a_cursor_of_the_first_format_is_still_read(supabase_db, org, door):
    tickets = supabase_db.create_tickets(org, 2)
    _, cursor = supabase_db.pull_all(door, org.event_id)
    _, _, xid, version = cursor.split(":")
    supabase_db.execute("UPDATE tickets SET status = 'cancelled' WHERE id = %s", (tickets[0],))
    page = supabase_db.pull(door, org.event_id, f"1:{xid}:{version}")
    assert page["reset"] is False and tickets[0] in _ids(page["changes"], "tickets")
    assert page["cursor"].startswith("2:")


def test_a_row_moved_to_another_event_leaves_a_tombstone_where_it_was(supabase_db, org):
    producer = supabase_db.claims(org, "producer", org.devices[0])
    backstage = supabase_db.create_backstage(org)
    model = backstage["models"][1]
    second = supabase_db.create_event(org)
    _, here = supabase_db.pull_all(producer, org.event_id)
    _, there = supabase_db.pull_all(producer, second)

    supabase_db.execute("UPDATE models SET event_id = %s WHERE id = %s", (second, model))
    left, here = supabase_db.pull_all(producer, org.event_id, here)
    assert [(c["table"], c["id"], c["deleted"]) for c in left] == [("models", model, True)]
    arrived, there = supabase_db.pull_all(producer, second, there)
    assert [(c["id"], c["deleted"], c["row"]["event_id"]) for c in arrived] == [
        (model, False, second)
    ]
    # a replica of the first event starting now never gets the row, only the harmless tombstone
    fresh, _ = supabase_db.pull_all(producer, org.event_id, "")
    assert [c["deleted"] for c in fresh if c["id"] == model] == [True]

    # moved back: the row comes back after its tombstone, and the second event loses it
    supabase_db.execute("UPDATE models SET event_id = %s WHERE id = %s", (org.event_id, model))
    back, _ = supabase_db.pull_all(producer, org.event_id, here)
    assert [(c["id"], c["deleted"]) for c in back] == [(model, False)]
    gone, _ = supabase_db.pull_all(producer, second, there)
    assert [(c["id"], c["deleted"]) for c in gone] == [(model, True)]
    fresh, _ = supabase_db.pull_all(producer, org.event_id, "")
    assert [c["deleted"] for c in fresh if c["id"] == model] == [True, False]

    # the tombstones of moves expire with the others
    purged = supabase_db.scalar("SELECT sync_purge(now() + interval '31 days')")
    assert purged["purged_tombstones"] == 2
    assert supabase_db.scalar("SELECT count(*) FROM sync_moved_out") == 0
    assert supabase_db.pull(producer, org.event_id, here)["reset"] is True


def test_moves_of_another_organization_are_not_readable(supabase_db, org):
    backstage = supabase_db.create_backstage(org)
    second = supabase_db.create_event(org)
    supabase_db.execute(
        "UPDATE models SET event_id = %s WHERE id = %s", (second, backstage["models"][0])
    )
    other = supabase_db.create_org("Beta")
    outsider = supabase_db.claims(other, "organizer", supabase_db.create_device(other))
    with supabase_db.as_claims(outsider) as conn:
        assert conn.execute("SELECT count(*) AS n FROM sync_moved_out").fetchone()["n"] == 0
    door = supabase_db.claims(org, "door", org.devices[0])
    with supabase_db.as_claims(door) as conn:  # door staff do not read models
        assert conn.execute("SELECT count(*) AS n FROM sync_moved_out").fetchone()["n"] == 0
    organizer = supabase_db.claims(org, "organizer", org.devices[0])
    with supabase_db.as_claims(organizer) as conn:
        assert conn.execute("SELECT count(*) AS n FROM sync_moved_out").fetchone()["n"] == 1


def _insert_attendee(conn: psycopg.Connection, event_id: str, name: str) -> tuple[str, int]:
    row = conn.execute(
        "INSERT INTO attendees (event_id, first_name, last_name) VALUES (%s, %s, 'Late') RETURNING id, version",
        (event_id, name),
    ).fetchone()
    return str(row["id"]), row["version"]


@pytest.mark.parametrize("t2_has_older_xid", [False, True], ids=["t1-first-xid", "t2-first-xid"])
def test_a_late_commit_is_never_skipped(supabase_db, org, door, t2_has_older_xid):
    """T1 takes a change number and stays open; T2 takes a later one and commits; a pull runs;
    T1 commits; the next pull must deliver T1's row. Two real concurrent connections."""
    _, cursor = supabase_db.pull_all(door, org.event_id)
    t1 = supabase_db.connect(autocommit=False)
    t2 = supabase_db.connect(autocommit=False)
    try:
        if t2_has_older_xid:
            t2.execute("SELECT pg_current_xact_id()")  # T2 gets its transaction id first
        t1_id, t1_version = _insert_attendee(t1, org.event_id, "Tee-One")
        t2_id, t2_version = _insert_attendee(t2, org.event_id, "Tee-Two")
        assert t1_version < t2_version
        t2.commit()

        first = supabase_db.pull(door, org.event_id, cursor)
        assert t1_id not in _ids(first["changes"])
        delivered_versions = [c["version"] for c in first["changes"]]
        if t2_has_older_xid:
            # T2's row is safe to deliver (every older transaction has ended)... and its version
            # is above T1's: a cursor made of change numbers alone would now skip T1's row.
            assert t2_id in _ids(first["changes"]) and max(delivered_versions) > t1_version
        else:
            # held back until T1 ends (the watermark cannot pass T1)
            assert first["changes"] == []

        t1.commit()
        second, _ = supabase_db.pull_all(door, org.event_id, first["cursor"])
        assert t1_id in _ids(second)
        got = set(_ids(first["changes"])) | set(_ids(second))
        assert {t1_id, t2_id} <= got
    finally:
        t1.close()
        t2.close()


def test_a_rolled_back_change_never_appears(supabase_db, org, door):
    _, cursor = supabase_db.pull_all(door, org.event_id)
    with supabase_db.connect(autocommit=False) as conn:
        _insert_attendee(conn, org.event_id, "Ghost")
        conn.rollback()
    assert supabase_db.pull(door, org.event_id, cursor)["changes"] == []


def test_pull_of_another_organizations_event_is_refused(supabase_db, org, door):
    other = supabase_db.create_org("Beta")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="may not sync that event"):
        supabase_db.pull(door, other.event_id)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        supabase_db.pull(door, str(uuid.uuid4()))


def test_a_column_added_to_a_synced_table_is_pulled_after_the_page_is_rebuilt(
    supabase_db, org, door
):
    """pull_page is generated from the tables' columns (0007): a migration that adds one
    ends with build_pull_page(), and the column travels. Rolled back, like a failed deploy."""
    from psycopg.rows import dict_row

    from tests.support.pg import apply_claims

    with supabase_db.connect(autocommit=False, row_factory=dict_row) as conn:
        conn.execute("ALTER TABLE showdesk.venues ADD COLUMN stage_door text DEFAULT 'Rue Cler'")
        conn.execute("SELECT showdesk_private.build_pull_page()")
        apply_claims(conn, door, None)
        page = conn.execute("SELECT sync_pull(%s, NULL, 500) AS r", (org.event_id,)).fetchone()
        venue = next(c for c in page["r"]["changes"] if c["table"] == "venues")["row"]
        assert venue["stage_door"] == "Rue Cler"
        conn.rollback()
    page = supabase_db.pull(door, org.event_id)
    venue = next(c for c in page["changes"] if c["table"] == "venues")["row"]
    assert "stage_door" not in venue
