"""The hub's relay: kiosks' changes up to the server, the server's changes down into the hub.

Up: every mutation the hub applied for a kiosk waits in ``showdesk_hub.upstream`` and goes to
the server with ``relay_push`` (0024) as that kiosk, under its own mutation id: a kiosk that
also pushed it to the server directly gets "duplicate", so nothing is counted twice. An edit's
``base_version`` is a hub version number; it is translated into the server's numbering from
``showdesk_hub.row_origin`` (the version pair recorded each time a row came down or went up).

Down: the server's pull, as the hub's organizer device, written into the hub's tables as
superuser, page by page with the cursor in the same transaction; the hub's own triggers give
each row a hub version and a change-log entry, so kiosks pull it from the hub as from the
server. A row with a change still waiting to go up is held until that change has been
answered, as the kiosk's engine does. Rows are written parents first; a child whose parent
arrives on a later page waits for it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from app.sync.backends import PullPage, PushResult, SyncError
from app.sync.hub.server import Hub

log = logging.getLogger(__name__)

PULL_LIMIT = 5000
PUSH_BATCH = 500
NO_SERVER = "No sync server is set up: the hub serves the venue only."


@dataclass
class RelayReport:
    relayed: int = 0
    duplicate: int = 0
    refused: int = 0
    pulled: int = 0
    held: int = 0
    upstream_error: str | None = None
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


class Relay:
    """One hub's relay with one upstream backend (a PostgresBackend or SupabaseBackend with
    ``relay_push``). ``run_once`` is push up, then pull down; one at a time."""

    def __init__(self, hub: Hub, upstream: Any, event_id: str) -> None:
        self.hub = hub
        self.upstream = upstream
        self.event_id = event_id
        self._lock = threading.Lock()
        self._columns: dict[str, list[str]] = {}
        self._order: dict[str, int] = {}
        self.online: bool | None = None
        self.last_error: str | None = None

    # --- the cycle -------------------------------------------------------------------------

    def run_once(self) -> RelayReport:
        report = RelayReport()
        if self.upstream is None:
            self.online, self.last_error = None, NO_SERVER
            report.upstream_error = NO_SERVER
            return report
        with self._lock:
            try:
                self.push_up(report)
                self.pull_down(report)
                self.online, self.last_error = True, None
                self.hub.set_setting("upstream_at", report.at.isoformat())
            except SyncError as exc:
                self.online = False if exc.transient else self.online
                self.last_error = report.upstream_error = str(exc)
                log.info("relay: %s", exc)
        return report

    def run_forever(self, stop: threading.Event, interval: float = 2.0) -> None:
        while not stop.is_set():
            self.run_once()
            stop.wait(interval)

    # --- up ----------------------------------------------------------------------------------

    def push_up(self, report: RelayReport) -> None:
        while True:
            with self.hub.connect() as conn:
                rows = conn.execute(
                    "SELECT u.mutation_id::text, u.device_id::text, u.mutation, u.hub_version,"
                    " u.staff_role"
                    " FROM showdesk_hub.upstream u WHERE u.relayed_at IS NULL"
                    " ORDER BY u.seq LIMIT %s",
                    (PUSH_BATCH,),
                ).fetchall()
                if not rows:
                    return
                rows = _one_per_row(rows)
                origins = self._origins(conn, [r[2] for r in rows])
            # consecutive mutations of one kiosk go in one call
            start, answered = 0, 0
            while start < len(rows):
                end = start
                while end < len(rows) and _sender(rows[end]) == _sender(rows[start]):
                    end += 1
                answered += self._relay(rows[start][1], rows[start:end], origins, report)
                start = end
            if not answered:
                return  # the server answered none of them: again next cycle

    def _origins(self, conn, mutations: list[dict[str, Any]]) -> dict[tuple[str, str], tuple]:
        keys = {(m.get("table"), m.get("row_id")) for m in mutations if m.get("base_version")}
        if not keys:
            return {}
        found = conn.execute(
            "SELECT o.table_name, o.row_id::text, o.hub_version, o.server_version"
            " FROM showdesk_hub.row_origin o"
            " JOIN unnest(%s::text[], %s::text[]) AS k(t, r)"
            "   ON o.table_name = k.t AND o.row_id::text = k.r",
            ([k[0] for k in keys], [str(k[1]) for k in keys]),
        ).fetchall()
        return {(t, r): (hv, sv) for t, r, hv, sv in found}

    def _relay(
        self,
        device_id: str,
        rows: list[tuple],
        origins: dict[tuple[str, str], tuple],
        report: RelayReport,
    ) -> int:
        """Relay one sender's run; returns how many the server answered."""
        mutations = [translate(row[2], origins) for row in rows]
        try:
            results = self.upstream.relay_push(device_id, mutations, rows[0][4])
        except SyncError as exc:
            if exc.transient:
                raise
            if len(rows) > 1:
                half = len(rows) // 2
                return self._relay(device_id, rows[:half], origins, report) + self._relay(
                    device_id, rows[half:], origins, report
                )
            results = [PushResult(rows[0][0], "rejected", reason=str(exc))]
        return self._record(rows, results, report)

    def _record(self, rows: list[tuple], results: list[PushResult], report: RelayReport) -> int:
        from psycopg.types.json import Jsonb

        by_id = {r.mutation_id: r for r in results}
        answered = 0
        with self.hub.connect() as conn, conn.transaction():
            for mutation_id, _device, mutation, hub_version, _role in rows:
                result = by_id.get(mutation_id)
                if result is None:
                    continue  # no answer yet: tried again next cycle
                answered += 1
                if result.status == "applied":
                    report.relayed += 1
                elif result.status == "duplicate":
                    report.duplicate += 1
                else:
                    report.refused += 1
                    log.warning(
                        "relay: the server %s mutation %s: %s",
                        result.status,
                        mutation_id,
                        result.reason,
                    )
                conn.execute(
                    "UPDATE showdesk_hub.upstream SET relayed_at = now(), relay_status = %s,"
                    " relay_result = %s WHERE mutation_id = %s",
                    (
                        result.status,
                        Jsonb({"version": result.version, "reason": result.reason}),
                        mutation_id,
                    ),
                )
                if result.status in ("applied", "duplicate") and result.version and hub_version:
                    _remember_origin(
                        conn, mutation["table"], mutation["row_id"], hub_version, result.version
                    )
        return answered

    # --- down --------------------------------------------------------------------------------

    def pull_down(self, report: RelayReport) -> None:
        while True:
            cursor = self.hub.setting("server_cursor") or ""
            page = self.upstream.pull(self.event_id, cursor, PULL_LIMIT)
            self._apply(page, report)
            if not page.has_more:
                return

    def seed(self, db: Any) -> int:
        """Fill an empty hub from this laptop's own replica (a hub that starts with no
        internet still knows the event, its tickets and its kiosks); the server's versions come
        along, so edits relay with the right base later. Returns the rows written."""
        from sqlalchemy import select

        from app.store.models import MODEL_BY_TABLE
        from app.store.serialize import row_to_dict

        changes: list[dict[str, Any]] = []
        with self.hub.connect() as conn:
            tables = list(self._tables(conn))
        with db.session() as session:
            for table in tables:
                model = MODEL_BY_TABLE.get(table)
                if model is None:
                    continue
                for row in session.scalars(select(model)):
                    wire = row_to_dict(row, include_sync=True)
                    changes.append(
                        {
                            "table": table,
                            "id": wire["id"],
                            "row": wire,
                            "version": wire.get("server_version"),
                        }
                    )
        report = RelayReport()
        cursor = self.hub.setting("server_cursor") or ""
        self._apply(PullPage(changes, cursor, has_more=False), report)
        return report.pulled

    def _apply(self, page: PullPage, report: RelayReport) -> None:
        from psycopg.types.json import Jsonb

        with self.hub.connect() as conn, conn.transaction():
            order = self._tables(conn)
            held = list(self.hub.setting("held", conn) or [])
            waiting = {
                (t, r)
                for t, r in conn.execute(
                    "SELECT mutation ->> 'table', mutation ->> 'row_id'"
                    " FROM showdesk_hub.upstream WHERE relayed_at IS NULL"
                )
            }
            changes = held + list(page.changes)
            keep: list[dict[str, Any]] = []
            ready: list[dict[str, Any]] = []
            for change in changes:
                key = (change.get("table"), str(change.get("id")))
                if key[0] not in order:
                    continue
                (keep if key in waiting else ready).append(change)
            upserts = [c for c in ready if not c.get("deleted") and c.get("row") is not None]
            deletes = [c for c in ready if c.get("deleted") or c.get("row") is None]
            upserts.sort(key=lambda c: order[c["table"]])
            # a row that came again on this page: only its last state counts
            last: dict[tuple[str, str], dict[str, Any]] = {}
            for change in upserts:
                last[(change["table"], str(change["id"]))] = change
            orphans = self._upsert(conn, list(last.values()))
            keep.extend(orphans)
            for change in sorted(deletes, key=lambda c: -order[c["table"]]):
                self._delete(conn, change["table"], str(change["id"]))
            report.pulled += len(page.changes)
            report.held = len(keep)
            if not self.hub.setting("organization_id", conn):
                for change in upserts:
                    if change["table"] == "events" and str(change["id"]) == self.event_id:
                        self.hub.set_setting(
                            "organization_id", change["row"]["organization_id"], conn
                        )
            conn.execute(
                "INSERT INTO showdesk_hub.settings (key, value) VALUES ('held', %s),"
                " ('server_cursor', %s) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (Jsonb(keep), Jsonb(page.cursor)),
            )
            if page.changes:
                conn.execute("SELECT pg_notify('showdesk_hub', 'server')")

    def _tables(self, conn) -> dict[str, int]:
        """The synced tables, parents first, as the hub's own SQL lists them (sync_tables())."""
        if not self._order:
            row = conn.execute("SELECT showdesk_private.sync_tables()").fetchone()
            self._order = {t: i for i, t in enumerate(row[0] if row else [])}
        return self._order

    def _table_columns(self, conn, table: str) -> list[str]:
        if table not in self._columns:
            self._columns[table] = [
                r[0]
                for r in conn.execute(
                    "SELECT column_name FROM information_schema.columns"
                    " WHERE table_schema = 'showdesk' AND table_name = %s"
                    " AND is_generated = 'NEVER' ORDER BY ordinal_position",
                    (table,),
                )
            ]
        return self._columns[table]

    def _upsert(self, conn, changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Write each table's rows set-based; a table whose batch fails on a missing parent
        is written row by row, and the rows still missing theirs come back to be held."""
        import psycopg

        orphans: list[dict[str, Any]] = []
        by_table: dict[str, list[dict[str, Any]]] = {}
        for change in changes:
            by_table.setdefault(change["table"], []).append(change)
        order = self._tables(conn)
        for table in sorted(by_table, key=order.__getitem__):
            batch = by_table[table]
            try:
                with conn.transaction():
                    self._write(conn, table, batch)
            except psycopg.errors.ForeignKeyViolation:
                for change in batch:
                    try:
                        with conn.transaction():
                            self._write(conn, table, [change])
                    except psycopg.errors.ForeignKeyViolation:
                        orphans.append(change)
        return orphans

    def _write(self, conn, table: str, batch: list[dict[str, Any]]) -> None:
        from psycopg import sql
        from psycopg.types.json import Jsonb

        known = set(self._table_columns(conn, table))
        columns = [c for c in self._table_columns(conn, table) if c in batch[0]["row"]]
        columns = [c for c in columns if c in known and c != "version"]
        names = sql.SQL(", ").join(map(sql.Identifier, columns))
        excluded = sql.SQL(", ").join(
            sql.SQL("excluded.{}").format(sql.Identifier(c)) for c in columns
        )
        statement = sql.SQL(
            "INSERT INTO showdesk.{t} AS x ({names})"
            " SELECT {names} FROM jsonb_populate_recordset(NULL::showdesk.{t}, %s)"
            " ON CONFLICT (id) DO UPDATE SET ({names}) = ROW({excluded})"
            " RETURNING x.id::text, x.version"
        ).format(t=sql.Identifier(table), names=names, excluded=excluded)
        rows = [c["row"] for c in batch]
        written = dict(conn.execute(statement, (Jsonb(rows),)).fetchall())
        server_versions = {str(c["id"]): c.get("version") for c in batch}
        pairs = [
            (row_id, hub_version, server_versions.get(row_id))
            for row_id, hub_version in written.items()
            if server_versions.get(row_id) is not None
        ]
        if pairs:
            conn.execute(
                "INSERT INTO showdesk_hub.row_origin (table_name, row_id, hub_version, server_version)"
                " SELECT %s, r::uuid, h, s FROM unnest(%s::text[], %s::bigint[], %s::bigint[])"
                "   AS p(r, h, s)"
                " ON CONFLICT (table_name, row_id) DO UPDATE"
                " SET hub_version = excluded.hub_version, server_version = excluded.server_version",
                (table, [p[0] for p in pairs], [p[1] for p in pairs], [p[2] for p in pairs]),
            )

    def _delete(self, conn, table: str, row_id: str) -> None:
        import psycopg
        from psycopg import sql

        try:
            with conn.transaction():
                conn.execute(
                    sql.SQL("DELETE FROM showdesk.{} WHERE id = %s").format(sql.Identifier(table)),
                    (row_id,),
                )
                conn.execute(
                    "DELETE FROM showdesk_hub.row_origin WHERE table_name = %s AND row_id = %s",
                    (table, row_id),
                )
        except psycopg.errors.ForeignKeyViolation:
            log.info("relay: %s %s still has children on the hub; kept", table, row_id)


def _one_per_row(rows: list[tuple]) -> list[tuple]:
    """The waiting mutations up to the second one for a row already in the batch: an edit on
    top of an earlier one is translated with the version the server gave that one."""
    seen: set[tuple[str, str]] = set()
    batch = []
    for row in rows:
        key = (str(row[2].get("table")), str(row[2].get("row_id")))
        if key in seen:
            break
        seen.add(key)
        batch.append(row)
    return batch


def _sender(row: tuple) -> tuple[str, str]:
    """(device id, role) of an upstream row: one relay call per run of the same sender."""
    return row[1], row[4]


def translate(mutation: dict[str, Any], origins: dict[tuple[str, str], tuple]) -> dict[str, Any]:
    """The mutation with its hub ``base_version`` in the server's numbering.

    The kiosk saw the server's latest state of the row when its base is at least the hub
    version that state got here: then the server's version is the base. Otherwise it edited an
    older state, and the base is just below the server's, so the server's conflict check sees
    every column changed since.
    """
    base = mutation.get("base_version")
    if not base:
        return mutation
    origin = origins.get((str(mutation.get("table")), str(mutation.get("row_id"))))
    translated = dict(mutation)
    if origin is None:
        translated["base_version"] = None
        return translated
    hub_version, server_version = origin
    translated["base_version"] = server_version if base >= hub_version else server_version - 1
    return translated


def _remember_origin(conn, table: str, row_id: str, hub_version: int, server_version: int) -> None:
    conn.execute(
        "INSERT INTO showdesk_hub.row_origin (table_name, row_id, hub_version, server_version)"
        " VALUES (%s, %s, %s, %s) ON CONFLICT (table_name, row_id) DO UPDATE"
        " SET hub_version = excluded.hub_version, server_version = excluded.server_version",
        (table, row_id, hub_version, server_version),
    )


def run_relay(
    hub: Hub,
    make_upstream: Callable[[], Any],
    event_id: str,
    stop: threading.Event,
    interval: float = 2.0,
) -> None:
    """The relay loop of ``showdesk hub serve``: a backend that failed to build is tried again."""
    relay: Relay | None = None
    while not stop.is_set():
        if relay is None:
            try:
                relay = Relay(hub, make_upstream(), event_id)
            except SyncError as exc:
                log.warning("relay: %s", exc)
                stop.wait(interval)
                continue
        started = time.monotonic()
        relay.run_once()
        stop.wait(max(0.0, interval - (time.monotonic() - started)))
