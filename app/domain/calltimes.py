"""Call-time rules: when someone is due, what state they are in, and which alerts are due.

Pure functions on plain values (no database, no Qt). Times are timezone-aware UTC; ``tz``
arguments say how to put them in words for the people at the event.

A call is either absolute (``call_at``) or an offset in minutes from the event's general call
(``offset_minutes``, e.g. -90 for "Call -90"), so moving the general call moves every offset
call with it. When both are set, the absolute time wins (someone pinned it by hand).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum

DEPARTMENTS: tuple[str, ...] = ("models", "hair", "makeup", "dressers", "crew")
DEPARTMENT_LABELS: dict[str, str] = {
    "models": "Models",
    "hair": "Hair",
    "makeup": "Makeup",
    "dressers": "Dressers",
    "crew": "Crew",
}
_DEPARTMENT_ALIASES: dict[str, str] = {
    "model": "models",
    "talent": "models",
    "hair": "hair",
    "hairstylist": "hair",
    "hairstylists": "hair",
    "make-up": "makeup",
    "make up": "makeup",
    "mua": "makeup",
    "dresser": "dressers",
    "wardrobe": "dressers",
    "production": "crew",
    "staff": "crew",
}

DEFAULT_NO_SHOW_MINUTES = 60
"""Minutes after the call at which someone not arrived counts as a no-show."""


class CallStatus(StrEnum):
    UNSCHEDULED = "unscheduled"
    SCHEDULED = "scheduled"
    CONFIRMED = "confirmed"
    ARRIVED = "arrived"
    LATE = "late"
    NO_SHOW = "no_show"


STATUS_WORDS: dict[CallStatus, str] = {
    CallStatus.UNSCHEDULED: "NO CALL TIME",
    CallStatus.SCHEDULED: "Scheduled",
    CallStatus.CONFIRMED: "Confirmed",
    CallStatus.ARRIVED: "ARRIVED",
    CallStatus.LATE: "LATE",
    CallStatus.NO_SHOW: "NO-SHOW",
}


def department_key(text: str | None) -> str:
    """The canonical department for ``text`` ("Make-up" -> "makeup"); unknown -> "crew"."""
    if not text:
        return "crew"
    key = text.strip().lower()
    if key in DEPARTMENT_LABELS:
        return key
    return _DEPARTMENT_ALIASES.get(key, "crew")


def department_label(text: str | None) -> str:
    return DEPARTMENT_LABELS[department_key(text)]


# --- effective call time --------------------------------------------------------------------


@dataclass(frozen=True)
class EffectiveCall:
    """When someone is due, and how that was worked out."""

    at: datetime | None  # aware UTC; None = unscheduled
    source: str | None  # "absolute", "offset" or None
    message: str | None = None  # why it is unscheduled, in words
    day_before: bool = False  # local date earlier than the event day (general call's date)
    note: str | None = None  # "call is the day before: 23:30 on Fri 20 Nov"

    @property
    def scheduled(self) -> bool:
        return self.at is not None


def _aware_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: times must be timezone-aware")
    return value.astimezone(UTC)


def format_clock(at: datetime, tz: tzinfo) -> str:
    """ "17:30" in the event's timezone."""
    return at.astimezone(tz).strftime("%H:%M")


def format_day(at: datetime, tz: tzinfo) -> str:
    """ "Fri 20 Nov" in the event's timezone."""
    local = at.astimezone(tz)
    return f"{local.strftime('%a')} {local.day} {local.strftime('%b')}"


def effective_call(
    call_at: datetime | None,
    offset_minutes: int | None,
    general_call_at: datetime | None,
    tz: tzinfo = UTC,
) -> EffectiveCall:
    """The moment someone is due: ``call_at``, else general call + ``offset_minutes``.

    Never raises for missing data: an unknown time comes back unscheduled with a message.
    """
    if call_at is not None:
        at = _aware_utc(call_at)
        source = "absolute"
    elif offset_minutes is not None:
        if general_call_at is None:
            return EffectiveCall(
                None,
                None,
                f"Call is {_offset_words(offset_minutes)} the general call, "
                "but no general call is set",
            )
        at = _aware_utc(general_call_at) + timedelta(minutes=offset_minutes)
        source = "offset"
    else:
        return EffectiveCall(None, None, "No call time set")
    day_before = False
    note = None
    if general_call_at is not None:
        event_day = _aware_utc(general_call_at).astimezone(tz).date()
        local = at.astimezone(tz)
        if local.date() < event_day:
            day_before = True
            days = (event_day - local.date()).days
            when = "the day before" if days == 1 else f"{days} days before"
            note = f"call is {when}: {format_clock(at, tz)} on {format_day(at, tz)}"
        elif local.date() > event_day:
            note = f"call is on {format_day(at, tz)}: {format_clock(at, tz)}"
    return EffectiveCall(at, source, None, day_before, note)


