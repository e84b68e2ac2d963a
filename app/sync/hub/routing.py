"""A joined kiosk's two ways to sync: the venue hub and the server, both when it can.

One of them is the *primary*: the hub while it answers, else the server. The primary takes
every push and serves every pull; its answers settle the queue. A new check-in (an insert:
no base version, nothing to conflict with) also goes to the other one when that one answers,
so the server has it sooner and the hub's doors see a check-in made while cut off from the
hub; their mutation ids keep both deliveries one check-in (sync_mutations answers
"duplicate"). Edits go to the primary only: their base versions are the primary's numbers.

The hub and the server number their row versions independently, so switching primary starts
a full resync from the new one (a ``reset`` page; the engine keeps the queue and the rows it
refers to). The cursor the engine stores is ``{"src": "hub"|"server", "c": <that cursor>}``.
A hub that stopped answering is probed again every ``HUB_RETRY_SECONDS``; the switch back
happens only when the probe answers, so a dead hub costs no resync loop.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.sync.backends import Backend, ProbeResult, PullPage, PushResult, ServerInfo, SyncError
from app.sync.hub.join import HubBackend

log = logging.getLogger(__name__)

HUB_RETRY_SECONDS = 10.0
SERVER_RETRY_SECONDS = 30.0
HUB_STATUS_EVERY_SECONDS = 10.0


@dataclass
class Routes:
    """What the status line says about each way: None = not tried yet."""

    internet: bool | None
    hub: bool | None
    hub_kiosks: int | None = None
    hub_error: str | None = None
    primary: str = "server"


class _Leg:
    def __init__(self, backend: Any, retry_seconds: float) -> None:
        self.backend = backend
        self.retry_seconds = retry_seconds
        self.ok: bool | None = None
        self.error: str | None = None
        self.retry_at = 0.0

    def failed(self, exc: SyncError) -> None:
        self.ok, self.error = False, str(exc)
        self.retry_at = time.monotonic() + self.retry_seconds

    def worked(self) -> None:
        self.ok, self.error = True, None

    def due(self) -> bool:
        return self.ok is not False or time.monotonic() >= self.retry_at


class RoutedBackend:
    """The engine's backend on a kiosk joined to a venue hub (``server`` may be None)."""

    name = "hub+server"

    def __init__(self, hub: HubBackend, server: Backend | None = None) -> None:
        self.hub = _Leg(hub, HUB_RETRY_SECONDS)
        self.server = _Leg(server, SERVER_RETRY_SECONDS) if server is not None else None
        self.hub_kiosks: int | None = None
        self._status_at = 0.0
        self._lock = threading.RLock()
        self._listener: HubListener | None = None
        if server is None:
            self.name = "hub"

    # --- which way ----------------------------------------------------------------------------

    def _primary(self) -> _Leg:
        with self._lock:
            if self.server is None or self._primary_name() == "hub":
                return self.hub
            if time.monotonic() >= self.hub.retry_at:
                # the hub was down: back to it only when it answers again
                if self.hub.backend.probe().reachable:
                    self.hub.worked()
                    return self.hub
                self.hub.retry_at = time.monotonic() + self.hub.retry_seconds
            return self.server

    def _other(self, leg: _Leg) -> _Leg | None:
        return self.server if leg is self.hub else self.hub

    def _src(self, leg: _Leg) -> str:
        return "hub" if leg is self.hub else "server"

    def routes(self) -> Routes:
        primary = self._primary_name()
        return Routes(
            internet=self.server.ok if self.server is not None else None,
            hub=self.hub.ok,
            hub_kiosks=self.hub_kiosks,
            hub_error=self.hub.error,
            primary=primary,
        )

    def _primary_name(self) -> str:
        if self.server is None or self.hub.ok is not False:
            return "hub"
        return "server"

    # --- the contract -------------------------------------------------------------------------

    def pull(self, event_id: str, cursor: str, limit: int) -> PullPage:
        src, inner = _split(cursor)
        leg = self._primary()
        if cursor and src != self._src(leg):
            # another numbering of versions: start over from this one
            return PullPage([], "", has_more=True, reset=True)
        try:
            page = leg.backend.pull(event_id, inner, limit)
        except SyncError as exc:
            if not exc.transient:
                raise
            leg.failed(exc)
            if leg is self.hub and self.server is not None and self.server.due():
                return PullPage([], "", has_more=True, reset=True)
            raise
        leg.worked()
        if leg is self.hub:
            self._refresh_hub_status()
        page.cursor = json.dumps({"src": self._src(leg), "c": page.cursor})
        return page

    def push(self, device_id: str, mutations: list[dict[str, Any]]) -> list[PushResult]:
        leg = self._primary()
        try:
            results = leg.backend.push(device_id, mutations)
        except SyncError as exc:
            if not exc.transient:
                raise
            leg.failed(exc)
            other = self._other(leg)
            if other is None or not other.due():
                raise
            leg = other
            try:
                results = leg.backend.push(device_id, mutations)
            except SyncError as again:
                if again.transient:
                    leg.failed(again)
                raise
        leg.worked()
        self._copy_inserts(leg, device_id, mutations, results)
        return results

    def _copy_inserts(
        self,
        leg: _Leg,
        device_id: str,
        mutations: list[dict[str, Any]],
        results: list[PushResult],
    ) -> None:
        """New check-ins (and other inserts) to the other way too, when it answers."""
        other = self._other(leg)
        if other is None or not other.due():
            return
        done = {r.mutation_id for r in results if r.status in ("applied", "duplicate")}
        inserts = [m for m in mutations if m.get("op") == "insert" and m["mutation_id"] in done]
        if not inserts:
            return
        try:
            other.backend.push(device_id, inserts)
            other.worked()
        except SyncError as exc:
            other.failed(exc)
            log.info(
                "the %s did not take the copy of %d inserts: %s",
                self._src(other),
                len(inserts),
                exc,
            )

    def _refresh_hub_status(self) -> None:
        if time.monotonic() - self._status_at < HUB_STATUS_EVERY_SECONDS:
            return
        self._status_at = time.monotonic()
        try:
            self.hub_kiosks = int(self.hub.backend.status().get("kiosks") or 0)
        except (SyncError, ValueError, TypeError):
            self.hub_kiosks = None

    def probe(self) -> ProbeResult:
        results = []
        for leg in (self.hub, self.server):
            if leg is None or not leg.due():
                continue
            result = leg.backend.probe()
            if result.reachable:
                leg.worked()
            else:
                leg.failed(SyncError(result.error or "unreachable", transient=True))
            results.append(result)
        for result in results:
            if result.reachable:
                return result
        return results[0] if results else ProbeResult(False, error="No way to sync answers.")

    def register_device(self, name: str, gate: str) -> str:
        target = self.server or self.hub
        return target.backend.register_device(name, gate)

    def server_info(self) -> ServerInfo:
        if self.server is not None and self.server.ok is not False:
            try:
                return self.server.backend.server_info()
            except SyncError:
                pass
        return self.hub.backend.server_info()

    def listen(self, on_change: Callable[[], None]) -> None:
        """Call ``on_change`` (from a background thread) whenever another kiosk pushed to the
        hub or the relay brought the server's changes: the runner pulls at once."""
        if self._listener is None:
            self._listener = HubListener(self.hub.backend, on_change)
            self._listener.start()

    def close(self) -> None:
        if self._listener is not None:
            self._listener.stop()
        self.hub.backend.close()
        if self.server is not None:
            self.server.backend.close()


def _split(cursor: str) -> tuple[str, str]:
    """(source, its cursor) from the stored cursor; a plain one is the server's (before joining)."""
    if not cursor:
        return "", ""
    try:
        data = json.loads(cursor)
    except ValueError:
        return "server", cursor
    if isinstance(data, dict) and data.get("src") in ("hub", "server"):
        return str(data["src"]), str(data.get("c") or "")
    return "server", cursor


class HubListener:
    """LISTEN showdesk_hub on its own connection; reconnects every few seconds when lost."""

    def __init__(self, hub: HubBackend, on_change: Callable[[], None]) -> None:
        self.hub = hub
        self.on_change = on_change
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hub-listen", daemon=True)
        self._conn: Any = None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - closing a connection in use by the thread
                pass

    def _run(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                conn = psycopg.connect(self.hub.dsn, autocommit=True, connect_timeout=3)
                self._conn = conn
                conn.execute("LISTEN showdesk_hub")
                while not self._stop.is_set():
                    for _note in conn.notifies(timeout=1.0):
                        self.on_change()  # at once: the runner coalesces a burst
            except Exception:  # noqa: BLE001 - lost hub: the engine reports it; retry quietly
                if self._stop.wait(3.0):
                    return
