"""What the Sync tab shows: the queue, dead letters, conflicts, double entries; retry/discard."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.orm import Session

from app.store.models import (
    MODEL_BY_TABLE,
    Attendee,
    Checkin,
    Device,
    OutboxEntry,
    SyncConflict,
    Ticket,
)
from app.store.types import utcnow


@dataclass(frozen=True)
class QueueInfo:
    pending: int
    oldest_at: datetime | None
    by_table: list[tuple[str, int]]


@dataclass(frozen=True)
class DeadLetter:
    seq: int
    mutation_id: str
    table_name: str
    row_id: str
    op: str
    reason: str
    created_at: datetime
    attempts: int
    what: str  # "check-in of ticket T00012", "update of a look"


@dataclass(frozen=True)
class ConflictItem:
    id: str
    table_name: str
    row_id: str
    detected_at: datetime
    differences: list[tuple[str, object, object]]  # (column, local value, server value)


@dataclass(frozen=True)
class Admission:
    checkin_id: str
    gate: str
    device: str
    scanned_at: datetime  # the scanning kiosk's own clock
    corrected_at: datetime | None = None  # on the server's clock; None: offset unknown
    uncertainty_s: float | None = None
    device_id: str | None = None

    @property
    def order_at(self) -> datetime:
        """The time admissions are ordered by (the server's rule): corrected where known."""
        return self.corrected_at if self.corrected_at is not None else self.scanned_at

    def words(self, when: Callable[[datetime], str]) -> str:
        """Both times and the place, e.g. '19:02:11 server time (kiosk clock 19:12:11, ±0.3 s)
        at North (Kiosk A)'; ``when`` formats a time for the reader."""
        place = f"at {self.gate} ({self.device})"
        if self.corrected_at is None or self.uncertainty_s is None:
            return f"{when(self.scanned_at)} kiosk clock, offset to the server unknown, {place}"
        return (
            f"{when(self.corrected_at)} server time (kiosk clock {when(self.scanned_at)}, "
            f"±{_seconds(self.uncertainty_s)}) {place}"
        )


@dataclass(frozen=True)
class DoubleEntry:
    ticket_id: str
    ticket_number: str | None
    attendee: str | None
    first: Admission
    second: Admission

    @property
    def order_uncertain(self) -> str | None:
        """Why it is not certain which admission came first, in words; None when it is."""
        first, second = self.first, self.second
        if first.corrected_at is None or second.corrected_at is None:
            unknown = [a.device for a in (first, second) if a.corrected_at is None]
            if len(unknown) == 1:
                return f"Order uncertain: the clock offset of {unknown[0]} was not known"
            if first.device_id is not None and first.device_id == second.device_id:
                return None  # one kiosk's clock against itself: its order holds
            return "Order uncertain: neither kiosk's clock offset to the server was known"
        gap = abs((second.corrected_at - first.corrected_at).total_seconds())
        margin = (first.uncertainty_s or 0.0) + (second.uncertainty_s or 0.0)
        if gap < margin:
            return (
                f"Order uncertain: {_seconds(gap)} apart, within the clocks' uncertainty "
                f"(±{_seconds(margin)})"
            )
        return None


def _seconds(value: float) -> str:
    return f"{value:.1f} s" if value < 10 else f"{value:.0f} s"


def queue_info(session: Session) -> QueueInfo:
    pending = OutboxEntry.state == "pending"
    count = session.scalar(select(func.count()).where(pending)) or 0
    oldest = session.scalar(select(func.min(OutboxEntry.created_at)).where(pending))
    by_table = session.execute(
        select(OutboxEntry.table_name, func.count())
        .where(pending)
        .group_by(OutboxEntry.table_name)
        .order_by(func.count().desc())
    ).all()
    return QueueInfo(count, oldest, [(t, n) for t, n in by_table])


_WORDS = {
    "checkins": "check-in",
    "call_times": "call time",
    "runway_appearances": "lineup entry",
    "people": "person",
    "attendees": "guest",
    "tickets": "ticket",
}


def dead_letters(session: Session) -> list[DeadLetter]:
    entries = session.scalars(
        select(OutboxEntry).where(OutboxEntry.state == "dead").order_by(OutboxEntry.seq)
    ).all()
    out = []
    for e in entries:
        noun = _WORDS.get(e.table_name, e.table_name.replace("_", " ").rstrip("s"))
        what = f"{e.op} of a {noun}"
        if e.table_name == "checkins" and e.payload.get("ticket_id"):
            number = session.scalar(
                select(Ticket.ticket_number).where(Ticket.id == e.payload["ticket_id"])
            )
            what = f"check-in of ticket {number or e.payload['ticket_id'][:8]}"
        out.append(
            DeadLetter(
                e.seq,
                e.mutation_id,
                e.table_name,
                e.row_id,
                e.op,
                e.last_error or "Refused by the server.",
                e.created_at,
                e.attempts,
                what,
            )
        )
    return out


def retry_dead(session: Session, seqs: list[int]) -> int:
    """Put dead letters back in the queue (after the cause was fixed on the server)."""
    # An UPDATE answers with a cursor result (it has the row count); Session.execute is typed
    # with the general Result.
    result = cast(
        "CursorResult[Any]",
        session.execute(
            update(OutboxEntry)
            .where(
                OutboxEntry.seq.in_(seqs),
                OutboxEntry.state == "dead",
            )
            .values(state="pending", attempts=0, last_error=None, result=None)
        ),
    )
    return result.rowcount or 0


def discard_dead(session: Session, seqs: list[int]) -> int:
    """Give up on dead letters. A row born here that the server never accepted goes too, so
    the replica does not keep something the server will never have."""
    entries = session.scalars(
        select(OutboxEntry).where(OutboxEntry.seq.in_(seqs), OutboxEntry.state == "dead")
    ).all()
    for e in entries:
        model = MODEL_BY_TABLE.get(e.table_name)
        if model is not None and e.op == "insert":
            others = (
                session.scalar(
                    select(func.count()).where(
                        OutboxEntry.row_id == e.row_id, OutboxEntry.seq != e.seq
                    )
                )
                or 0
            )
            table = model.__table__
            if not others:
                session.execute(
                    delete(table).where(table.c.id == e.row_id, table.c.server_version.is_(None))
                )
        session.delete(e)
    return len(entries)


def conflicts(session: Session, include_dismissed: bool = False) -> list[ConflictItem]:
    query = select(SyncConflict).order_by(SyncConflict.detected_at.desc())
    if not include_dismissed:
        query = query.where(SyncConflict.dismissed_at.is_(None))
    out = []
    for c in session.scalars(query):
        server = c.server_payload or {}
        diffs = [
            (k, v, server.get(k) if c.server_payload is not None else "(deleted)")
            for k, v in sorted(c.local_payload.items())
            if k not in ("id", "updated_at") and server.get(k) != v
        ]
        out.append(ConflictItem(c.id, c.table_name, c.row_id, c.detected_at, diffs))
    return out


def dismiss_conflict(session: Session, conflict_id: str) -> None:
    session.execute(
        update(SyncConflict).where(SyncConflict.id == conflict_id).values(dismissed_at=utcnow())
    )


def double_entries(session: Session, event_id: str) -> list[DoubleEntry]:
    """Tickets admitted twice (flagged by the server): the first admission stands, the other
    is listed beside it. First on the server's clock (each kiosk's time corrected by its measured
    offset), falling back to a kiosk's own clock where its offset was unknown — as the server
    decides; ``DoubleEntry.order_uncertain`` says when that order cannot be trusted."""
    flagged = select(Checkin.ticket_id).where(
        Checkin.event_id == event_id, Checkin.double_entry.is_(True)
    )
    annulled = select(Checkin.annuls_checkin_id).where(
        Checkin.event_id == event_id,
        Checkin.kind == "annul",
        Checkin.annuls_checkin_id.is_not(None),
    )
    rows = session.scalars(
        select(Checkin)
        .where(
            Checkin.event_id == event_id,
            Checkin.ticket_id.in_(flagged),
            Checkin.verdict == "admitted",
            Checkin.kind == "scan",
            Checkin.direction == "in",
            Checkin.id.not_in(annulled),
        )
        .order_by(Checkin.ticket_id, Checkin.scanned_at, Checkin.id)
    ).all()
    device_names = dict(session.execute(select(Device.id, Device.name)).all())
    by_ticket: dict[str, list[Checkin]] = {}
    for row in rows:
        if row.ticket_id is not None:  # always: the query asks for flagged tickets
            by_ticket.setdefault(row.ticket_id, []).append(row)
    out = []
    for ticket_id, scans in by_ticket.items():
        if len(scans) < 2:
            continue
        scans.sort(key=lambda c: (c.corrected_at or c.scanned_at, c.scanned_at, c.id))
        ticket = session.get(Ticket, ticket_id)
        attendee = (
            session.get(Attendee, ticket.attendee_id) if ticket and ticket.attendee_id else None
        )

        def admission(c: Checkin) -> Admission:
            return Admission(
                c.id,
                c.gate,
                device_names.get(c.device_id, c.device_id[:8]),
                c.scanned_at,
                c.corrected_at,
                c.corrected_uncertainty_s,
                c.device_id,
            )

        for later in scans[1:]:
            if not later.double_entry:
                continue  # a re-entry after an exit, not a double entry
            out.append(
                DoubleEntry(
                    ticket_id,
                    ticket.ticket_number if ticket else None,
                    attendee.full_name if attendee else None,
                    admission(scans[0]),
                    admission(later),
                )
            )
    return out
