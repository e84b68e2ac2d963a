"""The Sync tab's double-entry report, in a real (offscreen) Qt window: both times of each
admission, and whether their order can be trusted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.config import Config
from app.store.db import device_id, open_database
from app.store.models import Attendee, Checkin, Device, Event, Organization, Ticket, TicketType
from app.store.types import new_id

pytestmark = pytest.mark.gui

T0 = datetime(2026, 11, 22, 19, 0, tzinfo=UTC)


@pytest.fixture
def ctx(tmp_path):
    from app.ui import tasks
    from app.ui.context import AppContext

    db = open_database(tmp_path / "panel.sqlite")
    with db.session() as session:
        org = Organization(name="Maison", slug="maison")
        session.add(org)
        session.flush()
        event = Event(
            organization_id=org.id,
            name="Show",
            slug="show",
            timezone="UTC",
            starts_at=T0,
            ends_at=T0 + timedelta(hours=3),
        )
        session.add(event)
        session.flush()
        tier = TicketType(event_id=event.id, name="General", tier="general")
        session.add(tier)
        session.flush()
        north, south = new_id(), new_id()
        session.add_all(
            [
                Device(id=north, organization_id=org.id, name="Kiosk A", registered_at=T0),
                Device(id=south, organization_id=org.id, name="Kiosk B", registered_at=T0),
            ]
        )
        for n, (first, second) in enumerate(
            [
                # B's clock 10 min ahead, measured: B was first, and surely so
                ((south, T0 + timedelta(minutes=10), T0, 0.3), (north, T0 + timedelta(minutes=1))),
                # A's offset unknown: the order cannot be trusted
                ((south, T0 + timedelta(minutes=30), T0 + timedelta(minutes=20), 0.3), None),
            ]
        ):
            guest = Attendee(event_id=event.id, first_name="Guest", last_name=str(n))
            session.add(guest)
            session.flush()
            ticket = Ticket(
                event_id=event.id,
                ticket_type_id=tier.id,
                attendee_id=guest.id,
                ticket_number=f"T0000{n}",
                qr_code_data=f"CODE-{n}",
            )
            session.add(ticket)
            session.flush()
            device, at, corrected, uncertainty = first
            second = second or (north, T0 + timedelta(minutes=20, seconds=5))
            for dev, when, fixed, sure, flag in (
                (device, at, corrected, uncertainty, False),
                (
                    second[0],
                    second[1],
                    second[1] if n == 0 else None,
                    0.2 if n == 0 else None,
                    True,
                ),
            ):
                session.add(
                    Checkin(
                        event_id=event.id,
                        ticket_id=ticket.id,
                        device_id=dev,
                        gate="South" if dev == south else "North",
                        verdict="admitted",
                        scanned_at=when,
                        corrected_at=fixed,
                        corrected_uncertainty_s=sure,
                        double_entry=flag,
                        server_version=1,
                    )
                )
        event_id = event.id
        me = device_id(session)
    context = AppContext(config=Config(db=db.path), db=db, event_id=event_id, device_id=me)
    yield context
    for service in context.services:
        service.stop()
    tasks.shutdown(wait=True)
    db.close()


def test_the_report_shows_both_times_and_says_when_the_order_is_uncertain(qtbot, ctx):
    from app.ui.sync_panel import SyncTab

    tab = SyncTab(ctx)
    qtbot.addWidget(tab)
    tab.show()
    table = tab.double_table
    qtbot.waitUntil(lambda: table.rowCount() == 2, timeout=5000)
    rows = {
        table.item(r, 0).text(): [table.item(r, c).text() for c in range(table.columnCount())]
        for r in range(table.rowCount())
    }
    sure = rows["T00000"]
    assert (
        sure[2]
        == "22 Nov 19:00:00 server time (kiosk clock 22 Nov 19:10:00, ±0.3 s) at South (Kiosk B)"
    )
    assert sure[3].startswith("22 Nov 19:01:00 server time (kiosk clock 22 Nov 19:01:00")
    assert sure[4] == "Certain"
    unsure = rows["T00001"]
    assert unsure[3] == (
        "22 Nov 19:20:05 kiosk clock, offset to the server unknown, at North (Kiosk A)"
    )
    assert unsure[4] == "Order uncertain: the clock offset of Kiosk A was not known"
