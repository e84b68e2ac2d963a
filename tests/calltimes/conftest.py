"""Fixtures for the call-time board, printing and exports: a small backstage event.

The event is in Europe/Paris; the general call is 17:00 local (16:00 UTC) on Sat 21 Nov 2026.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from app.store.models import (
    CallTime,
    Designer,
    Event,
    Look,
    Model,
    Organization,
    Person,
    RunwayAppearance,
    RunwaySegment,
    RunwayShow,
    Venue,
)

GENERAL_CALL = datetime(2026, 11, 21, 16, 0, tzinfo=UTC)  # 17:00 in Paris


class FakeClock:
    """A clock the test moves by hand: returns aware UTC now."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs) -> None:
        self.now = self.now + timedelta(**kwargs)


@dataclass
class Backstage:
    event_id: str
    show_id: str
    people: dict[str, str] = field(default_factory=dict)  # name -> person id
    calls: dict[str, str] = field(default_factory=dict)  # name -> call time id
    badges: dict[str, str] = field(default_factory=dict)  # name -> badge code
    models: dict[str, str] = field(default_factory=dict)  # name -> model id


# (name, department, role, offset minutes or absolute UTC time, phone)
CREW = [
    ("Ana Silva", "models", "Model", -60, "+33 6 11 22 33 44"),
    ("Bruno Costa", "models", "Model", -60, "+33 6 22 33 44 55"),
    ("Chloé Martin", "models", "Model", -45, None),
    ("Dmitri Volkov", "hair", "Lead hairstylist", -120, "+33 6 33 44 55 66"),
    ("Eva Müller", "makeup", "Makeup artist", -90, None),
    ("Fatima Zahra", "dressers", "Dresser", -30, None),
    ("Gustavo Reyes", "crew", "Stage manager", datetime(2026, 11, 21, 13, 30, tzinfo=UTC), None),
]


@pytest.fixture
def backstage(db) -> Backstage:
    with db.session() as s:
        org = Organization(name="Maison Demo", slug="maison-demo")
        s.add(org)
        s.flush()
        venue = Venue(organization_id=org.id, name="Grand Palais", timezone="Europe/Paris")
        s.add(venue)
        s.flush()
        event = Event(
            organization_id=org.id,
            venue_id=venue.id,
            name="Paris Winter Show",
            slug="paris-winter",
            timezone="Europe/Paris",
            starts_at=GENERAL_CALL + timedelta(hours=3),
            ends_at=GENERAL_CALL + timedelta(hours=5),
            general_call_at=GENERAL_CALL,
        )
        s.add(event)
        s.flush()
        show = RunwayShow(event_id=event.id, name="Main show", walk_interval_s=30)
        s.add(show)
        s.flush()
        data = Backstage(event_id=event.id, show_id=show.id)
        for i, (name, dept, role, when, phone) in enumerate(CREW):
            badge = f"BADGE-{i + 1:04d}"
            person = Person(
                event_id=event.id,
                full_name=name,
                role=role,
                department=dept,
                phone=phone,
                badge_code=badge,
            )
            s.add(person)
            s.flush()
            if dept == "models":
                first, last = name.split(" ", 1)
                model = Model(event_id=event.id, first_name=first, last_name=last, agency="Elite")
                s.add(model)
                s.flush()
                person.model_id = model.id
                data.models[name] = model.id
            ct = CallTime(
                event_id=event.id,
                person_id=person.id,
                call_at=when if isinstance(when, datetime) else None,
                offset_minutes=when if isinstance(when, int) else None,
                location="Backstage B",
            )
            s.add(ct)
            s.flush()
            data.people[name] = person.id
            data.calls[name] = ct.id
            data.badges[name] = badge
        designer = Designer(event_id=event.id, name="Iris Lamarque", brand="LAMARQUE")
        s.add(designer)
        s.flush()
        seg1 = RunwaySegment(show_id=show.id, name="Day", order_key="a0")
        seg2 = RunwaySegment(show_id=show.id, name="Evening", order_key="a1")
        s.add_all([seg1, seg2])
        s.flush()
        # Ana walks looks 1 and 3 (a quick change), Bruno 2 and 5, Chloé 4.
        plan = [
            (seg1, "a0", "Ana Silva", "Wool coat"),
            (seg1, "a1", "Bruno Costa", "Linen suit"),
            (seg1, "a2", "Ana Silva", "Silk dress"),
            (seg2, "a0", "Chloé Martin", "Velvet gown"),
            (seg2, "a1", "Bruno Costa", "Tuxedo"),
        ]
        for seg, key, model_name, title in plan:
            look = Look(event_id=event.id, designer_id=designer.id, title=title)
            s.add(look)
            s.flush()
            s.add(
                RunwayAppearance(
                    segment_id=seg.id,
                    look_id=look.id,
                    model_id=data.models[model_name],
                    order_key=key,
                    is_opening=(seg is seg1 and key == "a0"),
                )
            )
    return data


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(GENERAL_CALL - timedelta(hours=3))


@pytest.fixture
def ctx(db, backstage):
    from app.config import Config
    from app.store.db import device_id
    from app.ui.context import AppContext

    with db.session() as s:
        dev = device_id(s)
    config = Config(db=db.path, sound=False, call_alert_minutes=10)
    context = AppContext(config=config, db=db, event_id=backstage.event_id, device_id=dev)
    yield context
    for service in context.services:
        service.stop()
    from app.ui import tasks

    tasks.shutdown(wait=True)


@pytest.fixture
def make_tab(qtbot, ctx, clock):
    """Build a CallTimesTab on the fake clock (alert scheduler off unless asked) and wait
    until its board has loaded."""

    def make(**kwargs):
        from app.ui.calltimes import CallTimesTab

        kwargs.setdefault("alerts", False)
        tab = CallTimesTab(ctx, clock, **kwargs)
        qtbot.addWidget(tab)
        tab.resize(1200, 700)
        tab.show()
        qtbot.waitUntil(lambda: tab.board is not None)
        tab.qtbot = qtbot
        return tab

    return make
