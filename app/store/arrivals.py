"""What the organizer's view shows, read from the replica (offline): arrivals per 5 minutes by
tier or ticket type against the expected total, entries and exits with the people inside,
per-gate throughput, and double entries.

The counting rules are the door's (``checkin_service.event_counters``), so the two screens
never disagree: an arrival is a ticket's first admission that was not undone; a ticket is
inside when its latest movement (admission or exit, undone ones left out) is an admission;
the expected are the valid and transferred tickets. A double entry is an admission of a ticket
that was already inside (two kiosks admitting it offline), or one the server flagged as such.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.verdicts import OK_VERDICTS, Verdict
from app.store.db import Database
from app.store.models import Attendee, Checkin, Device, Event, Ticket, TicketType

BUCKET_MINUTES = 5
MAX_BUCKETS = 288  # a day of 5-minute buckets: the charts show the latest day of a long event
TIER_ORDER = ("general", "premium", "vip", "press", "comp", "staff")
TIER_LABELS = {"vip": "VIP"}
# For ticket types or tiers without a colour of their own (colour-blind-safe, Okabe–Ito).
FALLBACK_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
GROUPINGS = ("tier", "ticket_type")
OTHER = "other"


@dataclass(frozen=True)
class GateFigures:
    gate: str
    scans: int  # every scan at this gate, whatever the verdict
    admitted: int
    exits: int
    refused: int  # every verdict but admitted / exit recorded
    already_inside: int  # refused as already admitted: someone tried to come in twice
    double_entries: int  # admitted although already inside (see the module's docstring)
    per_bucket: list[int] = field(default_factory=list)  # scans per bucket of the report

    @property
    def peak_per_minute(self) -> float:
        """Scans per minute in this gate's busiest bucket."""
        return max(self.per_bucket, default=0) / BUCKET_MINUTES


@dataclass(frozen=True)
class Admission:
    gate: str
    device: str
    at: datetime


@dataclass(frozen=True)
class DoubleEntryRow:
    ticket_id: str
    ticket_number: str | None
    guest: str | None
    group: str
    first: Admission
    second: Admission
    flagged: bool  # flagged by the server (sync), not only found in this replica's log


@dataclass(frozen=True)
class OrganizerReport:
    event_id: str
    event_name: str
    timezone: str
    generated_at: datetime
    group_by: str  # "tier" or "ticket_type"
    bucket_minutes: int
    buckets: list[datetime]  # start of each bucket (UTC), oldest first
    groups: list[str]  # tiers or ticket-type names, in display order
    labels: dict[str, str]  # group -> words on screen
    colours: dict[str, str]  # group -> "#RRGGBB"
    arrivals: dict[str, list[int]]  # group -> arrivals per bucket
    arrived: dict[str, int]  # group -> arrived in all (inside the buckets or before them)
    expected: dict[str, int]  # group -> tickets that may enter
    entries: list[int]  # admissions per bucket (re-entries included)
    exits: list[int]  # exits per bucket
    inside: list[int]  # people inside at the end of each bucket
    inside_now: int
    entries_total: int
    exits_total: int
    gates: list[GateFigures]
    double_entries: list[DoubleEntryRow]
    arrived_before: int = 0  # arrivals before the first bucket (events longer than a day)

    @property
    def expected_total(self) -> int:
        return sum(self.expected.values())

    @property
    def arrived_total(self) -> int:
        return sum(self.arrived.values())

    @property
    def already_inside_total(self) -> int:
        return sum(g.already_inside for g in self.gates)

    def arrivals_total(self) -> list[int]:
        """Arrivals per bucket, all groups together."""
        return [sum(col) for col in zip(*self.arrivals.values(), strict=True)] or [
            0 for _ in self.buckets
        ]

    def arrived_so_far(self) -> list[int]:
        """Arrived by the end of each bucket."""
        out, running = [], self.arrived_before
        for n in self.arrivals_total():
            running += n
            out.append(running)
        return out

    def local(self, at: datetime) -> datetime:
        return at.astimezone(_zone(self.timezone))


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def group_label(group: str, group_by: str) -> str:
    if group_by != "tier":
        return group
    return TIER_LABELS.get(group, group.capitalize())


def _tier_rank(tier: str) -> tuple[int, str]:
    return (TIER_ORDER.index(tier) if tier in TIER_ORDER else len(TIER_ORDER), tier)


