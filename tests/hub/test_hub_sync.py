"""Doors and backstage through the venue hub: shared authority with no internet, routing to
both ways, the relay's exactly-once delivery and its translation of edit versions."""

from __future__ import annotations

import uuid

import pytest

from app.sync.backends import SyncError
from app.sync.hub.join import HubBackend
from tests.support.pg import mutation

pytestmark = pytest.mark.postgres

SCAN_GAP_S = 1.5  # a second door's scan after the first, as at a real door


def test_a_ticket_admitted_at_one_door_is_refused_at_another_with_no_internet(venue):
    import time

    north = venue.kiosk("North door", server=False)
    south = venue.kiosk("South door", server=False)
    for kiosk in (north, south):
        kiosk.engine.sync_once()
    code = north.codes()[0]
    assert north.door().scan(code).verdict == "admitted"
    north.engine.sync_once()
    time.sleep(SCAN_GAP_S)
    south.engine.sync_once()
    again = south.door().scan(code)
    assert again.verdict == "already_admitted"
    south.engine.sync_once()
    # nothing reached the server yet; the relay delivers each check-in once, as its door
    assert venue.server_checkins() == []
    report = venue.relay.run_once()
    assert report.relayed == 2 and report.refused == 0
    rows = venue.server_checkins()
    assert [(str(r["device_id"]), r["verdict"]) for r in rows] == [
        (north.device_id, "admitted"),
        (south.device_id, "already_admitted"),
    ]
    assert venue.relay.run_once().relayed == 0
    assert venue.sdb.scalar("select count(*) from sync_mutations") == 2


def test_a_kiosk_reaching_both_sends_checkins_to_both_once(venue):
    north = venue.kiosk("North door")
    north.engine.sync_once()
    assert north.door().scan(north.codes()[0]).verdict == "admitted"
    report = north.engine.sync_once()
    assert report.push.applied == 1
    # the server got it straight from the door, the hub too; the relay's copy is a duplicate
    assert len(venue.server_checkins()) == 1
    relayed = venue.relay.run_once()
    assert relayed.duplicate == 1 and relayed.relayed == 0
    assert len(venue.server_checkins()) == 1
    assert venue.sdb.scalar("select count(*) from sync_mutations") == 1
    status = north.engine.status()
    assert status.routes is not None and status.routes.hub and status.routes.internet
    assert status.route_words.startswith("Internet: online · Venue hub: connected")


def test_when_the_hub_dies_a_kiosk_goes_on_with_the_server_and_comes_back(venue):
    north = venue.kiosk("North door")
    south = venue.kiosk("South door", server=False)
    north.engine.sync_once()
    south.engine.sync_once()
    venue.hub.stop()
    assert north.door().scan(north.codes()[0]).verdict == "admitted"
    north.engine.sync_once()  # the hub fails; the push goes to the server instead
    assert len(venue.server_checkins()) == 1
    north.engine.sync_once()  # and the pull starts over from the server
    routes = north.engine.status().routes
    assert routes.hub is False and routes.internet is True and routes.primary == "server"
    with pytest.raises(SyncError):
        south.engine.sync_once()
    assert "Venue hub: unreachable" in south.engine.status().headline()
    venue.hub.start()
    venue.relay.run_once()  # the server's check-in comes down to the hub
    north.engine.backend.hub.retry_at = 0  # (instead of waiting for the retry)
    north.engine.sync_once()
    north.engine.sync_once()
    assert north.engine.status().routes.primary == "hub"
    south.engine.sync_once()
    assert south.door().scan(north.codes()[0]).verdict == "already_admitted"
    assert north.dump()["checkins"] and len(venue.server_checkins()) == 1


def _hub_version(venue, table: str, row_id: str) -> int:
    with venue.hub.connect() as conn:
        return conn.execute(
            f"select version from showdesk.{table} where id = %s", (row_id,)
        ).fetchone()[0]


def test_backstage_edits_through_the_hub_reach_the_server_without_false_conflicts(venue):
    backstage = venue.sdb.create_backstage(venue.org)
    venue.relay.run_once()
    tablet, credential = venue.join("Producer tablet", role="producer")
    hub = HubBackend(credential)
    look = backstage["appearances"][0]
    base = _hub_version(venue, "runway_appearances", look)
    [first] = hub.push(
        tablet, [mutation("runway_appearances", "update", look, {"order_key": "a5"}, base)]
    )
    assert first.status == "applied"
    # a second edit on top of the first, both relayed in order
    [second] = hub.push(
        tablet,
        [mutation("runway_appearances", "update", look, {"order_key": "a7"}, first.version)],
    )
    assert second.status == "applied"
    report = venue.relay.run_once()
    assert (report.relayed, report.refused) == (2, 0)
    assert (
        venue.sdb.scalar("select order_key from runway_appearances where id = %s", (look,)) == "a7"
    )


