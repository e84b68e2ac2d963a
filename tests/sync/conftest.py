"""Sync fixtures: a real PostgreSQL event (D1's fixtures) and kiosks with real SQLite replicas.

The shared fixtures (``pg_server``, ``supabase_db``, ``gateway``) come from
tests/support/fixtures.py, loaded for the whole suite by the root conftest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from app.store.db import Database, open_database, set_meta
from app.store.models import REPLICATED_TABLES, OutboxEntry, Ticket
from app.store.serialize import row_to_dict
from app.store.types import utcnow
from app.sync.backends import PostgresBackend
from app.sync.engine import SyncEngine


@dataclass
class Kiosk:
    name: str
    device_id: str
    db: Database
    engine: SyncEngine
    gate: str
    clock: Callable[[], datetime] = utcnow

    def door(self):
        from app.store.checkin_service import CheckinService

        return CheckinService(
            self.db, self.engine.event_id, self.device_id, gate=self.gate, clock=self.clock
        )

    def codes(self) -> list[str]:
        with self.db.session() as session:
            return list(session.scalars(select(Ticket.qr_code_data).order_by(Ticket.ticket_number)))

    def pending(self) -> int:
        with self.db.session() as session:
            return len(
                session.scalars(select(OutboxEntry.seq).where(OutboxEntry.state == "pending")).all()
            )

    def dump(self) -> dict[str, list[tuple]]:
        """Every replicated row, all columns, sorted: equal dumps mean identical replicas."""
        out = {}
        with self.db.session() as session:
            for model in REPLICATED_TABLES:
                rows = [
                    tuple(sorted(row_to_dict(r, include_sync=True).items(), key=str))
                    for r in session.scalars(select(model))
                ]
                out[model.__tablename__] = sorted(rows, key=str)
        return out


@dataclass
class World:
    """One organization's event on a real server, and kiosks that sync it."""

    sdb: object  # tests.support.pg.SupabaseDB
    org: object  # tests.support.pg.OrgFixture
    tickets: list[str]
    folder: Path
    kiosks: list[Kiosk] = field(default_factory=list)

    @property
    def event_id(self) -> str:
        return self.org.event_id

    def claims(self, device_id: str, staff_role: str = "door") -> dict:
        return self.sdb.claims(self.org, staff_role=staff_role, device_id=device_id)

    def backend(self, device_id: str, *, dsn: str | None = None, staff_role: str = "door"):
        return PostgresBackend(
            dsn or self.sdb.dsn, "authenticated", self.claims(device_id, staff_role), timeout=5
        )

    def kiosk(
        self,
        name: str,
        gate: str = "Main",
        *,
        clock: Callable[[], datetime] = utcnow,
        dsn: str | None = None,
        staff_role: str = "door",
        device_id: str | None = None,
        db_path: Path | None = None,
    ) -> Kiosk:
        device = device_id or self.sdb.create_device(self.org, name, gate)
        db = open_database(db_path or self.folder / f"{name.replace(' ', '_')}.sqlite")
        with db.session() as session:
            set_meta(session, "device_id", device)
            set_meta(session, "event_id", self.event_id)
        engine = SyncEngine(
            db,
            self.backend(device, dsn=dsn, staff_role=staff_role),
            self.event_id,
            device,
            clock=clock,
        )
        kiosk = Kiosk(name, device, db, engine, gate, clock)
        self.kiosks.append(kiosk)
        return kiosk

    def server_checkins(self) -> list[dict]:
        return self.sdb.execute("select * from checkins order by scanned_at, id")


@pytest.fixture
def world(supabase_db, tmp_path):
    org = supabase_db.create_org("Maison Sync")
    tickets = supabase_db.create_tickets(org, 12)
    w = World(supabase_db, org, tickets, tmp_path)
    yield w
    for kiosk in w.kiosks:
        kiosk.engine.backend.close()
        kiosk.db.close()
