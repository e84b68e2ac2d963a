"""What the printouts and CSV files hold: lineup sheet, per-model run cards, call sheet.

The ``*_data`` functions read the replica into plain dataclasses (times already put in the
event's timezone); ``app.ui.printing`` lays them out on paper, and the ``export_*_csv``
functions write them as CSV for Excel (UTF-8 with a byte-order mark, so accents survive).
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import calltimes as rules
from app.domain.lineup import Lineup, status_label
from app.store.calltimes_store import event_tz, load_board
from app.store.db import Database
from app.store.models import (
    Event,
    Model,
    RunwayShow,
)


class ExportProblem(Exception):
    """An export that cannot be made. ``str()`` is a sentence for the producer."""


# --- lineup ---------------------------------------------------------------------------------


def load_lineup(db: Database, show_id: str) -> tuple[RunwayShow, Event | None, Lineup]:
    """A show's lineup (walk order, numbers, quick changes) read through app.store.lineup_store."""
    from app.store.lineup_store import LineupProblem
    from app.store.lineup_store import load_lineup as load

    try:
        lineup = load(db, show_id)
    except LineupProblem as exc:
        raise ExportProblem(str(exc)) from exc
    with db.session() as session:
        show = session.get(RunwayShow, show_id)
        event = session.get(Event, show.event_id) if show else None
    if show is None:
        raise ExportProblem("This show is not on this device. Sync, then try again.")
    return show, event, lineup


def _mmss(seconds: int) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"+{minutes:d}:{secs:02d}"


@dataclass(frozen=True)
class LineupLine:
    number: int
    segment: str
    look: str
    designer: str
    model: str
    pin: str  # "Opening", "Closing" or ""
    status: str
    planned: str  # "+2:30" from the show's start
    quick_change: str  # the warning in words, or ""
    notes: str


@dataclass(frozen=True)
class LineupSheet:
    event_name: str
    show_name: str
    starts: str  # "Sat 21 Nov 20:00" or ""
    lines: list[LineupLine]
    quick_change_count: int


def lineup_sheet_data(db: Database, show_id: str) -> LineupSheet:
    show, event, lineup = load_lineup(db, show_id)
    tz = event_tz(event.timezone if event else None)
    quick = lineup.quick_change_by_second()
    offsets = lineup.planned_offsets()
    lines = []
    for i, a in enumerate(lineup.order):
        q = quick.get(a.id)
        lines.append(
            LineupLine(
                number=i + 1,
                segment=lineup.segment_name(a),
                look=a.look_title,
                designer=a.designer or "",
                model=a.model_label,
                pin="Opening" if a.is_opening else ("Closing" if a.is_closing else ""),
                status=status_label(a.status),
                planned=_mmss(offsets[i]),
                quick_change=q.message if q else "",
                notes=a.notes or "",
            )
        )
    starts = ""
    if show.starts_at is not None:
        starts = f"{rules.format_day(show.starts_at, tz)} {rules.format_clock(show.starts_at, tz)}"
    return LineupSheet(event.name if event else "", show.name, starts, lines, len(quick))


@dataclass(frozen=True)
class RunLook:
    number: int
    segment: str
    look: str
    designer: str
    planned: str
    music_cue: str


@dataclass(frozen=True)
class RunChange:
    from_number: int
    to_number: int
    looks_between: int
    seconds: int
    quick: bool

    @property
    def words(self) -> str:
        looks = f"{self.looks_between} look{'s' if self.looks_between != 1 else ''}"
        minutes, secs = divmod(self.seconds, 60)
        gap = f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"
        text = f"Look {self.from_number} → look {self.to_number}: {looks} between, {gap} to change"
        return f"QUICK CHANGE — {text}" if self.quick else text


@dataclass(frozen=True)
class RunCard:
    model_name: str
    agency: str
    phone: str
    show_name: str
    event_name: str
    looks: list[RunLook]
    changes: list[RunChange]


def run_cards_data(db: Database, show_id: str) -> list[RunCard]:
    """One card per model who walks in the show, in order of their first look."""
    show, event, lineup = load_lineup(db, show_id)
    with db.session() as session:
        models = {
            m.id: m for m in session.scalars(select(Model).where(Model.event_id == show.event_id))
        }
    offsets = lineup.planned_offsets()
    quick_pairs = {(q.first_id, q.second_id) for q in lineup.quick_changes()}
    cards = []
    for model_id, run in lineup.model_runs().items():
        model = models.get(model_id)
        looks = []
        for a in run:
            seg = lineup.segment_of(a)
            looks.append(
                RunLook(
                    number=lineup.number_of(a.id),
                    segment=lineup.segment_name(a),
                    look=a.look_title,
                    designer=a.designer or "",
                    planned=_mmss(offsets[lineup.index_of(a.id)]),
                    music_cue=(seg.music_cue or "") if seg else "",
                )
            )
        changes = []
        for first, second in zip(run, run[1:], strict=False):
            i, j = lineup.index_of(first.id), lineup.index_of(second.id)
            changes.append(
                RunChange(
                    from_number=i + 1,
                    to_number=j + 1,
                    looks_between=j - i - 1,
                    seconds=offsets[j] - offsets[i],
                    quick=(first.id, second.id) in quick_pairs,
                )
            )
        cards.append(
            RunCard(
                model_name=run[0].model_label,
                agency=(model.agency or "") if model else "",
                phone=(model.phone or "") if model else "",
                show_name=show.name,
                event_name=event.name if event else "",
                looks=looks,
                changes=changes,
            )
        )
    return cards


