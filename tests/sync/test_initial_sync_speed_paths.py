"""The initial sync's fast path (search triggers paused, index rebuilt once) keeps search right:
after a complete sync, after a lost connection half-way, and after a crash half-way."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.store.db import get_meta, open_database
from app.store.models import Attendee, OutboxEntry, Ticket
from app.store.search import SEARCH_REBUILD_META, search_tickets
from app.sync.backends import SyncError
from app.sync.engine import META_CURSOR, SyncEngine

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
PAGE = 4  # ~30 rows: several pages, so "half-way" exists


def _small_pages(kiosk) -> None:
    kiosk.engine.pull_limit = PAGE
    kiosk.engine.initial_pull_limit = PAGE


def _triggers(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")}


def _names(db, event_id: str) -> dict[str, str]:
    """ticket id -> attendee name, for every ticket in the replica."""
    with db.session() as s:
        rows = s.execute(
            select(Ticket.id, Attendee.first_name, Attendee.last_name).join(
                Attendee, Attendee.id == Ticket.attendee_id
            )
        ).all()
    return {tid: f"{first} {last}" for tid, first, last in rows}


def _assert_search_finds_every_ticket(db, event_id: str) -> None:
    names = _names(db, event_id)
    assert names
    with db.session() as s:
        for ticket_id, name in names.items():
            assert ticket_id in [h.ticket_id for h in search_tickets(s, event_id, name)], name
            number = s.scalar(select(Ticket.ticket_number).where(Ticket.id == ticket_id))
            hits = search_tickets(s, event_id, number[1:])  # substring: the trigram index
            assert ticket_id in [h.ticket_id for h in hits], number
        docs = s.connection().exec_driver_sql("SELECT count(*) FROM ticket_search_docs").scalar()
        assert docs == s.scalar(select(func.count()).select_from(Ticket))
        assert get_meta(s, SEARCH_REBUILD_META, "0") == "0"


def test_search_finds_attendees_right_after_an_initial_sync(world):
    kiosk = world.kiosk("Kiosk 1")
    _small_pages(kiosk)
    triggers = _triggers(kiosk.db.path)
    report = kiosk.engine.sync_once().pull
    assert report.pages > 3
    assert _triggers(kiosk.db.path) == triggers  # paused per page, always restored
    assert len(_names(kiosk.db, world.event_id)) == 12
    _assert_search_finds_every_ticket(kiosk.db, world.event_id)
    with kiosk.db.session() as s:
        hits = search_tickets(s, world.event_id, "guest7 maison")
        assert [h.attendee_name for h in hits] == ["Guest7 Maison"]

    # Later pulls are incremental: the restored triggers keep the index current.
    world.sdb.execute(
        "update attendees set first_name = 'Renamed' where event_id = %s and first_name = 'Guest7'",
        (world.event_id,),
    )
    kiosk.engine.pull()
    with kiosk.db.session() as s:
        assert [h.attendee_name for h in search_tickets(s, world.event_id, "renamed")] == [
            "Renamed Maison"
        ]
        assert search_tickets(s, world.event_id, "guest7") == []


class _DropsAfter:
    """The real backend, whose connection is lost after ``pages`` pulls."""

    def __init__(self, backend, pages: int) -> None:
        self.backend = backend
        self.left = pages
        self.name = getattr(backend, "name", None)

    def pull(self, event_id, cursor, limit):
        if self.left <= 0:
            raise SyncError("Connection lost.", transient=True)
        self.left -= 1
        return self.backend.pull(event_id, cursor, limit)

    def __getattr__(self, name):
        return getattr(self.backend, name)


def test_connection_lost_half_way_leaves_a_searchable_replica(world):
    kiosk = world.kiosk("Kiosk 1")
    real = kiosk.engine.backend
    engine = SyncEngine(
        kiosk.db,
        _DropsAfter(real, 3),
        world.event_id,
        kiosk.device_id,
        pull_limit=PAGE,
        initial_pull_limit=PAGE,
    )
    with pytest.raises(SyncError):
        engine.pull()
    with kiosk.db.session() as s:
        assert get_meta(s, META_CURSOR)  # some pages were applied...
    _assert_search_finds_every_ticket(kiosk.db, world.event_id)  # ...and are searchable now
    kiosk.engine.pull()  # the rest arrives through the per-row triggers
    assert len(_names(kiosk.db, world.event_id)) == 12
    _assert_search_finds_every_ticket(kiosk.db, world.event_id)


_CRASHING_SYNC = """
import json, os, sys, time
from app.store.db import open_database
from app.sync.backends import PostgresBackend
from app.sync.engine import SyncEngine