def _bucket_start(at: datetime, minutes: int) -> datetime:
    size = minutes * 60
    epoch = int(at.timestamp())
    return datetime.fromtimestamp(epoch - epoch % size, UTC)


def organizer_report(
    session: Session,
    event_id: str,
    *,
    group_by: str = "tier",
    now: datetime | None = None,
    bucket_minutes: int = BUCKET_MINUTES,
) -> OrganizerReport:
    """Everything the organizer's charts and exports show, in one pass over the check-in log."""
    if group_by not in GROUPINGS:
        raise ValueError(f"group_by must be one of {GROUPINGS}, not {group_by!r}")
    now = now or datetime.now(UTC)
    event = session.get(Event, event_id)
    types = session.execute(
        select(
            TicketType.id,
            TicketType.name,
            TicketType.tier,
            TicketType.color,
            TicketType.allowed_gates,
        ).where(TicketType.event_id == event_id)
    ).all()
    group_of = {t.id: (t.tier if group_by == "tier" else t.name) for t in types}

    expected: dict[str, int] = {}
    for type_id, count in session.execute(
        select(Ticket.ticket_type_id, func.count())
        .where(Ticket.event_id == event_id, Ticket.status.in_(("valid", "transferred")))
        .group_by(Ticket.ticket_type_id)
    ):
        group = group_of.get(type_id, OTHER)
        expected[group] = expected.get(group, 0) + count

    # Scans are replayed in corrected time (the device clock adjusted by its measured offset
    # from the server), as the server decides first admissions: a kiosk with a fast clock does
    # not move its guests to a later bucket or make another door's admission look second.
    at = func.coalesce(Checkin.corrected_at, Checkin.scanned_at)
    rows = session.execute(
        select(
            Checkin.id,
            Checkin.ticket_id,
            Checkin.device_id,
            Checkin.gate,
            Checkin.verdict,
            Checkin.kind,
            Checkin.annuls_checkin_id,
            at.label("at"),
            Checkin.double_entry,
            Ticket.ticket_type_id,
        )
        .outerjoin(Ticket, Ticket.id == Checkin.ticket_id)
        .where(Checkin.event_id == event_id)
        .order_by(at, Checkin.id)
    ).all()
    annulled = {r.annuls_checkin_id for r in rows if r.kind == "annul" and r.annuls_checkin_id}
    scans = [r for r in rows if r.kind == "scan"]

    # --- the time axis ------------------------------------------------------------------
    buckets: list[datetime] = []
    if scans:
        first = _bucket_start(scans[0].at, bucket_minutes)
        end = scans[-1].at
        if event is not None and event.ends_at is not None:
            end = max(end, min(now, event.ends_at))  # a live event: the axis runs up to now
        last = _bucket_start(end, bucket_minutes)
        step = timedelta(minutes=bucket_minutes)
        count = int((last - first) / step) + 1
        if count > MAX_BUCKETS:
            first, count = last - step * (MAX_BUCKETS - 1), MAX_BUCKETS
        buckets = [first + step * i for i in range(count)]
    index_of = {b: i for i, b in enumerate(buckets)}
    n = len(buckets)

    def bucket(at: datetime) -> int | None:
        return index_of.get(_bucket_start(at, bucket_minutes))

    # --- one replay of the log ----------------------------------------------------------
    arrivals: dict[str, list[int]] = {}
    arrived: dict[str, int] = {}
    arrived_before = 0
    entries, exits, inside = [0] * n, [0] * n, [0] * n
    inside_now: dict[str, Admission] = {}  # ticket -> the admission that let it in
    first_admission: dict[str, Admission] = {}
    gate_counts: dict[str, dict[str, int]] = {}
    gate_buckets: dict[str, list[int]] = {}
    doubles: list[tuple[str, str, Admission, Admission, bool]] = []
    entries_total = exits_total = 0
    cursor = 0  # next bucket whose "inside" is not yet written

    for r in scans:
        b = bucket(r.at)
        while b is not None and cursor < b:
            inside[cursor] = len(inside_now)
            cursor += 1
        counts = gate_counts.setdefault(r.gate, dict.fromkeys(_GATE_KEYS, 0))
        per_bucket = gate_buckets.setdefault(r.gate, [0] * n)
        counts["scans"] += 1
        if b is not None:
            per_bucket[b] += 1
        if r.verdict not in OK_VERDICTS:
            counts["refused"] += 1
            if r.verdict == Verdict.ALREADY_ADMITTED:
                counts["already_inside"] += 1
            continue
        if r.id in annulled or r.ticket_id is None:
            continue
        here = Admission(r.gate, r.device_id, r.at)
        if r.verdict == Verdict.EXIT_RECORDED:
            counts["exits"] += 1
            exits_total += 1
            if b is not None:
                exits[b] += 1
            inside_now.pop(r.ticket_id, None)
            continue
        counts["admitted"] += 1
        entries_total += 1
        if b is not None:
            entries[b] += 1
        group = group_of.get(r.ticket_type_id, OTHER)
        if r.ticket_id not in first_admission:
            first_admission[r.ticket_id] = here
            arrived[group] = arrived.get(group, 0) + 1
            if b is None:
                arrived_before += 1
            else:
                arrivals.setdefault(group, [0] * n)[b] += 1
        elif r.ticket_id in inside_now or r.double_entry:
            earlier = inside_now.get(r.ticket_id, first_admission[r.ticket_id])
            doubles.append((r.ticket_id, group, earlier, here, bool(r.double_entry)))
            counts["double_entries"] += 1
        inside_now.setdefault(r.ticket_id, here)
    while cursor < n:
        inside[cursor] = len(inside_now)
        cursor += 1

    # --- groups, gates, names -----------------------------------------------------------
    groups = _ordered_groups(types, group_by, set(expected) | set(arrived))
    colours = _colours(types, group_by, groups)
    for group in groups:
        arrivals.setdefault(group, [0] * n)
    arrivals = {g: arrivals[g] for g in groups}

    gates = _ordered_gates(session, types, gate_counts)
    gate_rows = [
        GateFigures(
            gate=g,
            per_bucket=gate_buckets.get(g, [0] * n),
            **gate_counts.get(g, dict.fromkeys(_GATE_KEYS, 0)),
        )
        for g in gates
    ]
    return OrganizerReport(
        event_id=event_id,
        event_name=event.name if event is not None else "",
        timezone=(event.timezone if event is not None and event.timezone else "UTC"),
        generated_at=now,
        group_by=group_by,
        bucket_minutes=bucket_minutes,
        buckets=buckets,
        groups=groups,
        labels={g: group_label(g, group_by) for g in groups},
        colours=colours,
        arrivals=arrivals,
        arrived={g: arrived.get(g, 0) for g in groups},
        expected={g: expected.get(g, 0) for g in groups},
        entries=entries,
        exits=exits,
        inside=inside,
        inside_now=len(inside_now),
        entries_total=entries_total,
        exits_total=exits_total,
        gates=gate_rows,
        double_entries=_double_rows(session, doubles),
        arrived_before=arrived_before,
    )


