"""The call-time board in the replica: load it, mark arrivals (by hand or badge), edit calls.

Every change is one local transaction that also queues the change in the outbox, limited to
the columns that changed so edits made on other devices to other columns merge.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import calltimes as rules
from app.domain.text import sanitize
from app.store import outbox
from app.store.models import CallTime, Event, Person, Venue


class CallTimeProblem(Exception):
    """A call-time edit that cannot be made. ``str()`` is a sentence for the producer."""


@dataclass(frozen=True)
class BoardRow:
    call_time_id: str
    person_id: str
    name: str
    department: str  # canonical: models, hair, makeup, dressers, crew
    role: str
    phone: str | None
    email: str | None
    agency: str | None
    badge_code: str | None
    location: str | None
    notes: str | None
    call_at: datetime | None  # as stored (absolute), may be None
    offset_minutes: int | None
    call: rules.EffectiveCall
    confirmed_at: datetime | None
    arrived_at: datetime | None
    no_show: bool

    def status(
        self, now: datetime, no_show_after_minutes: int | None, tz: tzinfo
    ) -> rules.StatusInfo:
        return rules.call_status(
            self.call,
            now,
            confirmed_at=self.confirmed_at,
            arrived_at=self.arrived_at,
            no_show=self.no_show,
            no_show_after_minutes=no_show_after_minutes,
            tz=tz,
        )

    def alert_candidate(self) -> rules.AlertCandidate:
        return rules.AlertCandidate(
            self.call_time_id, self.name, self.department, self.call, self.arrived_at, self.no_show
        )


@dataclass(frozen=True)
class Board:
    event_id: str
    event_name: str
    timezone: str
    general_call_at: datetime | None
    venue_name: str | None
    rows: tuple[BoardRow, ...]
    starts_at: datetime | None = None

    @property
    def event_day_anchor(self) -> datetime | None:
        """A moment on the event's day: the general call, else the event's start."""
        return self.general_call_at or self.starts_at

    @property
    def tz(self) -> tzinfo:
        return event_tz(self.timezone)


def event_tz(name: str | None) -> tzinfo:
    """The event's timezone; UTC when the name is missing or unknown (never crashes)."""
    try:
        return ZoneInfo(name) if name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _event(session: Session, event_id: str) -> Event:
    event = session.get(Event, event_id)
    if event is None:
        raise CallTimeProblem("This event is not on this device yet. Sync, then try again.")
    return event


def load_board(session: Session, event_id: str) -> Board:
    """Everyone with a call time for the event, sorted by call (unscheduled last)."""
    event = _event(session, event_id)
    tz = event_tz(event.timezone)
    venue = session.get(Venue, event.venue_id) if event.venue_id else None
    pairs = session.execute(
        select(CallTime, Person)
        .join(Person, Person.id == CallTime.person_id)
        .where(CallTime.event_id == event_id)
    ).all()
    rows = [_board_row(ct, person, event.general_call_at, tz) for ct, person in pairs]
    rows.sort(key=lambda r: rules.sort_key(r.call, r.name))
    return Board(
        event_id=event.id,
        event_name=event.name,
        timezone=event.timezone or "UTC",
        general_call_at=event.general_call_at,
        venue_name=venue.name if venue else None,
        rows=tuple(rows),
        starts_at=event.starts_at,
    )


def _board_row(ct: CallTime, person: Person, general_call_at, tz: tzinfo) -> BoardRow:
    return BoardRow(
        call_time_id=ct.id,
        person_id=person.id,
        name=person.full_name,
        department=rules.department_key(person.department),
        role=person.role or "",
        phone=person.phone,
        email=person.email,
        agency=person.agency,
        badge_code=person.badge_code,
        location=ct.location,
        notes=ct.notes,
        call_at=ct.call_at,
        offset_minutes=ct.offset_minutes,
        call=rules.effective_call(ct.call_at, ct.offset_minutes, general_call_at, tz),
        confirmed_at=ct.confirmed_at,
        arrived_at=ct.arrived_at,
        no_show=bool(ct.no_show),
    )


# --- arrivals -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArrivalResult:
    ok: bool
    message: str  # one plain sentence for the screen
    call_time_id: str | None = None
    person_name: str | None = None
    arrived_at: datetime | None = None  # the time that stands (the earliest)
    already: bool = False  # was already marked arrived before this


def mark_arrived(
    session: Session, call_time_id: str, at: datetime, staff_id: str | None = None
) -> ArrivalResult:
    """Mark one call time arrived at ``at``; an earlier arrival already recorded stands.
    ``staff_id``: who is signed in (recorded with the arrival when it is the one that stands)."""
    ct = session.get(CallTime, call_time_id)
    if ct is None:
        return ArrivalResult(False, "That call time is no longer on this device.")
    return _arrive(session, ct, at, staff_id)


def mark_arrived_by_person(
    session: Session, event_id: str, person_id: str, at: datetime, staff_id: str | None = None
) -> ArrivalResult:
    ct = _person_call(session, event_id, person_id)
    if ct is None:
        person = session.get(Person, person_id)
        who = person.full_name if person else "This person"
        return ArrivalResult(False, f"{who} has no call time for this event.", person_name=who)
    return _arrive(session, ct, at, staff_id)


