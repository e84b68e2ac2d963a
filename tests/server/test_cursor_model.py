"""A model check of the pull cursor: random interleavings of concurrent writers, commits,
rollbacks and paged pulls; the replica built only from pulls must end equal to the server."""

from __future__ import annotations

import json
import random
import uuid

import psycopg
import pytest

from tests.support.pg import SupabaseDB, mutation

pytestmark = pytest.mark.postgres

WRITERS = 4


def _apply(replica: dict[str, int], changes: list[dict]) -> None:
    for change in changes:
        if change["table"] != "attendees":
            continue
        known = replica.get(change["id"])
        # a replica never goes back in time
        assert known is None or abs(known) <= change["version"], change
        replica[change["id"]] = -change["version"] if change["deleted"] else change["version"]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_interleavings_converge(supabase_db: SupabaseDB, seed: int):
    rng = random.Random(seed)
    org = supabase_db.create_org(f"Model {seed}")
    door = supabase_db.claims(org, "door", supabase_db.create_device(org))
    conns = [supabase_db.connect(autocommit=False) for _ in range(WRITERS)]
    locked: dict[str, int] = {}  # row id -> writer holding its row lock
    committed: set[str] = set()
    pending: list[set[str]] = [set() for _ in range(WRITERS)]  # rows each open writer inserted
    replica: dict[str, int] = {}
    cursor = None
    try:
        for _step in range(160):
            w = rng.randrange(WRITERS)
            conn = conns[w]
            action = rng.random()
            free = sorted(r for r in committed if r not in locked)
            if action < 0.35:
                row = conn.execute(
                    "INSERT INTO attendees (event_id, first_name, last_name) VALUES (%s, 'M', %s) RETURNING id",
                    (org.event_id, f"w{w}"),
                ).fetchone()
                pending[w].add(str(row["id"]))
                locked[str(row["id"])] = w
            elif action < 0.5 and free:
                target = rng.choice(free)
                conn.execute("UPDATE attendees SET notes = %s WHERE id = %s", (f"s{_step}", target))
                locked[target] = w
            elif action < 0.55 and free:
                target = rng.choice(free)
                conn.execute("DELETE FROM attendees WHERE id = %s", (target,))
                locked[target] = w
            elif action < 0.75:
                if rng.random() < 0.85:
                    conn.commit()
                    committed |= pending[w]
                else:
                    conn.rollback()
                for row_id in [r for r, owner in locked.items() if owner == w]:
                    del locked[row_id]
                pending[w] = set()
            else:
                page = supabase_db.pull(door, org.event_id, cursor, rng.choice([1, 3, 10]))
                _apply(replica, page["changes"])
                cursor = page["cursor"]
        for w, conn in enumerate(conns):
            conn.commit()
            committed |= pending[w]
    finally:
        for conn in conns:
            conn.close()
    changes, _ = supabase_db.pull_all(door, org.event_id, cursor, 7)
    _apply(replica, changes)

    server = {
        str(r["id"]): r["version"]
        for r in supabase_db.execute(
            "SELECT id, version FROM attendees WHERE event_id = %s", (org.event_id,)
        )
    }
    live = {row_id: version for row_id, version in replica.items() if version > 0}
    assert live == server  # every live row at its latest version, nothing deleted lingers


def test_a_long_open_transaction_holds_back_only_younger_changes(supabase_db: SupabaseDB):
    """What a stuck transaction costs: younger changes wait, nothing is lost."""
    org = supabase_db.create_org("Stuck")
    door = supabase_db.claims(org, "door", supabase_db.create_device(org))
    _, cursor = supabase_db.pull_all(door, org.event_id)
    stuck = supabase_db.connect(autocommit=False)
    try:
        stuck.execute("SELECT pg_current_xact_id()")  # an open transaction with an id
        supabase_db.execute(
            "INSERT INTO attendees (event_id, first_name, last_name) VALUES (%s, 'A', 'B')",
            (org.event_id,),
        )
        assert supabase_db.pull(door, org.event_id, cursor)["changes"] == []
    finally:
        stuck.rollback()
        stuck.close()
    changes, _ = supabase_db.pull_all(door, org.event_id, cursor)
    assert [c["table"] for c in changes] == ["attendees"]


def test_pull_is_read_only(supabase_db: SupabaseDB):
    org = supabase_db.create_org("RO")
    door = supabase_db.claims(org, "door", supabase_db.create_device(org))
    with supabase_db.as_claims(door) as conn:
        conn.execute("SET TRANSACTION READ ONLY")
        assert conn.execute("SELECT sync_pull(%s, NULL, 10) AS r", (org.event_id,)).fetchone()["r"][
            "changes"
        ]
    # a push in a read-only transaction is the caller's mistake, not the mutation's: it fails
    # as a whole instead of coming back as "rejected"
    scan = mutation(
        "checkins", "insert", str(uuid.uuid4()), {"event_id": org.event_id, "verdict": "unknown"}
    )
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        with supabase_db.as_claims(door) as conn:
            conn.execute("SET TRANSACTION READ ONLY")
            conn.execute("SELECT sync_push(%s, %s::jsonb)", (org.devices[0], json.dumps([scan])))