def _offset_words(offset_minutes: int) -> str:
    if offset_minutes == 0:
        return "at"
    span = _duration_words(abs(offset_minutes) * 60)
    return f"{span} {'before' if offset_minutes < 0 else 'after'}"


# --- status and countdown -------------------------------------------------------------------


@dataclass(frozen=True)
class StatusInfo:
    status: CallStatus
    words: str  # "LATE", "ARRIVED", ...
    countdown: str  # "in 12 min", "8 min late", "arrived 17:22"; "" when unscheduled


def merge_arrival(existing: datetime | None, new: datetime | None) -> datetime | None:
    """Arrivals: the earliest arrival stands (marking arrived twice keeps the first time)."""
    if existing is None:
        return new
    if new is None:
        return existing
    return min(_aware_utc(existing), _aware_utc(new))


def call_status(
    call: EffectiveCall,
    now: datetime,
    *,
    confirmed_at: datetime | None = None,
    arrived_at: datetime | None = None,
    no_show: bool = False,
    no_show_after_minutes: int | None = DEFAULT_NO_SHOW_MINUTES,
    tz: tzinfo = UTC,
) -> StatusInfo:
    """Where someone stands at ``now``.

    arrived beats everything (an arrival cancels a no-show flag); a no-show flag comes next;
    then, past the call and not arrived: late, or no-show ``no_show_after_minutes`` after
    the call (None: never automatically); before the call: confirmed or scheduled.
    """
    now = _aware_utc(now)
    if arrived_at is not None:
        text = f"arrived {format_clock(arrived_at, tz)}"
        if call.at is not None and arrived_at > call.at + timedelta(seconds=59):
            text += f" ({_duration_words((arrived_at - call.at).total_seconds())} late)"
        return _info(CallStatus.ARRIVED, text)
    if no_show:
        return _info(CallStatus.NO_SHOW, countdown(call.at, now) if call.at else "")
    if call.at is None:
        return _info(CallStatus.UNSCHEDULED, "")
    if now > call.at:
        overdue = now - call.at
        if no_show_after_minutes is not None and overdue >= timedelta(
            minutes=no_show_after_minutes
        ):
            return _info(CallStatus.NO_SHOW, countdown(call.at, now))
        return _info(CallStatus.LATE, countdown(call.at, now))
    status = CallStatus.CONFIRMED if confirmed_at is not None else CallStatus.SCHEDULED
    return _info(status, countdown(call.at, now))


def _info(status: CallStatus, text: str) -> StatusInfo:
    return StatusInfo(status, STATUS_WORDS[status], text)