def test_an_edit_made_on_an_older_state_conflicts_on_the_server(venue):
    backstage = venue.sdb.create_backstage(venue.org)
    venue.relay.run_once()
    tablet, credential = venue.join("Producer tablet", role="producer")
    look = backstage["appearances"][0]
    base = _hub_version(venue, "runway_appearances", look)
    # meanwhile, on the server, the organizer moves the same look
    organizer = venue.server_backend(venue.hub_device, "organizer")
    server_version = venue.sdb.scalar(
        "select version from runway_appearances where id = %s", (look,)
    )
    [moved] = organizer.push(
        venue.hub_device,
        [mutation("runway_appearances", "update", look, {"order_key": "b1"}, server_version)],
    )
    assert moved.status == "applied"
    [edit] = HubBackend(credential).push(
        tablet, [mutation("runway_appearances", "update", look, {"order_key": "a5"}, base)]
    )
    assert edit.status == "applied"  # the hub did not know yet
    report = venue.relay.run_once()
    assert report.refused == 1
    with venue.hub.connect() as conn:
        status = conn.execute("select relay_status from showdesk_hub.upstream").fetchone()[0]
        assert status == "conflict"
        # the server's order comes down: the hub agrees with the server again
        key = conn.execute(
            "select order_key from showdesk.runway_appearances where id = %s", (look,)
        ).fetchone()[0]
    assert key == "b1"


def test_server_changes_reach_kiosks_through_the_hub(venue):
    north = venue.kiosk("North door", server=False)
    north.engine.sync_once()
    before = len(north.codes())
    venue.sdb.create_tickets(venue.org, 3)
    venue.relay.run_once()
    north.engine.sync_once()
    assert len(north.codes()) == before + 3
    assert venue.relay.run_once().pulled == 0


def test_a_late_kiosk_with_many_offline_scans_catches_up_once(venue):
    late = venue.kiosk("Late door", server=False)
    late.engine.sync_once()
    extra = venue.sdb.create_tickets(venue.org, 40)
    assert extra
    venue.relay.run_once()
    late.engine.sync_once()
    codes = late.codes()
    # an hour of scanning with the hub unreachable (its address wrong for a while)
    real = late.engine.backend.hub.backend.credential
    late.engine.backend.hub.backend.credential = type(real)(
        ("127.0.0.1",), 1, real.login, real.password, real.certificate, real.event_id, real.role
    )
    late.engine.backend.hub.backend.dsn = late.engine.backend.hub.backend._dsn()
    late.engine.backend.hub.backend.close()
    for code in codes:
        late.door().scan(code)
    with pytest.raises(SyncError):
        late.engine.sync_once()
    assert late.pending() == len(codes)
    late.engine.backend.hub.backend.credential = real
    late.engine.backend.hub.backend.dsn = late.engine.backend.hub.backend._dsn()
    late.engine.backend.hub.retry_at = 0
    late.engine.sync_once()
    assert late.pending() == 0
    venue.relay.run_once()
    assert len(venue.server_checkins()) == len(codes)
    assert venue.relay.run_once().relayed == 0
    ids = {str(r["id"]) for r in venue.server_checkins()}
    assert len(ids) == len(codes)
    assert uuid.UUID(next(iter(ids)))


def test_what_slipped_through_while_a_door_was_cut_off_shows_in_the_double_entry_report(venue):
    """Lenient: a door cut off from both the hub and the server admits on its own verdict,
    flagged; another door admitted the same guest through the hub. Once the first door is
    back, every replica's double-entry report shows the pair."""
    import time

    from app.sync.reports import double_entries

    north = venue.kiosk("North door", server=False)
    south = venue.kiosk("South door", server=False)
    north.engine.sync_once()
    south.engine.sync_once()
    code = north.codes()[0]
    cut_off = north.door()
    cut_off.online = lambda: False  # what the door screen passes when sync last failed
    first = cut_off.scan(code)
    assert first.verdict == "admitted" and first.detail.startswith("Offline — duplicates possible")
    time.sleep(SCAN_GAP_S)
    assert south.door().scan(code).verdict == "admitted"  # south never heard of north's
    south.engine.sync_once()
    north.engine.sync_once()  # north is back
    south.engine.sync_once()
    venue.relay.run_once()
    for kiosk in (north, south):
        with kiosk.db.session() as session:
            [pair] = double_entries(session, venue.event_id)
        assert pair is not None
    assert venue.sdb.scalar("select count(*) from checkins where verdict = 'admitted'") == 2
