"""Who did what: the audit trail the organizer filters and exports.

Every scan and annulment a kiosk logs carries the staff member signed in at it
(``checkins.staff_id``, see ``app.store.staff``); a call time carries who recorded the arrival
that stands (``call_times.arrived_by_staff_id``) and a lineup row who made its last edit
(``runway_appearances.edited_by_staff_id``). Rows from other kiosks arrive with the pull.

``audit_log`` reads them back with the staff member's name and role and, for check-ins, the
gate and device, filtered by staff member (``NO_STAFF``: what was done with no one signed
in), kind and time; ``audit_staff`` lists who may appear in an event's trail (the filter's
choices); ``write_audit_csv`` writes them for a spreadsheet (a cell a spreadsheet would run as
a formula is quoted with a leading ').

Check-ins are a full history (an append-only log). Arrivals and lineup edits are what the rows
say now: one arrival per call time (the earliest), and for each look only its last edit (at
the row's ``updated_at``), only when someone was signed in for it. Run on the DB worker.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.store.models import (
    CallTime,
    Checkin,
    Device,
    Event,
    Look,
    Person,
    RunwayAppearance,
    RunwaySegment,
    RunwayShow,
    Staff,
)

KINDS = ("scan", "annul", "arrival", "lineup")
NO_STAFF = "(no one signed in)"
UNKNOWN_STAFF = "(unknown staff)"

AUDIT_COLUMNS = [
    "Time (UTC)",
    "Staff",
    "Role",
    "What",
    "Ticket / person / lineup row",
    "Gate",
    "Device",
    "Reason",
    "Check-in id",
]


@dataclass(frozen=True)
class AuditRow:
    at: datetime
    staff_id: str | None
    staff_name: str  # NO_STAFF, or UNKNOWN_STAFF when the row is not (yet) in the replica
    role: str | None
    kind: str  # scan / annul / arrival / lineup
    what: str  # "check-in: admitted", "exit: exit_recorded", "annulment", "arrival: <name>"…
    subject_id: str | None  # the ticket (check-ins), person (arrivals), lineup row (edits)
    gate: str | None
    device_name: str | None
    reason: str | None
    checkin_id: str | None


@dataclass(frozen=True)
class StaffMember:
    """A staff member who may appear in an event's trail (no ORM object: safe on any thread)."""

    id: str
    name: str
    role: str
    disabled: bool

    @property
    def label(self) -> str:
        return f"{self.name} ({self.role})"


def audit_staff(session: Session, event_id: str) -> list[StaffMember]:
    """The event's organization's staff who work this event or every event, by name;
    disabled members too (their past actions stay in the trail)."""
    event = session.get(Event, event_id)
    if event is None:
        return []
    query = (
        select(Staff)
        .where(
            Staff.organization_id == event.organization_id,
            (Staff.event_id == event_id) | Staff.event_id.is_(None),
        )
        .order_by(Staff.name, Staff.id)
    )
    return [
        StaffMember(s.id, s.name, s.role, s.disabled_at is not None) for s in session.scalars(query)
    ]


def _what(row: Checkin) -> str:
    if row.kind == "annul":
        return "annulment"
    word = "exit" if row.direction == "out" else "check-in"
    return f"{word}: {row.verdict}"


def _shown(staff_id: str | None, name: str | None) -> str:
    if staff_id is None:
        return NO_STAFF
    return name or UNKNOWN_STAFF