def _duration_words(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    if hours >= 48:
        return f"{hours // 24} days"
    return f"{hours} h {rest:02d} min" if rest else f"{hours} h"


def countdown(call_at: datetime | None, now: datetime) -> str:
    """ "in 12 min", "due now", "8 min late" (whole minutes; rounds towards the call)."""
    if call_at is None:
        return ""
    delta = (_aware_utc(call_at) - _aware_utc(now)).total_seconds()
    if delta > 0:
        # 11 min 20 s left reads "in 12 min": never promise more time than there is left.
        return f"in {_duration_words(math.ceil(delta / 60) * 60)}"
    late = -delta
    if late < 60:
        return "due now"
    return f"{_duration_words(late)} late"


# --- board helpers --------------------------------------------------------------------------


def sort_key(call: EffectiveCall, name: str) -> tuple:
    """Board order: by call time, unscheduled last, then by name."""
    return (call.at is None, call.at or datetime.max.replace(tzinfo=UTC), name.casefold())


def filter_department(items: Iterable, department: str | None, key=lambda item: item.department):
    """``items`` in ``department`` (None or "all": every item). Departments compare canonically."""
    if department in (None, "", "all"):
        return list(items)
    wanted = department_key(department)
    return [item for item in items if department_key(key(item)) == wanted]


# --- alerts ---------------------------------------------------------------------------------

ALERT_SOON = "soon"
ALERT_DUE = "due"
DUE_ALERT_WINDOW_MINUTES = 15
"""An "at the call" alert still fires this long after the call (app started late, PC slept)."""


@dataclass(frozen=True)
class AlertCandidate:
    """What alerting needs to know about one call time."""

    call_time_id: str
    name: str
    department: str
    call: EffectiveCall
    arrived_at: datetime | None = None
    no_show: bool = False


@dataclass(frozen=True)
class Alert:
    key: tuple[str, str, str]  # (call_time_id, kind, call time): a moved call re-arms
    call_time_id: str
    kind: str  # "soon" or "due"
    name: str
    department: str
    call_at: datetime
    title: str
    message: str


def due_alerts(
    candidates: Iterable[AlertCandidate],
    now: datetime,
    *,
    alert_minutes: int,
    already: set[tuple[str, str, str]] | frozenset = frozenset(),
    tz: tzinfo = UTC,
) -> list[Alert]:
    """Alerts due at ``now`` for people not yet arrived, skipping those in ``already``.

    "soon": from ``alert_minutes`` before the call until the call. "due": from the call until
    DUE_ALERT_WINDOW_MINUTES (or ``alert_minutes`` if longer) after it. Once the call has
    passed, only the "due" alert is given. The caller adds the returned keys to ``already``.
    """
    now = _aware_utc(now)
    window = timedelta(minutes=max(DUE_ALERT_WINDOW_MINUTES, alert_minutes))
    out: list[Alert] = []
    for c in candidates:
        if c.call.at is None or c.arrived_at is not None or c.no_show:
            continue
        at = c.call.at
        if at - timedelta(minutes=alert_minutes) <= now < at and alert_minutes > 0:
            kind = ALERT_SOON
        elif at <= now < at + window:
            kind = ALERT_DUE
        else:
            continue
        key = (c.call_time_id, kind, at.isoformat())
        if key in already:
            continue
        label = department_label(c.department)
        clock = format_clock(at, tz)
        if kind == ALERT_SOON:
            title = f"Call {countdown(at, now)}"
        else:
            title = "Call now" if now - at < timedelta(minutes=1) else f"Call {countdown(at, now)}"
        message = f"{c.name} ({label}) is due at {clock} — not arrived"
        out.append(Alert(key, c.call_time_id, kind, c.name, c.department, at, title, message))
    out.sort(key=lambda a: (a.call_at, a.name))
    return out


# --- typed input ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CallInput:
    call_at: datetime | None  # absolute (aware UTC)
    offset_minutes: int | None  # from the general call


def parse_clock_on_day(text: str, day_anchor: datetime | None, tz: tzinfo) -> datetime:
    """ "17:30" (or "17.30", "1730", "9:05") on the event's day, in the event's timezone."""
    raw = text.strip().replace(".", ":").replace("h", ":")
    if ":" in raw:
        hours, _, minutes = raw.partition(":")
    elif raw.isdigit() and len(raw) in (3, 4):
        hours, minutes = raw[:-2], raw[-2:]
    elif raw.isdigit() and len(raw) <= 2:
        hours, minutes = raw, "0"
    else:
        raise ValueError(f"'{text}' is not a time. Type it like 17:30.")
    if not (hours.strip().isdigit() and (minutes.strip() or "0").isdigit()):
        raise ValueError(f"'{text}' is not a time. Type it like 17:30.")
    h, m = int(hours), int(minutes or 0)
    if not (0 <= h <= 23 and 0 <= m <= 59):
        raise ValueError(f"'{text}' is not a time of day. Type it like 17:30.")
    if day_anchor is None:
        raise ValueError("The event has no date yet, so a clock time cannot be placed.")
    day = _aware_utc(day_anchor).astimezone(tz).date()
    local = datetime(day.year, day.month, day.day, h, m, tzinfo=tz)
    return local.astimezone(UTC)


def parse_call_input(text: str, day_anchor: datetime | None, tz: tzinfo) -> CallInput:
    """What a producer typed for a call: "17:30" (absolute on the event day), "-90" or
    "GC-90" (minutes from the general call), or nothing (no call time yet)."""
    raw = text.strip().upper().replace(" ", "").replace("−", "-")
    if not raw:
        return CallInput(None, None)
    if raw.startswith("GC"):
        raw = raw[2:] or "0"
        if raw[0] not in "+-":
            raw = "+" + raw
    if raw[0] in "+-":
        body = raw[1:]
        if not body.isdigit():
            raise ValueError(
                f"'{text}' is not an offset. Type minutes from the general call, like -90."
            )
        minutes = int(body)
        if minutes > 48 * 60:
            raise ValueError("An offset over two days from the general call is surely a typo.")
        return CallInput(None, -minutes if raw[0] == "-" else minutes)
    return CallInput(parse_clock_on_day(text, day_anchor, tz), None)
