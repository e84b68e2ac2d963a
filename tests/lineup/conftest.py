"""Fixtures for the lineup: a runway show in a real replica, and a clock moved by hand."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from app.domain.order_keys import rebalance
from app.store.models import (
    Designer,
    Event,
    Look,
    Model,
    Organization,
    RunwayAppearance,
    RunwaySegment,
    RunwayShow,
)

SHOW_START = datetime(2026, 11, 21, 19, 0, tzinfo=UTC)
FIRST = ["Ana", "Bea", "Chloé", "Dara", "Eva", "Femi", "Greta", "Hana", "Ines", "Jun"]
SEGMENTS = [("Daywear", "Track 1 — Opening beat"), ("Evening", "Track 2"), ("Finale", "Track 3")]


class Clock:
    def __init__(self, now: datetime = SHOW_START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs) -> None:
        self.now += timedelta(**kwargs)


@dataclass
class SeededShow:
    event_id: str
    show_id: str
    segments: list[str] = field(default_factory=list)
    appearances: list[str] = field(default_factory=list)  # in seeded walk order
    models: list[str] = field(default_factory=list)


def seed_show(
    db, looks: int = 12, models: int = 8, deleted_model_at: int | None = None
) -> SeededShow:
    """A show with 3 segments; look 1 opens, the last closes; models rotate."""
    with db.session() as s:
        org = Organization(name="Maison Demo", slug="maison-demo")
        s.add(org)
        s.flush()
        event = Event(
            organization_id=org.id,
            name="Paris Winter Show",
            slug="paris",
            starts_at=SHOW_START,
            ends_at=SHOW_START + timedelta(hours=2),
        )
        s.add(event)
        s.flush()
        show = RunwayShow(event_id=event.id, name="Main runway", starts_at=SHOW_START)
        designer = Designer(event_id=event.id, name="Maison Arlo", brand="Arlo")
        s.add_all([show, designer])
        s.flush()
        seeded = SeededShow(event.id, show.id)
        for (name, cue), key in zip(SEGMENTS, rebalance(len(SEGMENTS)), strict=True):
            seg = RunwaySegment(show_id=show.id, name=name, order_key=key, music_cue=cue)
            s.add(seg)
            s.flush()
            seeded.segments.append(seg.id)
        for i in range(models):
            m = Model(event_id=event.id, first_name=FIRST[i % len(FIRST)], last_name=f"M{i}")
            s.add(m)
            s.flush()
            seeded.models.append(m.id)
        per = [looks // 3 + (1 if i < looks % 3 else 0) for i in range(3)]
        n = 0
        for seg_id, count in zip(seeded.segments, per, strict=True):
            for key in rebalance(count):
                look = Look(event_id=event.id, designer_id=designer.id, title=f"Look {n + 1} coat")
                s.add(look)
                s.flush()
                app = RunwayAppearance(
                    segment_id=seg_id,
                    look_id=look.id,
                    model_id=seeded.models[n % models],
                    order_key=key,
                    is_opening=n == 0,
                    is_closing=n == looks - 1,
                )
                s.add(app)
                s.flush()
                seeded.appearances.append(app.id)
                n += 1
        if deleted_model_at is not None:
            s.get(Model, seeded.models[deleted_model_at]).deleted_at = SHOW_START
    return seeded


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def show(db) -> SeededShow:
    return seed_show(db)


@pytest.fixture
def ctx(db, show):
    from app.config import Config
    from app.store.db import device_id
    from app.ui.context import AppContext

    with db.session() as s:
        dev = device_id(s)
    return AppContext(config=Config(db=db.path), db=db, event_id=show.event_id, device_id=dev)


@pytest.fixture
def make_tab(qtbot, ctx):
    """A LineupTab on the seeded show, loaded; closes any show display afterwards."""
    from app.ui import show_display, tasks
    from app.ui.lineup import LineupTab

    def factory(**kwargs):
        tab = LineupTab(ctx, **kwargs)
        qtbot.addWidget(tab)
        tab.resize(1280, 760)
        tab.show()
        qtbot.waitUntil(lambda: tab.model.rowCount() > 0, timeout=10000)
        qtbot.waitUntil(lambda: bool(tab.model.model_names), timeout=10000)
        return tab

    yield factory
    display = show_display.current_display()
    if display is not None:
        display.close_confirmed()
    tasks.shutdown(wait=True)


def outbox(db):
    from sqlalchemy import select

    from app.store.models import OutboxEntry

    with db.session() as s:
        return list(s.scalars(select(OutboxEntry).order_by(OutboxEntry.seq)))