def audit_log(
    session: Session,
    event_id: str,
    staff_id: str | None = None,
    kind: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[AuditRow]:
    """The event's audit rows, oldest first, with who did them.

    ``staff_id``: only that member's (``NO_STAFF``: only those done with no one signed in);
    ``kind``: one of ``KINDS``; ``since`` / ``until``: times from ``since`` (inclusive) to
    ``until`` (exclusive).
    """
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind is one of {', '.join(KINDS)}, not {kind!r}")
    rows: list[AuditRow] = []
    if kind in (None, "scan", "annul"):
        rows += _checkin_rows(session, event_id, staff_id, kind, since, until)
    if kind in (None, "arrival"):
        rows += _arrival_rows(session, event_id, staff_id, since, until)
    if kind in (None, "lineup"):
        rows += _lineup_rows(session, event_id, staff_id, since, until)
    rows.sort(key=lambda r: (r.at, r.kind, r.checkin_id or r.subject_id or ""))
    return rows


def _filtered(query, staff_column, at_column, staff_id, since, until):
    """``query`` narrowed to one staff member (or to no one: ``NO_STAFF``) and a time window
    (each only when given)."""
    if staff_id == NO_STAFF:
        query = query.where(staff_column.is_(None))
    elif staff_id is not None:
        query = query.where(staff_column == staff_id)
    if since is not None:
        query = query.where(at_column >= since)
    if until is not None:
        query = query.where(at_column < until)
    return query


def _checkin_rows(session, event_id, staff_id, kind, since, until) -> list[AuditRow]:
    query = (
        select(Checkin, Staff.name, Staff.role, Device.name)
        .outerjoin(Staff, Staff.id == Checkin.staff_id)
        .outerjoin(Device, Device.id == Checkin.device_id)
        .where(Checkin.event_id == event_id)
    )
    query = _filtered(query, Checkin.staff_id, Checkin.scanned_at, staff_id, since, until)
    if kind is not None:
        query = query.where(Checkin.kind == kind)
    return [
        AuditRow(
            at=checkin.scanned_at,
            staff_id=checkin.staff_id,
            staff_name=_shown(checkin.staff_id, name),
            role=role,
            kind=checkin.kind,
            what=_what(checkin),
            subject_id=checkin.ticket_id,
            gate=checkin.gate,
            device_name=device_name,
            reason=checkin.reason,
            checkin_id=checkin.id,
        )
        for checkin, name, role, device_name in session.execute(query)
    ]


def _arrival_rows(session, event_id, staff_id, since, until) -> list[AuditRow]:
    query = (
        select(CallTime, Person.full_name, Staff.name, Staff.role)
        .join(Person, Person.id == CallTime.person_id)
        .outerjoin(Staff, Staff.id == CallTime.arrived_by_staff_id)
        .where(CallTime.event_id == event_id, CallTime.arrived_at.is_not(None))
    )
    query = _filtered(
        query, CallTime.arrived_by_staff_id, CallTime.arrived_at, staff_id, since, until
    )
    out = []
    for ct, person_name, name, role in session.execute(query):
        assert ct.arrived_at is not None
        out.append(
            AuditRow(
                at=ct.arrived_at,
                staff_id=ct.arrived_by_staff_id,
                staff_name=_shown(ct.arrived_by_staff_id, name),
                role=role,
                kind="arrival",
                what=f"arrival: {person_name}",
                subject_id=ct.person_id,
                gate=None,
                device_name=None,
                reason=None,
                checkin_id=None,
            )
        )
    return out


def _lineup_rows(session, event_id, staff_id, since, until) -> list[AuditRow]:
    query = (
        select(RunwayAppearance, Look.title, RunwayShow.name, Staff.name, Staff.role)
        .join(RunwaySegment, RunwaySegment.id == RunwayAppearance.segment_id)
        .join(RunwayShow, RunwayShow.id == RunwaySegment.show_id)
        .outerjoin(Look, Look.id == RunwayAppearance.look_id)
        .outerjoin(Staff, Staff.id == RunwayAppearance.edited_by_staff_id)
        .where(RunwayShow.event_id == event_id, RunwayAppearance.edited_by_staff_id.is_not(None))
    )
    query = _filtered(
        query,
        RunwayAppearance.edited_by_staff_id,
        RunwayAppearance.updated_at,
        staff_id,
        since,
        until,
    )
    return [
        AuditRow(
            at=row.updated_at,
            staff_id=row.edited_by_staff_id,
            staff_name=_shown(row.edited_by_staff_id, name),
            role=role,
            kind="lineup",
            what=f"lineup edit: {title or 'a look'} ({show}, now {row.status})",
            subject_id=row.id,
            gate=None,
            device_name=None,
            reason=None,
            checkin_id=None,
        )
        for row, title, show, name, role in session.execute(query)
    ]


def _cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    if text and text[0] in "=+-@\t\r":
        return "'" + text
    return text


def audit_csv_rows(rows: list[AuditRow]) -> list[list[str]]:
    return [
        [
            _cell(r.at.strftime("%Y-%m-%d %H:%M:%S")),
            _cell(r.staff_name),
            _cell(r.role),
            _cell(r.what),
            _cell(r.subject_id),
            _cell(r.gate),
            _cell(r.device_name),
            _cell(r.reason),
            _cell(r.checkin_id),
        ]
        for r in rows
    ]


def write_audit_csv(rows: list[AuditRow], path: str | Path) -> Path:
    """Write ``rows`` (from ``audit_log``) as CSV (UTF-8 with BOM, for spreadsheets).
    Raises ``OSError`` with the system's reason when the file cannot be written."""
    path = Path(path)
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(AUDIT_COLUMNS)
        writer.writerows(audit_csv_rows(rows))
    return path
