"""A demo replica whose check-in log is replaced by a known one (times fixed relative to T0).

Minutes after T0 (a 5-minute boundary an hour before the report's clock), by ticket:

  PR1 press    in Press desk 1
  G1  general  in North 2; refused at VIP entrance 5 (wrong gate)
  G2  general  in South 3
  G3  general  in North 7, out North 20, in North 31 (a re-entry, not an arrival)
  P1  premium  in South 8
  --  unknown code at South 10
  P2  premium  in North 12 (Kiosk 1) and in South 13 (Kiosk 2, offline): a double entry
  V1  vip      in VIP entrance 14; refused as already inside at VIP entrance 16
  C1  comp     in North 22, undone at 23; in North 45 (its arrival)
  V2  vip      in VIP entrance 26, out VIP entrance 35, in North 40 flagged by sync as double
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select

from app.config import Config


@dataclass
class Known:
    ctx: Any
    t0: datetime
    now: datetime
    tickets: dict[str, str]  # label -> ticket id
    numbers: dict[str, str]  # label -> ticket number
    devices: dict[str, str]  # gate -> device id

    def clock(self) -> datetime:
        return self.now


@pytest.fixture(scope="session")
def organizer_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    from tests.support.demo import build_demo_template

    return build_demo_template(tmp_path_factory.mktemp("organizer_demo"), tickets=300, seed=11)


@pytest.fixture
def demo_ctx(organizer_template: tuple[Path, str], tmp_path: Path) -> Iterator[Any]:
    """A copy of the demo replica, its check-ins as the demo made them."""
    from app.store.db import device_id, open_database
    from app.ui.context import AppContext

    path = tmp_path / "organizer.sqlite"
    shutil.copy(organizer_template[0], path)
    db = open_database(path)
    with db.session() as session:
        dev = device_id(session)
    ctx = AppContext(
        config=Config(db=path, gate="North door", sound=False),
        db=db,
        event_id=organizer_template[1],
        device_id=dev,
    )
    yield ctx
    db.close()


def _pick(session, event_id: str, tier: str, count: int) -> list[tuple[str, str]]:
    from app.store.models import Ticket, TicketType

    return session.execute(
        select(Ticket.id, Ticket.ticket_number)
        .join(TicketType, TicketType.id == Ticket.ticket_type_id)
        .where(Ticket.event_id == event_id, Ticket.status == "valid", TicketType.tier == tier)
        .order_by(Ticket.ticket_number)
        .limit(count)
    ).all()


@pytest.fixture
def known(demo_ctx: Any) -> Known:
    from app.store.models import Checkin, Device

    ctx = demo_ctx
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)
    t0 = start - timedelta(minutes=start.minute % 5)
    with ctx.db.session() as s:
        s.execute(delete(Checkin))
        devices = dict(s.execute(select(Device.gate, Device.id)).all())
        picks = {
            "G": _pick(s, ctx.event_id, "general", 3),
            "P": _pick(s, ctx.event_id, "premium", 2),
            "V": _pick(s, ctx.event_id, "vip", 2),
            "PR": _pick(s, ctx.event_id, "press", 1),
            "C": _pick(s, ctx.event_id, "comp", 1),
        }
        tickets, numbers = {}, {}
        for prefix, rows in picks.items():
            assert len(rows) == {"G": 3, "P": 2, "V": 2}.get(prefix, 1)
            for i, (tid, number) in enumerate(rows, start=1):
                tickets[f"{prefix}{i}"], numbers[f"{prefix}{i}"] = tid, number
        north, south = devices["North door"], devices["South door"]
        vip, press = devices["VIP entrance"], devices["Press desk"]
        gates = {north: "North door", south: "South door", vip: "VIP entrance", press: "Press desk"}

        def add(label, device, minute, verdict, direction="in", **extra) -> str:
            row = Checkin(
                event_id=ctx.event_id,
                ticket_id=tickets.get(label),
                device_id=device,
                gate=gates[device],
                direction=direction,
                method="qr",
                kind=extra.pop("kind", "scan"),
                scanned_at=t0 + timedelta(minutes=minute),
                verdict=verdict,
                offline=True,
                server_version=0,
                **extra,
            )
            s.add(row)
            s.flush()
            return row.id

        add("PR1", press, 1, "admitted")
        add("G1", north, 2, "admitted")
        add("G1", vip, 5, "wrong_gate_or_tier")
        add("G2", south, 3, "admitted")
        add("G3", north, 7, "admitted")
        add("G3", north, 20, "exit_recorded", "out")
        add("G3", north, 31, "admitted")
        add("P1", south, 8, "admitted")
        add(None, south, 10, "unknown", raw_code="NOT-A-TICKET")
        add("P2", north, 12, "admitted")
        add("P2", south, 13, "admitted")
        add("V1", vip, 14, "admitted")
        add("V1", vip, 16, "already_admitted")
        undone = add("C1", north, 22, "admitted")
        add(
            "C1",
            north,
            23,
            "annulled",
            kind="annul",
            annuls_checkin_id=undone,
            reason="wrong guest",
        )
        add("C1", north, 45, "admitted")
        add("V2", vip, 26, "admitted")
        add("V2", vip, 35, "exit_recorded", "out")
        add("V2", north, 40, "admitted", double_entry=True)
    return Known(ctx, t0, t0 + timedelta(minutes=60), tickets, numbers, devices)


@pytest.fixture
def live_report_factory(qtbot):
    """``factory(Screen)(ctx, clock)``: a LiveReport screen, shown at kiosk size once its first
    read is drawn; stopped (and the workers shut down) after the test."""
    from app.ui import tasks

    built: list[Any] = []

    def for_screen(screen_class):
        def factory(ctx, clock=None):
            tab = screen_class(ctx, clock=clock)
            qtbot.addWidget(tab)
            tab.resize(1280, 760)
            with qtbot.waitSignal(tab.loaded, timeout=15000):
                tab.show()
            built.append(tab)
            return tab

        return factory

    yield for_screen
    for tab in built:
        tab.stop()
    tasks.shutdown(wait=True)
