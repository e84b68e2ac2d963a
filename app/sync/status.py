"""How sync is doing, in numbers and in words for the people at the door."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from app.store.types import utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.store.clock import ClockOffset
    from app.sync.hub.routing import Routes
    from app.sync.revocation import Retirement

CLOCK_WARN_SECONDS = 120.0


def ago(when: datetime | None, now: datetime) -> str:
    """'12 s ago', '4 min ago', '2 h ago', 'never'."""
    if when is None:
        return "never"
    seconds = max(0, int((now - when).total_seconds()))
    if seconds < 60:
        return f"{seconds} s ago"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} days ago"


def plural(n: int, one: str, many: str | None = None) -> str:
    """'1 change', '3 changes', '1 lineup entry', '2 lineup entries' (``many`` when irregular)."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _minutes(seconds: float) -> str:
    minutes = round(abs(seconds) / 60)
    if minutes >= 90:
        return f"{round(abs(seconds) / 3600)} h"
    return f"{max(minutes, 2)} min"


@dataclass
class SyncStatus:
    online: bool | None  # None: not known yet (no request made)
    pending: int = 0
    dead: int = 0
    oldest_pending_at: datetime | None = None
    last_pull_at: datetime | None = None
    last_push_at: datetime | None = None
    last_error: str | None = None
    clock_skew_seconds: float | None = None  # local minus server; positive: kiosk is ahead
    pending_checkins: int = 0
    conflicts: int = 0
    backend: str | None = None
    syncing: bool = False
    bridges: list[str] | None = None  # None: not known yet; []: a standalone Showdesk server
    # how far clock_skew_seconds can be off now, and when it was measured (see with_clock)
    clock_uncertainty_s: float | None = None
    clock_measured_at: datetime | None = None
    # set once the server refused this device as removed (app.sync.revocation.Retirement)
    revoked: Retirement | None = None
    # a kiosk joined to a venue hub: each way's state (app.sync.hub.routing.Routes)
    routes: Routes | None = None

    @property
    def route_words(self) -> str | None:
        """'Internet: offline · Venue hub: connected, 3 kiosks' on a kiosk joined to a hub."""
        routes = self.routes
        if routes is None:
            return None

        def state(ok: bool | None, yes: str, no: str) -> str:
            return "checking" if ok is None else yes if ok else no

        internet = (
            "not set up"  # a kiosk joined to a hub with no server of its own (RoutedBackend)
            if self.backend == "hub"
            else state(routes.internet, "online", "offline")
        )
        hub = state(routes.hub, "connected", "unreachable")
        if routes.hub and routes.hub_kiosks is not None:
            hub += f", {plural(routes.hub_kiosks, 'kiosk')}"
        return f"Internet: {internet} · Venue hub: {hub}"

    @property
    def server_words(self) -> str | None:
        """What the server is, for the Sync tab: standalone, or which platform tables it bridges."""
        if self.backend is None or self.bridges is None:
            return None
        return server_words(self.bridges)

    @property
    def last_sync_at(self) -> datetime | None:
        return self.last_pull_at

    @property
    def clock_warning(self) -> str | None:
        skew = self.clock_skew_seconds
        if skew is None or abs(skew) <= CLOCK_WARN_SECONDS:
            return None
        direction = "ahead" if skew > 0 else "behind"
        return f"Kiosk clock is {_minutes(skew)} off ({direction}) — check the date and time"

    @property
    def level(self) -> str:
        """ok / working / offline / problem: the indicator's colour (always with words)."""
        if self.backend is None:
            return "local"
        if self.revoked is not None:
            return "problem"
        if self.dead or self.clock_warning:
            return "problem"
        if self.routes is not None and (self.routes.hub or self.routes.internet):
            return "working" if self.pending else "ok"
        if self.online is False:
            return "offline"
        if self.pending or self.online is None:
            return "working"
        return "ok"

    def waiting_words(self) -> str:
        if not self.pending:
            return "all changes uploaded"
        others = self.pending - self.pending_checkins
        if self.pending_checkins and not others:
            return f"{plural(self.pending_checkins, 'check-in')} waiting to upload"
        return f"{plural(self.pending, 'change')} waiting to upload"

    def headline(self, now: datetime | None = None) -> str:
        """The main line: connection, queue, age of the last sync."""
        now = now or utcnow()
        if self.backend is None:
            return "This device works offline only — no sync server is set up"
        last = f"last sync {ago(self.last_sync_at, now)}"
        if self.routes is not None:
            words = self.route_words
            if self.routes.hub or self.routes.internet:
                return f"{words} — {self.waiting_words()}, {last}"
            if self.routes.hub is False and self.routes.internet is not True:
                return f"{words} — offline, {self.waiting_words()}, {last}"
        if self.online is False:
            state = (
                "No internet"
                if not self.last_error or "reach" in self.last_error.lower()
                else "Sync problem"
            )
            return f"{state} — {self.waiting_words()}, {last}"
        if self.online is None:
            return f"Connecting — {self.waiting_words()}, {last}"
        if self.last_error:
            return f"Connected, but sync failed — {self.waiting_words()}, {last}"
        return f"Online — {self.waiting_words()}, {last}"

    def summary(self, now: datetime | None = None) -> str:
        """Everything a person needs, most urgent first, in one short paragraph."""
        parts = []
        if self.clock_warning:
            parts.append(self.clock_warning)
        if self.dead:
            parts.append(
                f"{plural(self.dead, 'change was', 'changes were')} refused by the "
                "server — see Sync tab"
            )
        parts.append(self.headline(now))
        return ". ".join(parts)


