"""The sync engine: push the outbox, then pull the server's changes into the replica.

The engine decides (what a server answer settles, which pulled rows apply now and which wait
behind queued edits, cursors, when a full resync sweeps); the store writes: every replicated
row goes through ``app.store.replica_writer`` (the one conversion of wire rows, the bulk
upserts and deletes), as the demo's bulk load does.

Guarantees (see DESIGN.md "Sync" and research/sync-anchors.md):
- exactly once: every mutation carries a UUID the server remembers; a crash between the
  server's commit and our acknowledgement is resolved by pushing again ("duplicate");
- a refused mutation becomes a dead letter and never blocks the queue behind it;
- each pulled page is applied together with the new cursor in one SQLite transaction;
- a pulled row never overwrites a row that still has pending local changes, and is never
  dropped either: it is held until the server has answered the row's queued changes, then
  applied unless the push made a newer version (which the next pull brings). A push that
  changes nothing on the server (a no-op edit, a replay, a conflict, a refusal) makes none;
- a full resync (``reset``) keeps the outbox and every row it refers to;
- a pull from the beginning skips the per-row search-document triggers (each page builds its
  documents set-based, in its own transaction); it is marked in local_meta while under way, and
  a crash in between makes the next open (or pull) rebuild the index to be sure.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from app.store import replica_writer as replica
from app.store.db import Database, get_meta, set_meta
from app.store.models import MODEL_BY_TABLE, REPLICATED_TABLES, OutboxEntry, SyncConflict
from app.store.search import (
    clear_search_rebuild_needed,
    repair_search_index_if_needed,
    search_triggers_paused,
)
from app.store.types import UTCDateTime, format_utc, parse_utc, utcnow
from app.sync.backends import Backend, PullPage, PushResult, SyncError
from app.sync.status import SyncStatus

log = logging.getLogger(__name__)

PUSH_BATCH = 500
PULL_LIMIT = 2000
INITIAL_PULL_LIMIT = 5000  # the server's largest page (sync_pull clamps p_limit to 5000)
CLOCK_SKEW_WARN_SECONDS = 120.0
PROBE_EVERY_SECONDS = 60.0  # a cheap reachability + server-clock check

META_CURSOR = "sync.cursor"
META_LAST_PULL = "sync.last_pull_at"
META_LAST_PUSH = "sync.last_push_at"
META_RESYNC = "sync.resync"
META_BRIDGES = "sync.server_bridges"
"""JSON list of the platform bridges the server reported (``[]``: standalone Showdesk server)."""

# Test hook for the crash-window test: sleep after the server answered a push and before the
# local acknowledgement commits (a SIGKILL there must still end in exactly-once).
PAUSE_BEFORE_ACK_ENV = "SHOWDESK_SYNC_PAUSE_BEFORE_ACK"

_TIME = UTCDateTime()


@dataclass
class PushReport:
    applied: int = 0
    duplicate: int = 0
    conflict: int = 0
    rejected: int = 0
    batches: int = 0


@dataclass
class PullReport:
    pages: int = 0
    upserted: int = 0
    deleted: int = 0
    skipped_pending: int = 0
    resets: int = 0
    tables: set[str] = field(default_factory=set)


@dataclass
class SyncReport:
    push: PushReport
    pull: PullReport

    @property
    def changed_tables(self) -> set[str]:
        return set(self.pull.tables)


class SyncEngine:
    """One replica's sync with one backend. Thread-safe: one sync at a time."""

    def __init__(
        self,
        db: Database,
        backend: Backend,
        event_id: str,
        device_id: str,
        clock: Callable[[], datetime] = utcnow,
        *,
        push_batch: int = PUSH_BATCH,
        pull_limit: int = PULL_LIMIT,
        initial_pull_limit: int | None = None,
    ) -> None:
        self.db = db
        self.backend = backend
        self.event_id = event_id
        self.device_id = device_id
        self.clock = clock
        self.push_batch = push_batch
        self.pull_limit = pull_limit
        # An initial sync (or full resync) moves everything: bigger pages, fewer round trips.
        self.initial_pull_limit = initial_pull_limit or (
            max(pull_limit, INITIAL_PULL_LIMIT) if pull_limit >= PULL_LIMIT else pull_limit
        )
        self.online: bool | None = None
        self.last_error: str | None = None
        self.clock_skew_seconds: float | None = None
        self._lock = threading.RLock()
        self._resync_seen: dict[str, set[str]] | None = None
        self._last_probe = -1e9
        self._server_info_known = False

    # --- the whole cycle ------------------------------------------------------------------

    def sync_once(self) -> SyncReport:
        """Push everything pending, then pull until up to date. Raises SyncError if offline."""
        with self._lock:
            try:
                if time.monotonic() - self._last_probe > PROBE_EVERY_SECONDS:
                    self._last_probe = time.monotonic()
                    if not self.probe():
                        raise SyncError(
                            self.last_error or "Cannot reach the sync server.", transient=True
                        )
                pushed = self.push()
                pulled = self.pull()
            except SyncError as exc:
                self._record_failure(exc)
                raise
            if not self._server_info_known:
                self._learn_server_info()
            self.online = True
            self.last_error = None
            return SyncReport(pushed, pulled)

    def _learn_server_info(self) -> None:
        """Ask once per run which platform bridges the server has, and keep the answer (it is
        shown offline too). A server without the call (an older Showdesk) stays unknown."""
        info = getattr(self.backend, "server_info", None)
        if info is None:
            return
        try:
            bridges = info().bridges
        except SyncError as exc:
            log.info("server info unavailable: %s", exc)
            self._server_info_known = True
            return
        with self.db.session() as session:
            set_meta(session, META_BRIDGES, json.dumps(bridges))
        self._server_info_known = True

    def _record_failure(self, exc: SyncError) -> None:
        self.last_error = str(exc)
        if exc.transient:
            self.online = False

    # --- push -----------------------------------------------------------------------------

    def push(self) -> PushReport:
        report = PushReport()
        with self._lock:
            while True:
                batch = self._next_batch()
                if not batch:
                    break
                report.batches += 1
                self._push_batch(batch, report)
            if report.batches:
                with self.db.session() as session:
                    set_meta(session, META_LAST_PUSH, format_utc(self.clock()))
        return report

    def _next_batch(self) -> list[OutboxEntry]:
        """Pending entries in queue order, at most one per row (the next one waits for the
        first's new version, so its base version is rebased rather than seen as a conflict)."""
        with self.db.session() as session:
            entries = session.scalars(
                select(OutboxEntry)
                .where(OutboxEntry.state == "pending")
                .order_by(OutboxEntry.seq)
                .limit(self.push_batch)
            ).all()
        batch: list[OutboxEntry] = []
        rows: set[tuple[str, str]] = set()
        for entry in entries:
            key = (entry.table_name, entry.row_id)
            if key in rows:
                break
            rows.add(key)
            batch.append(entry)
        return batch

    def _push_batch(self, batch: list[OutboxEntry], report: PushReport) -> None:
        mutations = [_mutation(entry) for entry in batch]
        try:
            results = self.backend.push(self.device_id, mutations)
        except SyncError as exc:
            if exc.transient:
                self._note_attempt(batch, str(exc))
                raise
            if len(batch) > 1:
                # One poisoned mutation made the whole call fail: split to find it, so the
                # rest go through and only the bad one becomes a dead letter.
                half = len(batch) // 2
                self._push_batch(batch[:half], report)
                self._push_batch(batch[half:], report)
                return
            results = [PushResult(batch[0].mutation_id, "rejected", reason=str(exc))]
        self.online = True
        pause = os.environ.get(PAUSE_BEFORE_ACK_ENV)
        if pause:
            time.sleep(float(pause))
        self._acknowledge(batch, results, report)

    def _note_attempt(self, batch: list[OutboxEntry], error: str) -> None:
        with self.db.session() as session:
            session.execute(
                update(OutboxEntry)
                .where(OutboxEntry.seq.in_([e.seq for e in batch]))
                .values(attempts=OutboxEntry.attempts + 1, last_error=error)
            )

    def _acknowledge(
        self, batch: list[OutboxEntry], results: list[PushResult], report: PushReport
    ) -> None:
        """Apply the server's answers to the queue in one local transaction."""
        by_id = {r.mutation_id: r for r in results}
        settled: list[tuple[OutboxEntry, int | None]] = []
        answered: dict[tuple[str, str], int | None] = {}
        told: dict[tuple[str, str], dict[str, Any]] = {}
        deleted: set[tuple[str, str]] = set()
        with self._unchecked_session() as session:
            conn = session.connection()
            for entry in batch:
                key = (entry.table_name, entry.row_id)
                result = by_id.get(entry.mutation_id)
                if result is None:  # the server skipped it: stays pending, tried again
                    conn.execute(
                        update(OutboxEntry.__table__)
                        .where(OutboxEntry.__table__.c.seq == entry.seq)
                        .values(
                            attempts=entry.attempts + 1, last_error="No answer from the server yet."
                        )
                    )
                    continue
                if result.status == "duplicate" and result.original_status == "conflict":
                    report.duplicate += 1  # a replay of a conflict: record it as one
                    told[key] = self._record_conflict(session, entry, result)
                    answered[key] = None
                elif result.status in ("applied", "duplicate"):
                    setattr(report, result.status, getattr(report, result.status) + 1)
                    settled.append((entry, result.version))
                    answered[key] = result.version
                    if entry.op == "delete":
                        deleted.add(key)
                elif result.status == "conflict":
                    report.conflict += 1
                    told[key] = self._record_conflict(session, entry, result)
                    answered[key] = None
                else:
                    report.rejected += 1
                    conn.execute(
                        update(OutboxEntry.__table__)
                        .where(OutboxEntry.__table__.c.seq == entry.seq)
                        .values(
                            state="dead",
                            attempts=entry.attempts + 1,
                            last_error=result.reason or "Refused by the server.",
                            result=_result_dict(result),
                        )
                    )
                    answered[key] = None
            self._settle(session, settled)
            self._reconcile(session, answered, told, deleted)

    @contextlib.contextmanager
    def _unchecked_session(self) -> Iterator[Session]:
        """One transaction whose writes skip foreign-key checks, as a pulled page's do: a row
        the server sent may name a parent that a later page brings (the server keeps
        integrity, and a refused write here would wedge the queue)."""
        session = self.db.sessions()
        try:
            session.connection().exec_driver_sql("PRAGMA foreign_keys=OFF")  # before BEGIN
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            try:
                session.connection().exec_driver_sql("PRAGMA foreign_keys=ON")
                session.commit()
            finally:
                session.close()

    def _reconcile(
        self,
        session: Session,
        answered: dict[tuple[str, str], int | None],
        told: dict[tuple[str, str], dict[str, Any]],
        deleted: set[tuple[str, str]],
    ) -> None:
        """Give rows whose queued changes the server has all answered the newest server state
        this replica knows of and has not applied: a change a pull held back while the row had
        queued edits, or the row a conflict answer carried.

        Never drop such a state on the hope that a later pull brings newer: a push that changed
        nothing on the server (a no-op edit, a replay, a conflict, a refusal) makes no new
        change for the pull to bring, and the cursor has passed the held-back one. It is only
        dropped when this push made a newer version (``answered``: the version the push left
        the row at, None when it made none), which the next pull brings whole, or when the
        row's own delete went through (``deleted``)."""
        held = _load_skipped(session)
        for (table, row_id), state in told.items():
            _hold(held, table, row_id, state)
        waiting = [key for key in answered if f"{key[0]}:{key[1]}" in held]
        if not waiting:
            return
        pending = _pending_rows(session)
        for table, row_id in waiting:
            if (table, row_id) in pending:
                continue  # its next queued change will be answered with this state in hand
            state = held.pop(f"{table}:{row_id}")
            made = answered[(table, row_id)]
            if (table, row_id) in deleted or (
                made is not None and (state.get("version") or 0) < made
            ):
                continue
            replica.write_server_state(session, table, row_id, state)
        _save_skipped(session, held)

    def _settle(self, session: Session, settled: list[tuple[OutboxEntry, int | None]]) -> None:
        """The server has these mutations: drop them from the queue, remember each row's new
        version, and rebase the row's later queued edits on that version."""
        if not settled:
            return
        conn = session.connection()
        outbox = OutboxEntry.__table__
        seqs = [entry.seq for entry, _ in settled]
        for start in range(0, len(seqs), 500):
            conn.execute(delete(outbox).where(outbox.c.seq.in_(seqs[start : start + 500])))
        later = {
            tuple(row)
            for row in conn.execute(
                select(outbox.c.table_name, outbox.c.row_id).where(outbox.c.state == "pending")
            )
        }
        by_table: dict[str, list[tuple[str, int]]] = {}
        for entry, version in settled:
            if version is None:
                continue
            if (entry.table_name, entry.row_id) in later:
                conn.execute(
                    update(outbox)
                    .where(
                        outbox.c.table_name == entry.table_name,
                        outbox.c.row_id == entry.row_id,
                        outbox.c.state == "pending",
                        outbox.c.seq > entry.seq,
                    )
                    .values(base_version=version)
                )
            if entry.op != "delete":
                by_table.setdefault(entry.table_name, []).append((entry.row_id, version))
        for table_name, versions in by_table.items():
            replica.stamp_server_versions(session, table_name, versions)

    def _record_conflict(
        self, session: Session, entry: OutboxEntry, result: PushResult
    ) -> dict[str, Any]:
        """Keep the losing edit for the organizer, drop it from the queue, and return the row
        the server answered with (its delete when there is none) for ``_reconcile``."""
        session.add(
            SyncConflict(
                table_name=entry.table_name,
                row_id=entry.row_id,
                mutation_id=entry.mutation_id,
                local_payload=entry.payload,
                server_payload=result.server_row,
                detected_at=self.clock(),
            )
        )
        session.execute(delete(OutboxEntry).where(OutboxEntry.seq == entry.seq))
        if result.server_row:
            version = result.version or result.server_row.get("server_version")
            return {"version": version, "deleted": False, "row": result.server_row}
        return {"version": result.version, "deleted": True, "row": None}

    # --- pull -----------------------------------------------------------------------------

    def pull(self) -> PullReport:
        """Pull pages until up to date. The next page is fetched while this one is applied
        (the server builds JSON while SQLite writes), but pages are applied strictly in order
        and each with its own cursor.

        A pull from the beginning (first sync, full resync) is a bulk load: its pages skip the
        per-row search-document triggers and build the documents of the page set-based, in the
        page's transaction (the full-text triggers stay). Each such page also marks the bulk
        load in local_meta; the page that ends it clears the mark, and a mark left by a crash
        or a lost connection makes the next open (or this pull's exit, or the next pull)
        rebuild the index."""
        report = PullReport()
        with self._lock, ThreadPoolExecutor(1, thread_name_prefix="sync-prefetch") as pool:
            ahead: tuple[str, Future] | None = None
            bulk = False
            try:
                self._repair_search_index()
                while True:
                    with self.db.session() as session:
                        cursor = get_meta(session, META_CURSOR, "") or ""
                        resyncing = get_meta(session, META_RESYNC) == "1"
                    if resyncing and self._resync_seen is None:
                        # Restarted in the middle of a full resync: the ids seen so far are
                        # gone with the old process, so begin it again.
                        cursor = ""
                        self._resync_seen = {}
                    bulk = bulk or cursor == ""
                    if ahead is not None and ahead[0] == cursor:
                        page = ahead[1].result()
                    else:
                        page = self._fetch(cursor, bulk)
                    ahead = None
                    if page.reset:
                        report.resets += 1
                        if report.resets > 3:
                            raise SyncError(
                                "The server keeps asking for a full resync.", transient=True
                            )
                        self._begin_resync()
                        continue
                    if page.has_more and page.cursor:
                        ahead = (page.cursor, pool.submit(self._fetch, page.cursor, bulk))
                    self._apply_page(page, report, bulk)
                    report.pages += 1
                    if not page.has_more:
                        break
            except Exception:
                # Stopped half-way (lost connection): the rows so far must be searchable now.
                # (An interrupted process leaves this to the next open.)
                if bulk:
                    self._repair_search_index()
                raise
            finally:
                if ahead is not None:
                    ahead[1].cancel()
                    try:
                        ahead[1].result()
                    except Exception:  # noqa: BLE001 - a page we no longer need
                        pass
        return report

    def _repair_search_index(self) -> None:
        try:
            with self.db.session() as session:
                repair_search_index_if_needed(session)
        except Exception:  # noqa: BLE001 - the mark stays; the next open or pull tries again
            log.exception("could not rebuild the search index")

    def _fetch(self, cursor: str, bulk: bool = False) -> PullPage:
        started = time.monotonic()
        limit = self.initial_pull_limit if bulk else self.pull_limit
        page = self.backend.pull(self.event_id, cursor, limit)
        self._check_clock(page, time.monotonic() - started)
        return page

    def _begin_resync(self) -> None:
        self._resync_seen = {}
        with self.db.session() as session:
            set_meta(session, META_CURSOR, "")
            set_meta(session, META_RESYNC, "1")

    def _apply_page(self, page: PullPage, report: PullReport, bulk: bool = False) -> None:
        session = self.db.sessions()
        try:
            conn = session.connection()
            # Pages arrive in change order, not parent-before-child order; the server keeps
            # integrity, so the replica does not refuse a child whose parent is a page later.
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.exec_driver_sql("PRAGMA cache_size=-65536")  # 64 MB: big pages, big indexes
            if bulk:
                # A bulk page can be pulled again, so its commit need not wait for the disk:
                # in WAL mode it is still atomic with its cursor and survives a killed process;
                # only a power cut could undo it (with its cursor: the page comes again), and
                # the next FULL commit (a check-in) syncs it to disk anyway.
                conn.exec_driver_sql("PRAGMA synchronous=NORMAL")
            pending = _pending_rows(session)
            skipped = _load_skipped(session)
            upserts: dict[str, list[tuple[dict, int | None]]] = {}
            deletes: dict[str, list[str]] = {}
            for change in page.changes:
                table = change.get("table")
                if not isinstance(table, str) or table not in MODEL_BY_TABLE:
                    continue  # a table this version of Showdesk does not replicate
                row_id = str(change.get("id"))
                if self._resync_seen is not None:
                    self._resync_seen.setdefault(table, set()).add(row_id)
                if (table, row_id) in pending:
                    report.skipped_pending += 1
                    _hold(skipped, table, row_id, change)
                    continue
                if change.get("deleted") or change.get("row") is None:
                    deletes.setdefault(table, []).append(row_id)
                else:
                    upserts.setdefault(table, []).append((change["row"], change.get("version")))
            last = not page.has_more
            with contextlib.ExitStack() as stack:
                paused = (
                    stack.enter_context(
                        search_triggers_paused(session, rebuild=False, keep_fulltext=True)
                    )
                    if bulk
                    else None
                )
                self._write_page(session, upserts, deletes, report)
                if paused is not None:
                    paused.refresh(
                        *(
                            [row["id"] for row, _ in upserts.get(table, ())]
                            for table in ("tickets", "attendees", "orders")
                        )
                    )
                if self._resync_seen is not None and last:
                    report.deleted += self._sweep_unseen(session, pending)
                    set_meta(session, META_RESYNC, "0")
            if bulk and last:
                clear_search_rebuild_needed(session)
            _save_skipped(session, skipped)
            set_meta(session, META_CURSOR, page.cursor)
            set_meta(session, META_LAST_PULL, format_utc(self.clock()))
            session.commit()
            if self._resync_seen is not None and not page.has_more:
                self._resync_seen = None
        except BaseException:
            session.rollback()
            raise
        finally:
            try:
                session.connection().exec_driver_sql("PRAGMA foreign_keys=ON")
                session.connection().exec_driver_sql("PRAGMA synchronous=FULL")
                session.commit()
            finally:
                session.close()

    @staticmethod
    def _write_page(
        session: Session,
        upserts: dict[str, list[tuple[dict[str, Any], int | None]]],
        deletes: dict[str, list[str]],
        report: PullReport,
    ) -> None:
        """The page's rows that apply now, written by the store's replica writer."""
        written = replica.write_changes(session, upserts, deletes)
        report.upserted += written.upserted
        report.deleted += written.deleted
        report.tables |= written.tables

    def _sweep_unseen(self, session: Session, pending: set[tuple[str, str]]) -> int:
        """End of a full resync: rows the server no longer has go, except those with changes
        still queued here."""
        assert self._resync_seen is not None
        keep: dict[str, set[str]] = {}
        for model in REPLICATED_TABLES:
            table = model.__tablename__
            keep[table] = self._resync_seen.get(table, set()) | {
                row_id for (name, row_id) in pending if name == table
            }
        return replica.delete_missing(session, keep)

    def _check_clock(self, page: PullPage, round_trip: float) -> None:
        """Measure the clock offset, and keep the best recent measurement in local_meta: scans
        are corrected with it (app.store.clock), offline and after a restart too."""
        if page.server_time is None:
            return
        from app.store.clock import ClockOffset, better_offset, remember_offset

        self.note_server_time(page.server_time, round_trip)
        skew = self.clock_skew_seconds
        if skew is None:
            return
        measured = ClockOffset(skew, round_trip / 2, self.clock())
        best = better_offset(getattr(self, "_clock_offset", None), measured)
        self._clock_offset = best
        # Written only from the thread running the sync (it holds the lock, reentrant): the
        # prefetch thread must never wait for the write lock of the page being applied. Its
        # measurement is kept above and written with the next one.
        if not self._lock.acquire(blocking=False):
            return
        try:
            with self.db.session() as session:
                remember_offset(session, best)
        except Exception:  # noqa: BLE001 - a measurement is not worth failing a pull for
            log.warning("could not keep the clock offset", exc_info=True)
        finally:
            self._lock.release()

    def note_server_time(self, server_time: datetime, round_trip: float = 0.0) -> None:
        local = self.clock().timestamp() - round_trip / 2
        self.clock_skew_seconds = local - server_time.timestamp()

    # --- health ---------------------------------------------------------------------------

    def probe(self) -> bool:
        """A cheap request: is the server reachable, and what time does it think it is?"""
        started = time.monotonic()
        result = self.backend.probe()
        if result.server_time is not None:
            self.note_server_time(result.server_time, time.monotonic() - started)
        self.online = result.reachable
        if not result.reachable:
            self.last_error = result.error
        return result.reachable

    def status(self) -> SyncStatus:
        with self.db.session() as session:
            pending = session.scalar(select(func.count()).where(OutboxEntry.state == "pending"))
            pending_checkins = session.scalar(
                select(func.count()).where(
                    OutboxEntry.state == "pending", OutboxEntry.table_name == "checkins"
                )
            )
            dead = session.scalar(select(func.count()).where(OutboxEntry.state == "dead"))
            oldest = session.scalar(
                select(func.min(OutboxEntry.created_at)).where(OutboxEntry.state == "pending")
            )
            conflicts = session.scalar(
                select(func.count())
                .select_from(SyncConflict)
                .where(SyncConflict.dismissed_at.is_(None))
            )
            last_pull = get_meta(session, META_LAST_PULL)
            last_push = get_meta(session, META_LAST_PUSH)
            bridges = get_meta(session, META_BRIDGES)
        return SyncStatus(
            online=self.online,
            pending=pending or 0,
            dead=dead or 0,
            oldest_pending_at=oldest,
            last_pull_at=parse_utc(last_pull) if last_pull else None,
            last_push_at=parse_utc(last_push) if last_push else None,
            last_error=self.last_error,
            clock_skew_seconds=self.clock_skew_seconds,
            pending_checkins=pending_checkins or 0,
            conflicts=conflicts or 0,
            backend=getattr(self.backend, "name", None),
            bridges=json.loads(bridges) if bridges else None,
            routes=self.backend.routes() if hasattr(self.backend, "routes") else None,
        )


