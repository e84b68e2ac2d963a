"""The venue hub as the app runs it on an organizer's laptop: one object the hub screen calls
(always off the UI thread) to start and stop the hub, make join codes, list and revoke kiosks.

Starting: the hub's PostgreSQL (app.sync.hub.server), the event's organization from this
laptop's replica, and when the hub is new, its data from that replica too (so a hub started
after the internet died still knows the tickets and the kiosks); then the relay on its own
thread, to the server this laptop syncs with (if any).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.sync.hub.relay import Relay
from app.sync.hub.server import DEFAULT_PORT, Hub, JoinCode, lan_addresses

log = logging.getLogger(__name__)
RELAY_SECONDS = 2.0


@dataclass
class HubState:
    running: bool
    port: int = DEFAULT_PORT
    addresses: list[str] = field(default_factory=list)
    fingerprint: str = ""
    kiosks: list[dict[str, Any]] = field(default_factory=list)
    waiting: int = 0
    internet: bool | None = None  # the relay's last try; None: not tried or no server set up
    problem: str | None = None

    @property
    def connected(self) -> int:
        return sum(1 for k in self.kiosks if k.get("connected") and not k.get("revoked_at"))

    def headline(self) -> str:
        if not self.running:
            return "Venue hub: off"
        where = ", ".join(f"{a}:{self.port}" for a in self.addresses) or f"port {self.port}"
        internet = {True: "online", False: "offline", None: "not set up"}[self.internet]
        doors = f"{self.connected} kiosk{'s' if self.connected != 1 else ''} connected"
        waiting = (
            f", {self.waiting} change{'s' if self.waiting != 1 else ''} waiting"
            if self.waiting
            else ""
        )
        return f"Venue hub: running on {where} — {doors} · Internet: {internet}{waiting}"


class HubService:
    def __init__(
        self,
        config: Any,
        db: Any,
        event_id: str,
        device_id: str,
        root: Path | None = None,
        port: int = DEFAULT_PORT,
    ) -> None:
        from app.config import data_dir

        self.config, self.db = config, db
        self.event_id, self.device_id = event_id, device_id
        self.hub = Hub(root or data_dir() / "hub", port)
        self.relay: Relay | None = None
        self.advertisement: Any = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _organization(self) -> str | None:
        from app.store.models import Event

        with self.db.session() as session:
            event = session.get(Event, self.event_id)
            return str(event.organization_id) if event is not None else None

    def start(self) -> HubState:
        from app.sync.runner import _server_backend

        self.hub.start()
        self.hub.configure(self._organization(), self.event_id, self.device_id)
        try:
            upstream = _server_backend(self.config, self.device_id)
        except Exception as exc:  # noqa: BLE001 - settings problem: the hub serves the venue only
            log.warning("hub: no upstream (%s)", exc)
            upstream = None
        self.relay = Relay(self.hub, upstream, self.event_id)
        if not self.hub.setting("server_cursor"):
            with self.hub.connect() as conn:
                empty = conn.execute("select count(*) from showdesk.events").fetchone()[0] == 0
            if empty:
                log.info("hub: %d rows from this laptop's replica", self.relay.seed(self.db))
        self._stop.clear()
        self._thread = threading.Thread(
            target=self.relay.run_forever,
            args=(self._stop, RELAY_SECONDS),
            name="hub-relay",
            daemon=True,
        )
        if upstream is not None:
            self._thread.start()
        from app.sync.hub.discovery import Advertisement

        self.advertisement = Advertisement(
            f"Showdesk hub {self.device_id[:8]}",
            self.hub.port,
            lan_addresses() or ["127.0.0.1"],
            self.event_id,
            self.hub.fingerprint,
        )
        return self.state()

    def stop(self) -> HubState:
        if self.advertisement is not None:
            self.advertisement.close()
            self.advertisement = None
        self._stop.set()
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=30)
        self._thread = None
        self.hub.stop()
        return self.state()

    def state(self) -> HubState:
        if not self.hub.running():
            return HubState(False)
        status = self.hub.status()
        return HubState(
            running=True,
            port=self.hub.port,
            addresses=lan_addresses() or ["127.0.0.1"],
            fingerprint=self.hub.fingerprint,
            kiosks=self.hub.kiosks(),
            waiting=int(status.get("waiting") or 0),
            internet=self.relay.online if self.relay is not None else None,
            problem=self.relay.last_error if self.relay is not None else None,
        )

    def new_code(self, role: str) -> JoinCode:
        return self.hub.create_join_code(role)

    def revoke(self, device_id: str) -> int:
        return self.hub.revoke(device_id)
