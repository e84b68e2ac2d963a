"""A show's lineup in the replica: load it as a domain ``Lineup``, save the producer's edits.

Every edit is one local transaction that also queues the change in the outbox, limited to
the columns that changed: a move writes ONE row's ``order_key`` (plus ``segment_id`` when the
look changes segment), so two producers moving different looks offline both keep their moves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.lineup import (
    STATUSES,
    Appearance,
    Lineup,
    MovePlan,
    Segment,
    ShowSettings,
)
from app.domain.order_keys import is_valid_key
from app.domain.text import sanitize
from app.store import outbox
from app.store.db import Database
from app.store.models import (
    Designer,
    Look,
    Model,
    RunwayAppearance,
    RunwaySegment,
    RunwayShow,
)

RUNWAY_TABLES = frozenset(
    {"runway_shows", "runway_segments", "runway_appearances", "looks", "models", "designers"}
)
"""Tables whose changes mean a lineup on screen must reload."""


class LineupProblem(Exception):
    """A lineup edit that cannot be made. ``str()`` is a sentence for the producer."""


@dataclass(frozen=True)
class ShowInfo:
    id: str
    name: str
    starts_at: datetime | None
    looks: int
    status: str


@dataclass(frozen=True)
class Choice:
    """A model or look to pick in an edit dialog."""

    id: str
    label: str


def list_shows(db: Database, event_id: str) -> list[ShowInfo]:
    with db.session() as session:
        counts = dict(
            session.execute(
                select(RunwaySegment.show_id, func.count(RunwayAppearance.id))
                .join(RunwayAppearance, RunwayAppearance.segment_id == RunwaySegment.id)
                .group_by(RunwaySegment.show_id)
            ).all()
        )
        shows = session.scalars(
            select(RunwayShow)
            .where(RunwayShow.event_id == event_id)
            .order_by(RunwayShow.starts_at, RunwayShow.name)
        ).all()
        return [ShowInfo(s.id, s.name, s.starts_at, counts.get(s.id, 0), s.status) for s in shows]


def load_lineup(db: Database, show_id: str) -> Lineup:
    """The show's lineup. Raises LineupProblem when the show does not exist."""
    with db.session() as session:
        return _load(session, show_id)


def _load(session: Session, show_id: str) -> Lineup:
    show = session.get(RunwayShow, show_id)
    if show is None:
        raise LineupProblem("That show is not in this database any more.")
    settings = ShowSettings(
        id=show.id,
        name=show.name,
        walk_interval_s=show.walk_interval_s or 30,
        quick_change_min_looks=show.quick_change_min_looks
        if show.quick_change_min_looks is not None
        else 3,
        quick_change_min_seconds=show.quick_change_min_seconds
        if show.quick_change_min_seconds is not None
        else 120,
        starts_at=show.starts_at,
        actual_started_at=show.actual_started_at,
        status=show.status,
    )
    seg_rows = session.scalars(select(RunwaySegment).where(RunwaySegment.show_id == show_id)).all()
    segments = [
        Segment(s.id, s.name, s.order_key, s.music_cue, s.walk_interval_s) for s in seg_rows
    ]
    rows = session.execute(
        select(RunwayAppearance, Look, Designer, Model)
        .join(RunwaySegment, RunwayAppearance.segment_id == RunwaySegment.id)
        .outerjoin(Look, RunwayAppearance.look_id == Look.id)
        .outerjoin(Designer, Look.designer_id == Designer.id)
        .outerjoin(Model, RunwayAppearance.model_id == Model.id)
        .where(RunwaySegment.show_id == show_id)
    ).all()
    appearances = []
    for app, look, designer, model in rows:
        model_alive = model is not None and model.deleted_at is None
        appearances.append(
            Appearance(
                id=app.id,
                segment_id=app.segment_id,
                look_id=app.look_id,
                look_title=look.title if look is not None else "Look removed",
                # A key damaged in transit still sorts (last), never crashes the board.
                order_key=app.order_key if is_valid_key(app.order_key) else "zzz",
                designer=(designer.brand or designer.name) if designer is not None else None,
                model_id=app.model_id,
                model_name=model.full_name if model_alive else None,
                is_opening=bool(app.is_opening),
                is_closing=bool(app.is_closing),
                status=app.status if app.status in STATUSES else "pending",
                notes=app.notes,
                photo_path=look.photo_path if look is not None else None,
                model_photo_path=model.photo_path if model_alive else None,
                walked_at=app.walked_at,
            )
        )
    return Lineup(settings, segments, appearances)


def _appearance(session: Session, appearance_id: str) -> RunwayAppearance:
    row = session.get(RunwayAppearance, appearance_id)
    if row is None:
        raise LineupProblem("That look was removed from the lineup (on another device?).")
    return row


