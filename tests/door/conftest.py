"""Fixtures for the door: a small real event in a fresh replica, with signed tickets."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest

from app.domain.tokens import generate_keypair, issue_token
from app.store.checkin_service import CheckinService
from app.store.models import (
    Attendee,
    Device,
    Event,
    EventSigningKey,
    Order,
    Organization,
    RevokedToken,
    Ticket,
    TicketType,
    Venue,
)
from app.store.types import new_id, utcnow


@dataclass
class Door:
    db: object
    event_id: str
    private_key: str
    public_key: str
    device_id: str
    types: dict[str, str] = field(default_factory=dict)  # tier -> ticket type id
    now: datetime = field(default_factory=utcnow)

    def token(self, ticket_id: str, type_tier: str = "general", serial: int = 1, **kw) -> str:
        return issue_token(
            self.private_key,
            ticket_id=ticket_id,
            event_id=kw.pop("event_id", self.event_id),
            ticket_type_id=kw.pop("ticket_type_id", self.types[type_tier]),
            serial=serial,
            **kw,
        )

    def add_ticket(
        self,
        tier: str = "general",
        *,
        status: str = "valid",
        code: str | None = None,
        serial: int = 1,
        first: str = "Ana",
        last: str = "Lima",
        notes: str | None = None,
        **ticket_kw,
    ) -> tuple[str, str]:
        """Insert a ticket; returns (ticket_id, qr text)."""
        ticket_id = new_id()
        qr = code or self.token(ticket_id, tier, serial)
        with self.db.session() as s:
            attendee = Attendee(
                event_id=self.event_id, first_name=first, last_name=last, notes=notes
            )
            order = Order(event_id=self.event_id, order_number=f"O-{ticket_id[:6]}")
            s.add_all([attendee, order])
            s.flush()
            s.add(
                Ticket(
                    id=ticket_id,
                    event_id=self.event_id,
                    ticket_type_id=self.types[tier],
                    attendee_id=attendee.id,
                    order_id=order.id,
                    ticket_number=f"T-{ticket_id[:8]}",
                    qr_code_data=qr,
                    token_serial=serial,
                    status=status,
                    **ticket_kw,
                )
            )
        return ticket_id, qr

    def revoke(self, ticket_id: str, serial: int, reason: str) -> None:
        with self.db.session() as s:
            s.add(
                RevokedToken(
                    event_id=self.event_id, ticket_id=ticket_id, token_serial=serial, reason=reason
                )
            )

    def service(self, **kw) -> CheckinService:
        kw.setdefault("gate", "North door")
        return CheckinService(self.db, self.event_id, self.device_id, **kw)


def make_event(db, name: str = "Test Show", now: datetime | None = None) -> Door:
    now = now or utcnow()
    private, public = generate_keypair()
    with db.session() as s:
        org = Organization(name="Maison Test", slug="maison-test")
        s.add(org)
        s.flush()
        venue = Venue(organization_id=org.id, name="Hall", timezone="Europe/Paris")
        s.add(venue)
        s.flush()
        event = Event(
            organization_id=org.id,
            venue_id=venue.id,
            name=name,
            slug=name.lower().replace(" ", "-"),
            timezone="Europe/Paris",
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(hours=4),
            public_keys=[public],
        )
        s.add(event)
        s.flush()
        s.add(EventSigningKey(event_id=event.id, private_key=private))
        device = Device(organization_id=org.id, name="Kiosk 2", gate="North door")
        s.add(device)
        types = {}
        for tier, gates, reentry in (
            ("general", ["North door", "South door"], True),
            ("vip", [], False),
            ("press", ["Press desk"], True),
        ):
            tt = TicketType(
                event_id=event.id,
                name=tier.title(),
                tier=tier,
                entry_starts_at=now - timedelta(hours=2),
                entry_ends_at=now + timedelta(hours=3),
                allowed_gates=gates,
                allow_reentry=reentry,
            )
            s.add(tt)
            s.flush()
            types[tier] = tt.id
        s.flush()
        return Door(db, event.id, private, public, device.id, types, now)


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory):
    """An empty replica migrated once; copying it is much faster than migrating per test."""
    from app.store.db import open_database

    path = tmp_path_factory.mktemp("migrated") / "empty.sqlite"
    database = open_database(path)
    with database.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.close()
    return path


@pytest.fixture
def db(migrated_template, tmp_path):
    """A fresh, empty, migrated replica (a copy of the session's template)."""
    import shutil

    from app.store.db import open_database

    path = tmp_path / "replica.sqlite"
    shutil.copy(migrated_template, path)
    database = open_database(path)
    yield database
    database.close()


@pytest.fixture
def door(db) -> Door:
    return make_event(db)


@pytest.fixture(scope="session")
def small_demo_template(tmp_path_factory):
    """A 60-ticket demo database for the command-line tests, built once."""
    from app.store.demo import create_demo

    path = tmp_path_factory.mktemp("small-demo") / "small.sqlite"
    summary = create_demo(path, tickets=60, seed=3)
    return path, summary


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> tuple[object, str]:
    """A 2,000-ticket demo database, built once; tests get their own copy (``demo_db``)."""
    from tests.support.demo import build_demo_template

    return build_demo_template(tmp_path_factory.mktemp("demo"), tickets=2000, seed=7)


@pytest.fixture
def demo_db(demo_template, tmp_path):
    """(Database, event_id) on a private copy of the demo template."""
    import shutil

    from app.store.db import open_database

    template, event_id = demo_template
    path = tmp_path / "demo.sqlite"
    shutil.copy(template, path)
    database = open_database(path)
    yield database, event_id
    database.close()
