"""How sync is doing, in numbers and in words for the people at the door."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.store.types import utcnow

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


def _plural(n: int, one: str, many: str | None = None) -> str:
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
        if self.dead or self.clock_warning:
            return "problem"
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
            return f"{_plural(self.pending_checkins, 'check-in')} waiting to upload"
        return f"{_plural(self.pending, 'change')} waiting to upload"

    def headline(self, now: datetime | None = None) -> str:
        """The main line: connection, queue, age of the last sync."""
        now = now or utcnow()
        if self.backend is None:
            return "This device works offline only — no sync server is set up"
        last = f"last sync {ago(self.last_sync_at, now)}"
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
                f"{_plural(self.dead, 'change was', 'changes were')} refused by the "
                "server — see Sync tab"
            )
        parts.append(self.headline(now))
        return ". ".join(parts)


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