def _edited_by(row: RunwayAppearance, staff_id: str | None, fields: list[str]) -> list[str]:
    """Record ``staff_id`` as the row's last editor. The column joins the queued fields
    whenever someone is signed in, or when it changes (an edit with no one signed in after a
    signed-in one clears the name; one after another such edit queues nothing more)."""
    if staff_id is None and row.edited_by_staff_id is None:
        return fields
    row.edited_by_staff_id = staff_id
    return [*fields, "edited_by_staff_id"]


def save_move(db: Database, plan: MovePlan, staff_id: str | None = None) -> int:
    """Write a move's keys (one row unless the plan rebalanced). Returns rows written.
    ``staff_id`` (every save below): who is signed in, recorded as the row's last editor."""
    if not plan.changed:
        return 0
    with db.session() as session:
        for appearance_id, (segment_id, key) in plan.writes.items():
            row = _appearance(session, appearance_id)
            fields = ["order_key"]
            row.order_key = key
            if row.segment_id != segment_id:
                if session.get(RunwaySegment, segment_id) is None:
                    raise LineupProblem("That segment was removed (on another device?).")
                row.segment_id = segment_id
                fields.append("segment_id")
            outbox.record(session, row, "update", fields=_edited_by(row, staff_id, fields))
    return len(plan.writes)


def save_status(
    db: Database,
    appearance_id: str,
    status: str,
    walked_at: datetime | None = None,
    staff_id: str | None = None,
) -> None:
    if status not in STATUSES:
        raise LineupProblem(f"'{status}' is not a look status ({', '.join(STATUSES)}).")
    with db.session() as session:
        row = _appearance(session, appearance_id)
        row.status = status
        row.walked_at = walked_at if status == "walked" else None
        outbox.record(
            session, row, "update", fields=_edited_by(row, staff_id, ["status", "walked_at"])
        )


def save_notes(
    db: Database, appearance_id: str, notes: str | None, staff_id: str | None = None
) -> None:
    text = sanitize(" ".join((notes or "").split()), limit=1000) or None
    with db.session() as session:
        row = _appearance(session, appearance_id)
        row.notes = text
        outbox.record(session, row, "update", fields=_edited_by(row, staff_id, ["notes"]))


def save_model(
    db: Database, appearance_id: str, model_id: str | None, staff_id: str | None = None
) -> None:
    with db.session() as session:
        if model_id is not None:
            model = session.get(Model, model_id)
            if model is None or model.deleted_at is not None:
                raise LineupProblem("That model was removed; choose another one.")
        row = _appearance(session, appearance_id)
        row.model_id = model_id
        outbox.record(session, row, "update", fields=_edited_by(row, staff_id, ["model_id"]))


def save_look(db: Database, appearance_id: str, look_id: str, staff_id: str | None = None) -> None:
    with db.session() as session:
        if session.get(Look, look_id) is None:
            raise LineupProblem("That look was removed; choose another one.")
        row = _appearance(session, appearance_id)
        row.look_id = look_id
        outbox.record(session, row, "update", fields=_edited_by(row, staff_id, ["look_id"]))


def save_show_started(db: Database, show_id: str, started_at: datetime | None) -> None:
    """Mark the show live from ``started_at`` (None: back to planned)."""
    with db.session() as session:
        show = session.get(RunwayShow, show_id)
        if show is None:
            raise LineupProblem("That show is not in this database any more.")
        show.actual_started_at = started_at
        show.status = "live" if started_at is not None else "planned"
        outbox.record(session, show, "update", fields=["status", "actual_started_at"])


def model_choices(db: Database, event_id: str) -> list[Choice]:
    with db.session() as session:
        models = session.scalars(
            select(Model)
            .where(Model.event_id == event_id, Model.deleted_at.is_(None))
            .order_by(Model.first_name, Model.last_name)
        ).all()
        return [Choice(m.id, m.full_name) for m in models]


def look_choices(db: Database, event_id: str) -> list[Choice]:
    with db.session() as session:
        rows = session.execute(
            select(Look, Designer)
            .outerjoin(Designer, Look.designer_id == Designer.id)
            .where(Look.event_id == event_id)
            .order_by(Look.title)
        ).all()
        return [
            Choice(look.id, f"{look.title} — {designer.name}" if designer else look.title)
            for look, designer in rows
        ]


def show_timezone(db: Database, show_id: str) -> str:
    """The IANA zone the show's times are shown in (its event's), 'UTC' when unknown."""
    from app.store.models import Event, Venue

    with db.session() as session:
        row = session.execute(
            select(Event.timezone, Venue.timezone)
            .select_from(RunwayShow)
            .join(Event, RunwayShow.event_id == Event.id)
            .outerjoin(Venue, Event.venue_id == Venue.id)
            .where(RunwayShow.id == show_id)
        ).first()
    if row is None:
        return "UTC"
    event_tz, venue_tz = row
    return event_tz if event_tz and event_tz != "UTC" else (venue_tz or event_tz or "UTC")