# --- call sheet -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CallLine:
    name: str
    department: str  # label: "Models"
    role: str
    call_day: str  # "Sat 21 Nov"
    call_time: str  # "17:30" or "" when unscheduled
    call_note: str  # "call is the day before: ...", the unscheduled message, or the offset
    location: str
    phone: str
    email: str
    status: str  # words at export time: "ARRIVED", "LATE", ...
    confirmed: str
    arrived: str


@dataclass(frozen=True)
class CallSheet:
    event_name: str
    venue: str
    timezone: str
    general_call: str  # "17:00 on Sat 21 Nov" or "not set"
    departments: list[tuple[str, list[CallLine]]] = field(default_factory=list)

    @property
    def lines(self) -> list[CallLine]:
        return [line for _, lines in self.departments for line in lines]


def call_sheet_data(
    session: Session,
    event_id: str,
    now: datetime | None = None,
    no_show_after_minutes: int | None = rules.DEFAULT_NO_SHOW_MINUTES,
) -> CallSheet:
    board = load_board(session, event_id)
    tz = board.tz
    now = now or datetime.now(UTC)
    by_dept: dict[str, list[CallLine]] = {d: [] for d in rules.DEPARTMENTS}
    for row in board.rows:
        call = row.call
        if row.offset_minutes is not None and call.source == "offset":
            offset = f"GC {row.offset_minutes:+d} min"
        else:
            offset = ""
        info = row.status(now, no_show_after_minutes, tz)
        by_dept[row.department].append(
            CallLine(
                name=row.name,
                department=rules.department_label(row.department),
                role=row.role,
                call_day=rules.format_day(call.at, tz) if call.at else "",
                call_time=rules.format_clock(call.at, tz) if call.at else "",
                call_note=call.note or call.message or offset,
                location=row.location or "",
                phone=row.phone or "",
                email=row.email or "",
                status=info.words,
                confirmed=_local(row.confirmed_at, tz),
                arrived=_local(row.arrived_at, tz),
            )
        )
    general = "not set"
    if board.general_call_at is not None:
        general = (
            f"{rules.format_clock(board.general_call_at, tz)} on "
            f"{rules.format_day(board.general_call_at, tz)}"
        )
    departments = [(rules.DEPARTMENT_LABELS[d], lines) for d, lines in by_dept.items() if lines]
    return CallSheet(board.event_name, board.venue_name or "", board.timezone, general, departments)


def _local(at: datetime | None, tz) -> str:
    if at is None:
        return ""
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M")


# --- CSV ------------------------------------------------------------------------------------

LINEUP_COLUMNS = [
    "Number",
    "Segment",
    "Look",
    "Designer",
    "Model",
    "Pinned",
    "Status",
    "Planned start",
    "Quick change",
    "Notes",
]
CALLTIME_COLUMNS = [
    "Name",
    "Department",
    "Role",
    "Call date",
    "Call time",
    "Call note",
    "Location",
    "Phone",
    "Email",
    "Status",
    "Confirmed",
    "Arrived",
]


def _write_csv(path: str | Path, header: list[str], rows: list[list[str]]) -> Path:
    path = Path(path)
    try:
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            writer.writerows(rows)
    except OSError as exc:
        raise ExportProblem(f"Cannot write {path}: {exc.strerror or exc}.") from exc
    return path


def export_lineup_csv(db: Database, show_id: str, path: str | Path) -> Path:
    """The show's lineup in walk order as CSV (UTF-8 with BOM, opens cleanly in Excel)."""
    sheet = lineup_sheet_data(db, show_id)
    rows = [
        [
            str(x.number),
            x.segment,
            x.look,
            x.designer,
            x.model,
            x.pin,
            x.status,
            x.planned,
            x.quick_change,
            x.notes,
        ]
        for x in sheet.lines
    ]
    return _write_csv(path, LINEUP_COLUMNS, rows)


def export_calltimes_csv(
    db: Database,
    event_id: str,
    path: str | Path,
    clock: Callable[[], datetime] | None = None,
) -> Path:
    """Everyone's call, by department, in the event's timezone (UTF-8 with BOM)."""
    now = clock() if clock else datetime.now(UTC)
    with db.session() as session:
        sheet = call_sheet_data(session, event_id, now)
    rows = [
        [
            x.name,
            x.department,
            x.role,
            x.call_day,
            x.call_time,
            x.call_note,
            x.location,
            x.phone,
            x.email,
            x.status,
            x.confirmed,
            x.arrived,
        ]
        for x in sheet.lines
    ]
    return _write_csv(path, CALLTIME_COLUMNS, rows)