path, dsn, claims, event, device = sys.argv[1:6]
real = PostgresBackend(dsn, "authenticated", json.loads(claims))
calls = []

class Crashing:
    name = "postgres"
    def pull(self, event_id, cursor, limit):
        calls.append(cursor)
        if len(calls) == 4:  # pages 1-2 are applied (or being applied): die, no clean-up
            time.sleep(0.5)
            os._exit(9)
        return real.pull(event_id, cursor, limit)
    def __getattr__(self, name):
        return getattr(real, name)

db = open_database(path)
SyncEngine(db, Crashing(), event, device, pull_limit=4, initial_pull_limit=4).pull()
"""


@pytest.mark.parametrize("repaired_by", ["open", "next_pull"])
def test_crash_half_way_through_an_initial_sync(world, repaired_by):
    kiosk = world.kiosk("Kiosk 1")
    path = kiosk.db.path
    triggers = _triggers(path)
    kiosk.db.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOWDESK_")}
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            _CRASHING_SYNC,
            str(path),
            world.sdb.dsn,
            json.dumps(world.claims(kiosk.device_id)),
            world.event_id,
            kiosk.device_id,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 9, proc.stderr.decode()

    # What the crash left on disk: committed pages with their cursor, every trigger in place,
    # a search document for each ticket so far, indexed, and the bulk mark (a repair is due).
    with sqlite3.connect(path) as raw:
        meta = dict(raw.execute("SELECT key, value FROM local_meta"))
        tickets = raw.execute("SELECT count(*) FROM tickets").fetchone()[0]
        docs = raw.execute("SELECT count(*) FROM ticket_search_docs").fetchone()[0]
        named = raw.execute(
            "SELECT count(*) FROM tickets t JOIN attendees a ON a.id = t.attendee_id"
        ).fetchone()[0]
        indexed = raw.execute(
            "SELECT count(*) FROM ticket_search WHERE ticket_search MATCH 'maison'"
        ).fetchone()[0]
    assert meta.get(META_CURSOR) and meta.get(SEARCH_REBUILD_META) == "1"
    assert docs == tickets and indexed == named
    assert _triggers(path) == triggers

    if repaired_by == "open":
        kiosk.db = open_database(path)  # the next start rebuilds before anyone searches
        _assert_search_finds_every_ticket(kiosk.db, world.event_id)
    else:
        kiosk.db = open_database(path, upgrade=False)  # opened without the start-up repair
        with kiosk.db.session() as s:
            assert get_meta(s, SEARCH_REBUILD_META) == "1"
    kiosk.engine.db = kiosk.db
    kiosk.engine.sync_once()  # the sync resumes from the committed cursor
    assert len(_names(kiosk.db, world.event_id)) == 12
    _assert_search_finds_every_ticket(kiosk.db, world.event_id)
    # the replica equals what a fresh kiosk pulls in one go
    fresh = world.kiosk("Fresh")
    fresh.engine.sync_once()
    mine, theirs = kiosk.dump(), fresh.dump()
    for table in ("tickets", "attendees", "orders", "events", "ticket_types"):
        assert mine[table] == theirs[table]


def test_full_resync_on_the_fast_path_keeps_pending_rows_and_search(world):
    kiosk = world.kiosk("Kiosk 1")
    _small_pages(kiosk)
    kiosk.engine.sync_once()
    ticket_id = next(iter(_names(kiosk.db, world.event_id)))
    with kiosk.db.session() as s:
        from app.store.outbox import record

        attendee = s.get(Attendee, s.get(Ticket, ticket_id).attendee_id)
        attendee.first_name = "Localedit"  # queued, not pushed
        record(s, attendee, "update", fields=["first_name"])
        from app.store.db import set_meta

        set_meta(s, META_CURSOR, "1:99999999999:0")  # the server cannot honour it: reset
    report = kiosk.engine.pull()
    assert report.resets == 1 and report.skipped_pending >= 1
    with kiosk.db.session() as s:
        assert s.scalar(select(func.count()).select_from(OutboxEntry)) == 1
        assert s.get(Attendee, attendee.id).first_name == "Localedit"  # not overwritten
        assert [h.ticket_id for h in search_tickets(s, world.event_id, "localedit")] == [ticket_id]
    _assert_search_finds_every_ticket(kiosk.db, world.event_id)