_GATE_KEYS = ("scans", "admitted", "exits", "refused", "already_inside", "double_entries")


def _ordered_groups(types, group_by: str, seen: set[str]) -> list[str]:
    if group_by == "tier":
        return sorted(seen, key=_tier_rank)
    order = [t.name for t in types]
    return sorted(seen, key=lambda g: (order.index(g) if g in order else len(order), g))


def _colours(types, group_by: str, groups: list[str]) -> dict[str, str]:
    own: dict[str, str] = {}
    for t in types:  # a tier takes the colour of its first ticket type
        key = t.tier if group_by == "tier" else t.name
        if t.color and key not in own:
            own[key] = t.color[:7]
    out: dict[str, str] = {}
    spare = iter(FALLBACK_COLOURS * 4)
    for group in groups:
        colour = own.get(group)
        out[group] = colour if colour and colour not in out.values() else next(spare)
    return out


def _ordered_gates(session: Session, types, seen: dict[str, dict[str, int]]) -> list[str]:
    """The event's gates (from the ticket types' gate rules, then the kiosks), then any other
    gate found in the log, so a gate where nobody has come yet still shows."""
    out: list[str] = []
    for t in types:
        out += [g for g in (t.allowed_gates or []) if g not in out]
    for (gate,) in session.execute(select(Device.gate).where(Device.gate.is_not(None))):
        if gate not in out and gate:
            out.append(gate)
    out += sorted(g for g in seen if g not in out)
    return out


