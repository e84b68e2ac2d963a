"""Door screen fixtures: a seeded demo replica per test and a DoorTab factory."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.config import Config

KIOSK_PIN = "2580"


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One seeded demo database for the session; each test gets its own copy."""
    from tests.support.demo import build_demo_template

    return build_demo_template(tmp_path_factory.mktemp("door_demo"), tickets=300, seed=11)


@pytest.fixture
def door_ctx(demo_template: tuple[Path, str], tmp_path: Path) -> Iterator[Any]:
    from app.store.db import device_id, open_database
    from app.ui.context import AppContext

    path = tmp_path / "door.sqlite"
    shutil.copy(demo_template[0], path)
    db = open_database(path)
    with db.session() as session:
        dev = device_id(session)
    # An explicit kiosk PIN: there is no default one (a kiosk without one asks at first lock).
    config = Config(
        db=path,
        gate="North door",
        verdict_seconds=30.0,
        sound=True,
        debounce_seconds=3.0,
        kiosk_pin=KIOSK_PIN,
    )
    ctx = AppContext(config=config, db=db, event_id=demo_template[1], device_id=dev)
    yield ctx
    db.close()


@pytest.fixture
def make_door(qtbot, door_ctx) -> Iterator[Callable[..., Any]]:
    """Build a DoorTab on the demo replica and wait until it is ready to scan."""
    from app.ui import tasks
    from app.ui.door import DoorTab

    built: list[Any] = []

    def factory(**kwargs: Any) -> Any:
        door = DoorTab(door_ctx, **kwargs)
        qtbot.addWidget(door)
        door.resize(1280, 760)
        door.show()
        built.append(door)
        qtbot.waitUntil(lambda: door.is_ready, timeout=15000)
        return door

    yield factory
    for door in built:
        door.stop()
    tasks.shutdown(wait=True)


def fresh_tickets(ctx: Any, limit: int = 5) -> list[Any]:
    """Real demo tickets this door may admit right now and nobody has scanned yet:
    (id, qr_code_data, ticket_number, first_name, last_name)."""
    from app.store.models import Attendee, Checkin, Ticket, TicketType
    from app.store.types import utcnow

    now = utcnow()
    scanned = select(Checkin.ticket_id).where(Checkin.ticket_id.is_not(None))
    with ctx.db.session() as session:
        rows = session.execute(
            select(
                Ticket.id,
                Ticket.qr_code_data,
                Ticket.ticket_number,
                Attendee.first_name,
                Attendee.last_name,
                TicketType,
            )
            .join(Attendee, Attendee.id == Ticket.attendee_id)
            .join(TicketType, TicketType.id == Ticket.ticket_type_id)
            .where(
                Ticket.event_id == ctx.event_id, Ticket.status == "valid", Ticket.id.not_in(scanned)
            )
            .order_by(Ticket.ticket_number)
        ).all()
    out = []
    for *ticket, kind in rows:
        gates = kind.allowed_gates or []
        opens = kind.entry_starts_at
        if (not gates or ctx.config.gate in gates) and (opens is None or opens <= now):
            out.append(tuple(ticket))
        if len(out) == limit:
            break
    return out


def no_camera() -> Any:
    """A source factory for tests that do not use the camera: the real 'no camera' path."""
    from app.scan.sources import CameraSource

    return CameraSource(97)
