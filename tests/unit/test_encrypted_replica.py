"""The replica encrypted at rest (SQLCipher): new replicas, a plain one encrypted in place with
its queued changes, search on the encrypted file, and a replica whose key was lost."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from app.config import data_dir
from app.secrets import REPLICA_KEY, SecretStore
from app.store.checkin_service import CheckinService
from app.store.db import (
    PLAIN_HEADER,
    Database,
    ReplicaKeyLost,
    current_event_id,
    device_id,
    open_database,
)
from app.store.demo import seed_demo
from app.store.search import search_tickets


def _replica() -> Path:
    """Where the app keeps its own replica (the default ``Config.db``): encrypted by default."""
    return data_dir() / "showdesk.sqlite"


def _all_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*") if p.is_file())


def _outbox(db: Database) -> list[tuple]:
    with db.engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.exec_driver_sql(
                "SELECT seq, mutation_id, table_name, op, row_id, payload FROM outbox ORDER BY seq"
            )
        ]


def _plain_replica_with_queued_scans(path: Path) -> tuple[str, list[str]]:
    """A plain replica (as an older Showdesk left it): demo data and three queued check-ins.
    Returns (event id, three attendee names in it)."""
    db = open_database(path, encrypt=False)
    event_id = seed_demo(db, tickets=200, seed=3)
    with db.session() as s:
        dev = device_id(s)
        rows = s.execute(
            text(
                "SELECT t.qr_code_data, a.first_name || ' ' || a.last_name FROM tickets t "
                "JOIN attendees a ON a.id = t.attendee_id WHERE t.status = 'valid' "
                "AND t.event_id = :e ORDER BY t.ticket_number LIMIT 3"
            ),
            {"e": event_id},
        ).all()
    service = CheckinService(db, event_id, dev)
    for qr, _ in rows:
        service.scan(qr)
    db.close()
    return event_id, [name for _, name in rows]


def test_a_new_replica_of_the_app_is_encrypted_with_a_stored_random_key() -> None:
    path = _replica()
    db = open_database(path)
    try:
        assert db.encrypted
        with db.engine.connect() as conn:  # decrypted pages stay cached: a bigger cache
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -65536
        event_id = seed_demo(db, tickets=100, seed=1)
        with db.session() as s:
            assert s.connection().exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert s.connection().exec_driver_sql("PRAGMA synchronous").scalar() == 2
            assert s.connection().exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            hit = search_tickets(s, event_id, "FW26")[0]
            # FTS5 words (accent-insensitive prefix) and the trigram index of numbers
            first = (hit.attendee_name or "").split()[0]
            assert hit.ticket_id in {h.ticket_id for h in search_tickets(s, event_id, first)}
            digits = hit.ticket_number[-5:]
            assert hit.ticket_id in {h.ticket_id for h in search_tickets(s, event_id, digits)}
    finally:
        db.close()
    key = SecretStore.default().get(REPLICA_KEY)
    assert key is not None and len(bytes.fromhex(key)) == 32
    assert path.read_bytes()[:16] != PLAIN_HEADER
    with sqlite3.connect(path) as conn, pytest.raises(sqlite3.DatabaseError):
        conn.execute("SELECT count(*) FROM tickets").fetchone()
    again = open_database(path)  # same key from the store
    try:
        with again.session() as s:
            assert current_event_id(s) == event_id
    finally:
        again.close()


def test_a_plain_replica_is_encrypted_in_place_with_its_queued_changes() -> None:
    path = _replica()
    path.parent.mkdir(parents=True, exist_ok=True)
    event_id, names = _plain_replica_with_queued_scans(path)
    plain = open_database(path, encrypt=False)
    queued = _outbox(plain)
    with plain.session() as s:
        before = {n: [h.ticket_id for h in search_tickets(s, event_id, n)] for n in names}
        version = s.connection().exec_driver_sql("PRAGMA user_version").scalar()
    plain.close()
    assert len(queued) == 3 and path.read_bytes()[:16] == PLAIN_HEADER
    assert all(n.encode() in _all_bytes(path) for n in names)

    db = open_database(path)  # the app's replica: encrypted now
    try:
        assert db.encrypted
        assert _outbox(db) == queued
        with db.session() as s:
            assert {n: [h.ticket_id for h in search_tickets(s, event_id, n)] for n in names} == (
                before
            )
            assert s.connection().exec_driver_sql("PRAGMA user_version").scalar() == version
    finally:
        db.close()
    raw = _all_bytes(path)
    assert raw[:16] != PLAIN_HEADER
    for name in names:  # whole names: a short word can turn up in random ciphertext by chance
        assert name.encode() not in raw
    assert not list(path.parent.glob("*.encrypting*"))


def test_a_plain_file_the_user_names_stays_plain_unless_asked(tmp_path: Path) -> None:
    path = tmp_path / "mine.sqlite"
    open_database(path).close()
    assert path.read_bytes()[:16] == PLAIN_HEADER
    key = bytes(range(32))
    db = open_database(path, key=key)  # asked: encrypted in place with this key
    db.close()
    assert path.read_bytes()[:16] != PLAIN_HEADER
    with pytest.raises(ReplicaKeyLost):
        open_database(path, key=bytes(32))  # the wrong key: moved aside, never read as damaged


def test_a_replica_whose_key_was_lost_is_moved_aside_and_a_fresh_one_made() -> None:
    path = _replica()
    path.parent.mkdir(parents=True, exist_ok=True)
    _plain_replica_with_queued_scans(path)
    open_database(path).close()  # encrypted with the stored key
    old_key = bytes.fromhex(SecretStore.default().get(REPLICA_KEY) or "")
    original = path.read_bytes()
    SecretStore.default().delete(REPLICA_KEY)  # the keyring was reset

    with pytest.raises(ReplicaKeyLost) as info:
        open_database(path)
    message = str(info.value)
    moved = info.value.moved_to
    assert moved.name.startswith("showdesk.sqlite.locked-") and moved.exists()
    assert str(moved) in message and "not deleted" in message
    assert "may hold check-ins that were not uploaded" in message
    assert "keep it and the old keyring" in message
    assert "Traceback" not in message
    assert moved.read_bytes() == original

    fresh = open_database(path)  # in place already: opens, empty, encrypted with a new key
    try:
        assert fresh.encrypted and _outbox(fresh) == []
        with fresh.session() as s:
            assert current_event_id(s) is None
    finally:
        fresh.close()
    assert SecretStore.default().get(REPLICA_KEY) != old_key.hex()

    kept = open_database(moved, key=old_key)  # the old key still opens the kept file
    try:
        assert len(_outbox(kept)) == 3
    finally:
        kept.close()


def test_a_damaged_file_outside_the_data_folder_is_still_said_damaged(tmp_path: Path) -> None:
    from app.store.db import DatabaseProblem

    open_database(_replica()).close()  # a key exists; it does not open junk
    path = tmp_path / "junk.sqlite"
    path.write_bytes(b"not a database " * 300)
    with pytest.raises(DatabaseProblem, match="damaged") as info:
        open_database(path)
    assert not isinstance(info.value, ReplicaKeyLost) and path.exists()


def test_a_plain_replica_in_use_elsewhere_is_left_plain_and_said_so() -> None:
    from app.store.db import DatabaseProblem

    path = _replica()
    path.parent.mkdir(parents=True, exist_ok=True)
    _plain_replica_with_queued_scans(path)
    # Another process (an older Showdesk still running) has it open, idle between scans.
    # A process, not a connection: POSIX locks never conflict within one process.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys, time\n"
            "c = sqlite3.connect(sys.argv[1])\n"
            "print(c.execute('SELECT count(*) FROM outbox').fetchone()[0], flush=True)\n"
            "time.sleep(60)\n",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "3"
        with pytest.raises(DatabaseProblem, match="in use") as info:
            open_database(path, busy_timeout_ms=50)
        assert not isinstance(info.value, ReplicaKeyLost)
        assert "plain file was kept" in str(info.value)
    finally:
        holder.kill()
        holder.wait()
    assert path.read_bytes()[:16] == PLAIN_HEADER
    assert not list(path.parent.glob("*.encrypting*"))
    db = open_database(path)  # once it is free, encrypted with the queue
    try:
        assert db.encrypted and len(_outbox(db)) == 3
    finally:
        db.close()
