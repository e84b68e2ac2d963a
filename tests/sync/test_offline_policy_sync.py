"""The organizer's offline policy travels like any edit: set on the organizer's device, pushed,
pulled by the doors; a door cannot set it; the server takes only lenient or strict."""

from __future__ import annotations

import psycopg
import pytest

from app.store.models import Event
from app.store.offline_policy import set_offline_policy

pytestmark = pytest.mark.postgres


def test_the_organizer_sets_strict_and_the_doors_get_it(world):
    organizer = world.kiosk("Organizer laptop", staff_role="organizer")
    door = world.kiosk("North door")
    organizer.engine.sync_once()
    door.engine.sync_once()
    with organizer.db.session() as session:
        assert set_offline_policy(session, session.get(Event, world.event_id), "strict")
    report = organizer.engine.sync_once()
    assert report.push.applied == 1
    assert (
        world.sdb.scalar("select offline_policy from events where id = %s", (world.event_id,))
        == "strict"
    )
    door.engine.sync_once()
    with door.db.session() as session:
        assert session.get(Event, world.event_id).offline_policy == "strict"


def test_a_door_cannot_set_it(world):
    door = world.kiosk("North door")
    door.engine.sync_once()
    with door.db.session() as session:
        set_offline_policy(session, session.get(Event, world.event_id), "strict")
    report = door.engine.sync_once()
    assert report.push.rejected == 1
    assert (
        world.sdb.scalar("select offline_policy from events where id = %s", (world.event_id,))
        is None
    )


def test_the_server_takes_only_lenient_or_strict(world):
    with pytest.raises(psycopg.errors.CheckViolation):
        world.sdb.execute(
            "update events set offline_policy = 'maybe' where id = %s", (world.event_id,)
        )
    with pytest.raises(ValueError):
        set_offline_policy(None, Event(), "maybe")  # type: ignore[arg-type]