def _double_rows(
    session: Session, doubles: list[tuple[str, str, Admission, Admission, bool]]
) -> list[DoubleEntryRow]:
    if not doubles:
        return []
    ids = {d[0] for d in doubles}
    people = {
        tid: (number, " ".join(p for p in (first, last) if p) or None)
        for tid, number, first, last in session.execute(
            select(Ticket.id, Ticket.ticket_number, Attendee.first_name, Attendee.last_name)
            .outerjoin(Attendee, Attendee.id == Ticket.attendee_id)
            .where(Ticket.id.in_(ids))
        )
    }
    names = dict(session.execute(select(Device.id, Device.name)).all())

    def named(a: Admission) -> Admission:
        return Admission(a.gate, names.get(a.device, "another kiosk"), a.at)

    return [
        DoubleEntryRow(
            ticket_id=tid,
            ticket_number=people.get(tid, (None, None))[0],
            guest=people.get(tid, (None, None))[1],
            group=group,
            first=named(first),
            second=named(second),
            flagged=flagged,
        )
        for tid, group, first, second, flagged in doubles
    ]


# --- CSV --------------------------------------------------------------------------------


def report_csv_rows(report: OrganizerReport) -> list[list[str]]:
    """The numbers behind every chart, as sections a spreadsheet shows one under another:
    a title row, a header row, the rows, an empty row."""
    zone = _zone(report.timezone)

    def when(at: datetime) -> str:
        return at.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    def clock(at: datetime) -> str:
        return at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")

    label = "Tier" if report.group_by == "tier" else "Ticket type"
    out: list[list[str]] = [
        ["Event", report.event_name],
        ["Generated", clock(report.generated_at), report.timezone],
        ["Expected", str(report.expected_total)],
        ["Arrived", str(report.arrived_total)],
        ["Inside now", str(report.inside_now)],
        ["Double entries", str(len(report.double_entries))],
        [],
        [f"Arrivals per {report.bucket_minutes} minutes by {label.lower()}"],
        [
            f"Time ({report.timezone})",
            *(report.labels[g] for g in report.groups),
            "Arrivals",
            "Arrived so far",
            "Expected",
            "Entries",
            "Exits",
            "Inside",
        ],
    ]
    totals, so_far = report.arrivals_total(), report.arrived_so_far()
    for i, start in enumerate(report.buckets):
        out.append(
            [
                when(start),
                *(str(report.arrivals[g][i]) for g in report.groups),
                str(totals[i]),
                str(so_far[i]),
                str(report.expected_total),
                str(report.entries[i]),
                str(report.exits[i]),
                str(report.inside[i]),
            ]
        )
    out += [
        [],
        [f"{label}s"],
        [label, "Arrived", "Expected"],
        *(
            [report.labels[g], str(report.arrived[g]), str(report.expected[g])]
            for g in report.groups
        ),
        [],
        ["Gates"],
        [
            "Gate",
            "Scans",
            "Admitted",
            "Exits",
            "Refused",
            "Refused: already inside",
            "Double entries",
            f"Busiest {report.bucket_minutes} minutes (scans per minute)",
        ],
        *(
            [
                g.gate,
                str(g.scans),
                str(g.admitted),
                str(g.exits),
                str(g.refused),
                str(g.already_inside),
                str(g.double_entries),
                f"{g.peak_per_minute:.1f}",
            ]
            for g in report.gates
        ),
        [],
        ["Double entries"],
        [
            "Ticket",
            "Guest",
            label,
            "First admitted",
            "First gate",
            "First kiosk",
            "Admitted again",
            "Gate",
            "Kiosk",
            "Flagged by sync",
        ],
        *(
            [
                d.ticket_number or d.ticket_id,
                d.guest or "",
                report.labels.get(d.group, d.group),
                clock(d.first.at),
                d.first.gate,
                d.first.device,
                clock(d.second.at),
                d.second.gate,
                d.second.device,
                "yes" if d.flagged else "no",
            ]
            for d in report.double_entries
        ),
    ]
    return out


def write_report_csv(report: OrganizerReport, path: str | Path) -> Path:
    """The report as CSV for Excel (UTF-8 with a byte-order mark, so accents survive)."""
    path = Path(path)
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(report_csv_rows(report))
    return path


def load_report(
    db: Database, event_id: str, group_by: str = "tier", clock: Callable[[], datetime] | None = None
) -> OrganizerReport:
    """Build the report in a session of its own (for a worker thread)."""
    with db.session() as session:
        return organizer_report(
            session, event_id, group_by=group_by, now=clock() if clock else None
        )