# What a queued change is, per table, for "12 check-ins, 3 lineup entries" (one, many).
QUEUE_NOUNS = {
    "checkins": ("check-in", "check-ins"),
    "runway_appearances": ("lineup entry", "lineup entries"),
    "runway_shows": ("show change", "show changes"),
    "runway_segments": ("segment change", "segment changes"),
    "call_times": ("call time", "call times"),
    "people": ("person", "people"),
    "attendees": ("guest", "guests"),
    "tickets": ("ticket", "tickets"),
    "events": ("event change", "event changes"),
    "looks": ("look", "looks"),
    "models": ("model", "models"),
}


@dataclass(frozen=True)
class QueueCounts:
    """The outbox right now: every kind of local change, counted the one way every view uses."""

    pending: int = 0
    pending_checkins: int = 0
    dead: int = 0
    oldest_at: datetime | None = None
    by_table: tuple[tuple[str, int], ...] = ()

    def breakdown(self) -> str:
        """'12 check-ins, 3 lineup entries, 1 call time' (largest first)."""
        parts = []
        for table, n in self.by_table:
            one, many = QUEUE_NOUNS.get(table, (table.replace("_", " "), None))
            parts.append(plural(n, one, many))
        return ", ".join(parts)


def read_queue(session: Session) -> QueueCounts:
    """Count the outbox (pending by kind, refused, oldest waiting) in one short read."""
    from sqlalchemy import func, select

    from app.store.models import OutboxEntry

    rows = session.execute(
        select(
            OutboxEntry.state,
            OutboxEntry.table_name,
            func.count(),
            func.min(OutboxEntry.created_at),
        ).group_by(OutboxEntry.state, OutboxEntry.table_name)
    ).all()
    pending = [(table, n, oldest) for state, table, n, oldest in rows if state == "pending"]
    pending.sort(key=lambda row: (-row[1], row[0]))
    oldest = [when for _t, _n, when in pending if when is not None]
    return QueueCounts(
        pending=sum(n for _t, n, _o in pending),
        pending_checkins=sum(n for t, n, _o in pending if t == "checkins"),
        dead=sum(n for state, _t, n, _o in rows if state == "dead"),
        oldest_at=min(oldest) if oldest else None,
        by_table=tuple((t, n) for t, n, _o in pending),
    )


def with_clock(
    status: SyncStatus, offset: ClockOffset | None, now: datetime | None = None
) -> SyncStatus:
    """``status`` with the clock offset kept in the replica (``app.store.clock.load_offset``):
    known offline and after a restart, with how sure it is now. A status that measured the skew
    itself keeps its figure."""
    if offset is None:
        return status
    uncertainty = offset.uncertainty_at(now or utcnow())
    if uncertainty is None:
        return status  # too old, or the kiosk's clock was set back since: not to be trusted
    skew = status.clock_skew_seconds
    return replace(
        status,
        clock_skew_seconds=offset.offset_s if skew is None else skew,
        clock_uncertainty_s=uncertainty,
        clock_measured_at=offset.measured_at,
    )


def clock_words(status: SyncStatus, now: datetime | None = None) -> str | None:
    """The kiosk's clock against the server's, and what that means for scan times:
    'Kiosk clock 12.3 s ahead of the server (±0.2 s, measured 3 min ago): scan times are
    also recorded on the server's clock.' None for a device without a sync server."""
    if status.backend is None:
        return None
    skew = status.clock_skew_seconds
    if skew is None:
        return "Clock not measured against the server yet: scans carry this kiosk's time only."
    if abs(skew) < 0.05:
        where = "in step with the server"
    else:
        size = f"{abs(skew):.1f} s" if abs(skew) < 90 else _minutes(skew)
        where = f"{size} {'ahead of' if skew > 0 else 'behind'} the server"
    sure = []
    if status.clock_uncertainty_s is not None:
        sure.append(f"±{status.clock_uncertainty_s:.1f} s")
    if status.clock_measured_at is not None:
        sure.append(f"measured {ago(status.clock_measured_at, now or utcnow())}")
    how = f" ({', '.join(sure)})" if sure else ""
    return f"Kiosk clock {where}{how}: scan times are also recorded on the server's clock."


def with_queue(status: SyncStatus, queue: QueueCounts) -> SyncStatus:
    """``status`` (connection facts from the last sync round) with the queue as it is now."""
    return replace(
        status,
        pending=queue.pending,
        pending_checkins=queue.pending_checkins,
        dead=queue.dead,
        oldest_pending_at=queue.oldest_at,
    )


BRIDGE_NAMES = {
    "ai_event_management": "AI event management",
    "fashionistas": "Fashionistas",
    "fashionos_expansion": "FashionOS expansion (registrations, models, call times)",
    "event_checkins": "event check-ins",
    "attendee_flags": "attendees' checked-in flag",
}


def server_words(bridges: list[str]) -> str:
    """'Connected to the FashionOS platform's tables: …' or 'Standalone Showdesk server …'."""
    if not bridges:
        return "Standalone Showdesk server (no FashionOS platform tables found)"
    names = ", ".join(BRIDGE_NAMES.get(b, b) for b in bridges)
    return f"Bridged to the FashionOS platform's tables: {names}"