def arrive_by_badge(
    session: Session, event_id: str, code: str, at: datetime, staff_id: str | None = None
) -> ArrivalResult:
    """Mark arrived the person whose badge reads ``code`` (a scanned or typed text)."""
    text = (code or "").strip()
    if not text:
        return ArrivalResult(False, "The badge could not be read. Try again, or tap the name.")
    person = session.scalars(select(Person).where(Person.badge_code == text)).first()
    if person is None:
        shown = sanitize(text, 24)
        return ArrivalResult(
            False,
            f"Unknown badge ({shown}): no one on the call sheet has this badge. "
            "Check the name on the board and tap Mark arrived.",
        )
    if person.event_id != event_id:
        return ArrivalResult(
            False,
            f"{person.full_name}'s badge is for another event.",
            person_name=person.full_name,
        )
    return mark_arrived_by_person(session, event_id, person.id, at, staff_id)


def _person_call(session: Session, event_id: str, person_id: str) -> CallTime | None:
    calls = list(
        session.scalars(
            select(CallTime).where(CallTime.event_id == event_id, CallTime.person_id == person_id)
        )
    )
    if not calls:
        return None
    # Someone with several calls: the first one not yet arrived, else the first.
    event = session.get(Event, event_id)
    general = event.general_call_at if event else None

    def when(ct: CallTime) -> datetime:
        at = rules.effective_call(ct.call_at, ct.offset_minutes, general).at
        return at or datetime.max.replace(tzinfo=UTC)

    calls.sort(key=when)
    waiting = [ct for ct in calls if ct.arrived_at is None]
    return (waiting or calls)[0]


def _arrive(
    session: Session, ct: CallTime, at: datetime, staff_id: str | None = None
) -> ArrivalResult:
    person = session.get(Person, ct.person_id)
    name = person.full_name if person else "Someone"
    event = session.get(Event, ct.event_id)
    tz = event_tz(event.timezone if event is not None else None)
    earliest = rules.merge_arrival(ct.arrived_at, at) or at  # never None: ``at`` is a time
    already = ct.arrived_at is not None
    changed: list[str] = []
    if earliest != ct.arrived_at:
        ct.arrived_at = earliest
        changed.append("arrived_at")
        # this arrival stands: so does who recorded it (the server merges it the same way)
        if staff_id is not None or ct.arrived_by_staff_id is not None:
            ct.arrived_by_staff_id = staff_id
            changed.append("arrived_by_staff_id")
    if ct.no_show:
        ct.no_show = False
        changed.append("no_show")
    if changed:
        outbox.record(session, ct, "update", fields=changed)
    clock = rules.format_clock(earliest, tz)
    if already:
        message = f"{name} was already marked arrived at {clock}."
    else:
        message = f"{name} arrived at {clock}."
    return ArrivalResult(True, message, ct.id, name, earliest, already)


# --- edits ----------------------------------------------------------------------------------


def _call(session: Session, call_time_id: str) -> CallTime:
    ct = session.get(CallTime, call_time_id)
    if ct is None:
        raise CallTimeProblem("That call time is no longer on this device.")
    return ct


def mark_confirmed(session: Session, call_time_id: str, at: datetime) -> None:
    """Record that the person confirmed their call (the first confirmation stands)."""
    ct = _call(session, call_time_id)
    if ct.confirmed_at is None:
        ct.confirmed_at = at
        outbox.record(session, ct, "update", fields=["confirmed_at"])


def set_no_show(session: Session, call_time_id: str, flag: bool) -> None:
    ct = _call(session, call_time_id)
    if bool(ct.no_show) != flag:
        ct.no_show = flag
        outbox.record(session, ct, "update", fields=["no_show"])


def clear_arrival(session: Session, call_time_id: str) -> None:
    """Undo a mistaken arrival (a wrong tap)."""
    ct = _call(session, call_time_id)
    if ct.arrived_at is not None:
        ct.arrived_at = None
        fields = ["arrived_at"]
        if ct.arrived_by_staff_id is not None:
            ct.arrived_by_staff_id = None
            fields.append("arrived_by_staff_id")
        outbox.record(session, ct, "update", fields=fields)


def set_general_call(session: Session, event_id: str, at: datetime | None) -> None:
    """Move the general call; every offset call moves with it."""
    event = _event(session, event_id)
    if event.general_call_at != at:
        event.general_call_at = at
        outbox.record(session, event, "update", fields=["general_call_at"])


_UNSET = object()


def edit_call(
    session: Session,
    call_time_id: str,
    *,
    call_at: datetime | None | object = _UNSET,
    offset_minutes: int | None | object = _UNSET,
    location: str | None | object = _UNSET,
    notes: str | None | object = _UNSET,
) -> list[str]:
    """Change a call: an absolute time clears the offset and vice versa. Returns changed columns."""
    ct = _call(session, call_time_id)
    wanted: dict[str, object] = {}
    if call_at is not _UNSET:
        wanted["call_at"] = call_at
        if call_at is not None and offset_minutes is _UNSET:
            wanted["offset_minutes"] = None
    if offset_minutes is not _UNSET:
        if offset_minutes is not None and not isinstance(offset_minutes, int):
            raise CallTimeProblem("The offset must be a whole number of minutes, like -90.")
        wanted["offset_minutes"] = offset_minutes
        if offset_minutes is not None and call_at is _UNSET:
            wanted["call_at"] = None
    if location is not _UNSET:
        wanted["location"] = location
    if notes is not _UNSET:
        wanted["notes"] = notes
    changed = [name for name, value in wanted.items() if getattr(ct, name) != value]
    for name in changed:
        setattr(ct, name, wanted[name])
    if changed:
        outbox.record(session, ct, "update", fields=changed)
    return changed
