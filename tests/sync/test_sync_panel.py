"""The Sync tab and the status-bar indicator in a real (offscreen) Qt window."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.config import Config
from app.store.db import device_id, open_database
from app.store.models import Checkin, Event, Organization, OutboxEntry
from app.store.outbox import record
from app.store.types import new_id, utcnow
from app.sync.localpg import free_port

pytestmark = pytest.mark.gui


@pytest.fixture
def make_ctx(tmp_path):
    from app.ui import tasks
    from app.ui.context import AppContext

    made = []

    def factory(**config) -> AppContext:
        db = open_database(tmp_path / f"panel{len(made)}.sqlite")
        with db.session() as session:
            org = Organization(name="Maison", slug="maison")
            session.add(org)
            session.flush()
            event = Event(
                organization_id=org.id,
                name="Show",
                slug="show",
                timezone="Europe/Paris",
                starts_at=utcnow(),
                ends_at=utcnow() + timedelta(hours=3),
            )
            session.add(event)
            session.flush()
            dev = device_id(session)
            # two scans waiting to upload, one refused by the server earlier
            for verdict in ("admitted", "admitted", "admitted"):
                row = Checkin(
                    event_id=event.id,
                    ticket_id=new_id(),
                    device_id=dev,
                    verdict=verdict,
                    gate="North",
                )
                session.add(row)
                record(session, row)
            session.flush()
            dead = session.scalars(select(OutboxEntry).order_by(OutboxEntry.seq)).first()
            dead.state = "dead"
            dead.last_error = "The ticket does not belong to this event."
            event_id = event.id
        ctx = AppContext(
            config=Config(db=db.path, **config), db=db, event_id=event_id, device_id=dev
        )
        made.append(ctx)
        return ctx

    yield factory
    for ctx in made:
        for service in ctx.services:
            service.stop()
    tasks.shutdown(wait=True)
    for ctx in made:
        ctx.db.close()


def test_unreachable_server_shows_offline_words_and_the_dead_letter(qtbot, make_ctx):
    from app.ui.sync_panel import SyncIndicator, SyncTab

    # a server address where nothing listens: every request fails like a dead network
    ctx = make_ctx(
        backend="postgres",
        pull_interval_seconds=0.5,
        postgres_dsn=f"host=127.0.0.1 port={free_port()} dbname=x user=x",
    )
    indicator = SyncIndicator(ctx)
    tab = SyncTab(ctx)
    qtbot.addWidget(indicator)
    qtbot.addWidget(tab)
    tab.show()

    qtbot.waitUntil(lambda: "No internet" in indicator.text.text(), timeout=15000)
    words = indicator.text.text()
    assert "2 check-ins waiting to upload" in words
    assert "1 change was refused by the server — see Sync tab" in words
    # each widget gets the status as its own queued event: wait for the tab's too
    qtbot.waitUntil(lambda: "No internet" in tab.summary.text(), timeout=5000)
    assert indicator.dot.toolTip() == "Attention"  # colour AND words

    qtbot.waitUntil(lambda: tab.dead_table.rowCount() == 1, timeout=5000)
    assert "does not belong" in tab.dead_table.item(0, 1).text()
    assert tab.dead_table.item(0, 0).text().startswith("check-in of ticket")
    assert "2 changes waiting" in tab.queue.text()

    asked = []
    tab.confirm = lambda question: asked.append(question) or False  # the person says No
    tab.retry_button.click()
    assert asked and "again" in asked[0]
    tab.confirm = lambda question: True  # ...then Yes
    tab.dead_table.selectRow(0)
    tab.retry_button.click()

    def requeued() -> bool:
        with ctx.db.session() as session:
            return not session.scalars(select(OutboxEntry).where(OutboxEntry.state == "dead")).all()

    qtbot.waitUntil(requeued, timeout=5000)
    qtbot.waitUntil(lambda: tab.dead_table.rowCount() == 0, timeout=5000)


def test_offline_only_device_says_so_plainly(qtbot, make_ctx):
    from app.ui.sync_panel import SyncIndicator, SyncTab, sync_service

    ctx = make_ctx()  # backend = none
    tab = SyncTab(ctx)
    indicator = SyncIndicator(ctx)
    qtbot.addWidget(tab)
    qtbot.addWidget(indicator)
    tab.show()
    assert not sync_service(ctx).configured
    assert tab.offline_note.isVisible()
    assert "works offline only" in tab.offline_note.text()
    assert "showdesk provision" in tab.offline_note.text()
    assert not tab.sync_button.isEnabled()
    qtbot.waitUntil(lambda: "Offline only" in indicator.text.text(), timeout=5000)
    qtbot.waitUntil(lambda: tab.dead_table.rowCount() == 1, timeout=5000)

    tab.confirm = lambda question: True
    tab.dead_table.selectRow(0)
    tab.discard_button.click()
    qtbot.waitUntil(lambda: tab.dead_table.rowCount() == 0, timeout=5000)
    with ctx.db.session() as session:
        assert len(session.scalars(select(Checkin)).all()) == 2  # the refused scan went