# --- helpers ----------------------------------------------------------------------------------


def _mutation(entry: OutboxEntry) -> dict[str, Any]:
    return {
        "mutation_id": entry.mutation_id,
        "table": entry.table_name,
        "op": entry.op,
        "row_id": entry.row_id,
        "payload": entry.payload,
        "base_version": entry.base_version,
        "created_at": _TIME.process_bind_param(entry.created_at, None),
    }


def _result_dict(result: PushResult) -> dict[str, Any]:
    return {
        "status": result.status,
        "version": result.version,
        "reason": result.reason,
        "server_row": result.server_row,
    }


META_SKIPPED = "sync.skipped"
"""JSON {"table:row_id": change}: the newest server state of each row with queued edits that
this replica was told of (by a pull or a conflict answer) and has not applied yet."""


def _load_skipped(session: Session) -> dict[str, Any]:
    raw = get_meta(session, META_SKIPPED)
    return json.loads(raw) if raw else {}


def _save_skipped(session: Session, skipped: dict[str, Any]) -> None:
    if skipped or get_meta(session, META_SKIPPED):
        set_meta(session, META_SKIPPED, json.dumps(skipped))


def _hold(held: dict[str, Any], table: str, row_id: str, change: dict[str, Any]) -> None:
    """Keep ``change`` as the row's held-back server state unless a newer one is held."""
    key = f"{table}:{row_id}"
    known = held.get(key)
    if known is None or (change.get("version") or 0) >= (known.get("version") or 0):
        held[key] = change


def _pending_rows(session: Session) -> set[tuple[str, str]]:
    return {
        (table, row_id)
        for table, row_id in session.execute(
            select(OutboxEntry.table_name, OutboxEntry.row_id).where(OutboxEntry.state == "pending")
        )
    }


def jitter(delay: float) -> float:
    """Full jitter: spread retries of many kiosks so they do not hit the server in step."""
    return random.uniform(delay / 2, delay)
