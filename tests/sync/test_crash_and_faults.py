"""Crashes and a bad network: a real process killed mid-sync, a proxy that drops and cuts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.store.models import Checkin, OutboxEntry
from app.store.outbox import record
from app.store.types import new_id, utcnow
from app.sync.backends import SyncError
from app.sync.engine import PAUSE_BEFORE_ACK_ENV
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]


def _queue_scans(kiosk, world, n: int) -> list[str]:
    ids = []
    with kiosk.db.session() as session:
        for i in range(n):
            row = Checkin(
                id=new_id(),
                event_id=world.event_id,
                ticket_id=world.tickets[i % len(world.tickets)],
                device_id=kiosk.device_id,
                gate=kiosk.gate,
                scanned_at=utcnow(),
                verdict="admitted" if i < len(world.tickets) else "already_admitted",
            )
            session.add(row)
            record(session, row)
            ids.append(row.id)
    return ids


def _server_count(world, ids: list[str]) -> int:
    return world.sdb.scalar("select count(*) from checkins where id = any(%s::uuid[])", (ids,))


def test_sigkill_between_server_commit_and_local_ack_is_exactly_once(world, tmp_path):
    kiosk = world.kiosk("Kiosk 1")
    kiosk.engine.sync_once()
    ids = _queue_scans(kiosk, world, 40)
    kiosk.db.close()

    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOWDESK_")}
    env.update(
        SHOWDESK_CONFIG_DIR=str(tmp_path / "cfg"),
        SHOWDESK_DATA_DIR=str(tmp_path / "data"),
        SHOWDESK_DB=str(kiosk.db.path),
        SHOWDESK_EVENT_ID=world.event_id,
        SHOWDESK_BACKEND="postgres",
        SHOWDESK_POSTGRES_DSN=world.sdb.dsn,
        SHOWDESK_POSTGRES_CLAIMS=json.dumps(world.claims(kiosk.device_id)),
        **{PAUSE_BEFORE_ACK_ENV: "60"},
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "sync", "--once", "--json"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while _server_count(world, ids) < len(ids):  # the server has committed the batch
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the syncing process never reached the server"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)  # ...and dies before acknowledging locally
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()

    from app.store.db import open_database

    kiosk.db = open_database(kiosk.db.path)
    kiosk.engine.db = kiosk.db
    assert kiosk.pending() == len(ids)  # killed inside the window: nothing acknowledged
    report = kiosk.engine.sync_once()  # restart: push again
    assert report.push.duplicate == len(ids) and report.push.applied == 0
    assert kiosk.pending() == 0
    assert _server_count(world, ids) == len(ids)
    assert world.sdb.scalar("select count(*) from checkins") == len(ids)


def test_engine_converges_through_a_misbehaving_network(world):
    proxy = TcpProxy("127.0.0.1", world.sdb.server.port)
    try:
        dsn = world.sdb.dsn.replace(f"port={world.sdb.server.port}", f"port={proxy.port}")
        kiosk = world.kiosk("Kiosk 1", dsn=dsn)
        kiosk.engine.push_batch = 25  # several round trips, so faults land mid-queue
        kiosk.engine.sync_once()
        ids = _queue_scans(kiosk, world, 120)

        failures = 0
        plan = [
            ("refuse", {}),
            ("cut", {"cut_after": 1500, "cut_remaining": 3}),
            ("pass", {"delay": 0.05}),
            ("cut", {"cut_after": 300, "cut_remaining": 2}),
            ("refuse", {}),
            ("pass", {"delay": 0.0}),
        ]
        for mode, options in plan:
            proxy.set(mode, **options)
            proxy.drop_all()
            try:
                kiosk.engine.sync_once()
            except SyncError as exc:
                assert exc.transient
                failures += 1
                assert kiosk.engine.status().online is False
        proxy.set("pass", delay=0.0)
        for _ in range(5):
            try:
                kiosk.engine.sync_once()
                break
            except SyncError:
                failures += 1
        assert failures >= 2 and proxy.cuts >= 1
        assert kiosk.pending() == 0 and kiosk.engine.status().dead == 0
        assert _server_count(world, ids) == len(ids)
        assert world.sdb.scalar("select count(*) from checkins") == len(ids)
        # the replica holds exactly what a fresh kiosk pulls
        fresh = world.kiosk("Fresh")
        fresh.engine.sync_once()
        mine, theirs = kiosk.dump(), fresh.dump()
        assert mine["checkins"] == theirs["checkins"]
        assert mine["tickets"] == theirs["tickets"]
        assert kiosk.engine.status().online is True
    finally:
        proxy.stop()


def test_queued_changes_survive_a_replica_schema_upgrade(world, tmp_path):
    """A kiosk at schema 0001 with unsynced scans is upgraded in the field, then pushes."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import select

    from app.store.db import MIGRATIONS_DIR, make_engine, open_database

    path = tmp_path / "old.sqlite"
    engine = make_engine(path)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    device = world.sdb.create_device(world.org, "Old kiosk")
    checkin_id, mutation_id, now = new_id(), new_id(), "2026-11-22T10:00:00.000000Z"
    payload = {
        "id": checkin_id,
        "event_id": world.event_id,
        "ticket_id": world.tickets[0],
        "device_id": device,
        "gate": "Main",
        "direction": "in",
        "method": "qr",
        "kind": "scan",
        "scanned_at": now,
        "verdict": "admitted",
        "offline": True,
        "raw_code": None,
        "annuls_checkin_id": None,
        "reason": None,
        "staff_name": None,
        "double_entry": False,
        "updated_at": now,
    }
    with engine.begin() as conn:  # what the old version wrote, with the old schema
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        conn.exec_driver_sql(
            "insert into checkins (id, event_id, ticket_id, device_id, gate, direction, method,"
            " kind, scanned_at, verdict, offline, double_entry, updated_at) values "
            "(?, ?, ?, ?, 'Main', 'in', 'qr', 'scan', ?, 'admitted', 1, 0, ?)",
            (checkin_id, world.event_id, world.tickets[0], device, now, now),
        )
        conn.exec_driver_sql(
            "insert into outbox (mutation_id, table_name, row_id, op, payload, base_version,"
            " schema_version, created_at, state, attempts) values "
            "(?, 'checkins', ?, 'insert', ?, null, 1, ?, 'pending', 0)",
            (mutation_id, checkin_id, json.dumps(payload), now),
        )
    engine.dispose()

    kiosk = world.kiosk("Old kiosk", device_id=device, db_path=path)  # opens = upgrades to head
    with kiosk.db.session() as session:
        (entry,) = session.scalars(select(OutboxEntry)).all()
        assert entry.mutation_id == mutation_id and entry.state == "pending"
    open_database(path).close()  # upgrading twice is harmless too
    report = kiosk.engine.sync_once()
    assert report.push.applied == 1 and kiosk.pending() == 0
    assert [str(r["id"]) for r in world.server_checkins()] == [checkin_id]
