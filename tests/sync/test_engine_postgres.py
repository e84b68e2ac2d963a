"""The sync engine against a real PostgreSQL through the direct backend (same role + claims
as PostgREST, so the same RLS and SQL functions)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.store.models import Attendee, Checkin, OutboxEntry, Ticket
from app.store.outbox import record
from app.store.types import new_id, utcnow
from app.sync import reports
from app.sync.engine import META_CURSOR, _mutation

pytestmark = pytest.mark.postgres

# Between two kiosks' scans of the same ticket when the test needs a definite first admission:
# corrected time is known to within half a sync's round trip (app/store/clock.py), which a
# loaded machine can stretch to a few hundred milliseconds.
SCAN_GAP_S = 1.5


def test_pull_scan_push_and_replayed_batch_changes_nothing(world):
    kiosk = world.kiosk("Kiosk 1", "North")
    report = kiosk.engine.sync_once()
    assert report.pull.upserted >= 12 + 12 + 1  # tickets, attendees, the event...
    codes = kiosk.codes()
    assert len(codes) == 12

    door = kiosk.door()
    results = [door.scan(code) for code in codes[:3]]
    assert all(r.verdict == "admitted" for r in results)
    with kiosk.db.session() as session:
        queued = [_mutation(e) for e in session.scalars(select(OutboxEntry))]
    assert len(queued) == 3

    report = kiosk.engine.sync_once()
    assert report.push.applied == 3 and kiosk.pending() == 0
    server = world.server_checkins()
    assert {str(r["id"]) for r in server} == {r.checkin_id for r in results}
    # our rows came back with the server's version
    with kiosk.db.session() as session:
        assert all(c.server_version for c in session.scalars(select(Checkin)))

    # the whole batch delivered again (a lost answer, a restored backup): no change
    answers = kiosk.engine.backend.push(kiosk.device_id, queued)
    assert {a.status for a in answers} == {"duplicate"}
    assert len(world.server_checkins()) == 3
    assert kiosk.engine.sync_once().pull.upserted == 0


def test_refused_change_is_a_dead_letter_that_blocks_nothing(world):
    kiosk = world.kiosk("Kiosk 1")
    kiosk.engine.sync_once()
    ticket_id = world.tickets[0]
    with kiosk.db.session() as session:
        bad = Checkin(
            id=new_id(),
            event_id=world.event_id,
            ticket_id=ticket_id,
            device_id=kiosk.device_id,
            direction="sideways",
            verdict="admitted",
        )
        session.add(bad)
        record(session, bad)
    good = kiosk.door().scan(kiosk.codes()[1])

    report = kiosk.engine.sync_once()
    assert report.push.rejected == 1 and report.push.applied == 1
    assert {str(r["id"]) for r in world.server_checkins()} == {good.checkin_id}
    status = kiosk.engine.status()
    assert status.dead == 1 and status.pending == 0
    assert "1 change was refused by the server — see Sync tab" in status.summary()

    with kiosk.db.session() as session:
        dead = reports.dead_letters(session)
        assert len(dead) == 1 and dead[0].reason
        assert reports.retry_dead(session, [dead[0].seq]) == 1
    assert kiosk.engine.sync_once().push.rejected == 1  # still refused: dead again
    with kiosk.db.session() as session:
        seq = reports.dead_letters(session)[0].seq
        assert reports.discard_dead(session, [seq]) == 1
    with kiosk.db.session() as session:
        assert session.get(Checkin, bad.id) is None  # never on the server: gone here too
        assert session.scalar(select(OutboxEntry.seq)) is None
    assert kiosk.engine.status().dead == 0


@pytest.mark.parametrize("first", ["A", "B"])
def test_two_kiosks_offline_same_tickets_converge(world, first):
    a = world.kiosk("Kiosk A", "North")
    b = world.kiosk("Kiosk B", "South")
    a.engine.sync_once()
    b.engine.sync_once()
    codes = a.codes()[:3]
    # both offline: nobody syncs; both admit the same three tickets
    assert all(a.door().scan(c).verdict == "admitted" for c in codes)
    time.sleep(SCAN_GAP_S)  # A clearly first in corrected time
    assert all(b.door().scan(c).verdict == "admitted" for c in codes)

    order = [a, b] if first == "A" else [b, a]
    for kiosk in order + order:
        kiosk.engine.sync_once()

    server = world.server_checkins()
    assert len(server) == 6  # both scans kept
    assert sum(1 for r in server if r["double_entry"]) == 3
    assert a.dump() == b.dump()  # identical replicas
    with a.db.session() as session:
        doubles = reports.double_entries(session, world.event_id)
    assert len(doubles) == 3
    assert {d.first.gate for d in doubles} == {"North"}  # A scanned first by device time
    assert {d.second.gate for d in doubles} == {"South"}
    # the next scan of such a ticket, at either door, is "already admitted"
    assert b.door().scan(codes[0]).verdict == "already_admitted"


def test_kiosk_clock_ten_minutes_ahead(world):
    a = world.kiosk("Kiosk A", "North")
    b = world.kiosk("Kiosk B", "South", clock=lambda: utcnow() + timedelta(minutes=10))
    a.engine.sync_once()
    b.engine.sync_once()
    status = b.engine.status()
    assert status.clock_skew_seconds == pytest.approx(600, abs=30)
    assert "Kiosk clock is 10 min off" in status.summary()
    assert a.engine.status().clock_warning is None

    code = a.codes()[0]
    assert a.door().scan(code).verdict == "admitted"
    time.sleep(SCAN_GAP_S)  # clearly later in corrected time
    assert b.door().scan(code).verdict == "admitted"  # offline from each other
    b.engine.sync_once()  # B's (later by its clock) scan reaches the server first
    a.engine.sync_once()
    b.engine.sync_once()
    server = world.server_checkins()
    assert [r["gate"] for r in server] == ["North", "South"]  # ordered by device time
    assert [r["double_entry"] for r in server] == [False, True]
    with b.db.session() as session:
        (double,) = reports.double_entries(session, world.event_id)
    assert (double.first.gate, double.second.gate) == ("North", "South")
    assert double.second.scanned_at - double.first.scanned_at > timedelta(minutes=9)


def test_pull_never_overwrites_a_pending_local_edit(world):
    kiosk = world.kiosk("Desk", staff_role="organizer")
    kiosk.engine.sync_once()
    with kiosk.db.session() as session:
        attendee = session.scalars(select(Attendee).order_by(Attendee.id)).first()
        attendee.notes = "Wheelchair user: use the side door"
        record(session, attendee, "update", fields=["notes"])
        attendee_id = attendee.id
    world.sdb.execute("update attendees set company = 'Atelier Nord' where id = %s", (attendee_id,))

    report = kiosk.engine.pull()  # pull only: our edit is still queued
    assert report.skipped_pending == 1
    with kiosk.db.session() as session:
        row = session.get(Attendee, attendee_id)
        assert row.notes == "Wheelchair user: use the side door"

    kiosk.engine.sync_once()  # push (different columns merge), then pull the merged row
    assert kiosk.pending() == 0
    with kiosk.db.session() as session:
        row = session.get(Attendee, attendee_id)
        assert (row.notes, row.company) == ("Wheelchair user: use the side door", "Atelier Nord")


def test_conflicting_edit_keeps_the_loser_visible(world):
    kiosk = world.kiosk("Desk", staff_role="organizer")
    kiosk.engine.sync_once()
    with kiosk.db.session() as session:
        attendee = session.scalars(select(Attendee).order_by(Attendee.id)).first()
        attendee.notes = "kiosk says"
        record(session, attendee, "update", fields=["notes"])
        attendee_id = attendee.id
    world.sdb.execute("update attendees set notes = 'office says' where id = %s", (attendee_id,))

    report = kiosk.engine.sync_once()
    assert report.push.conflict == 1
    with kiosk.db.session() as session:
        assert session.get(Attendee, attendee_id).notes == "office says"  # the server won
        (conflict,) = reports.conflicts(session)
    assert ("notes", "kiosk says", "office says") in conflict.differences


def test_full_resync_keeps_the_outbox(world):
    kiosk = world.kiosk("Kiosk 1")
    kiosk.engine.sync_once()
    scan = kiosk.door().scan(kiosk.codes()[0])  # queued, not pushed
    with kiosk.db.session() as session:
        stray = Ticket(
            event_id=world.event_id,
            ticket_type_id=world.org.ticket_type_id,
            ticket_number="GHOST",
            qr_code_data="GHOST-1",
            server_version=1,
        )
        session.add(stray)  # a row the server does not have (e.g. restored from an old copy)
        from app.store.db import set_meta

        set_meta(session, META_CURSOR, "1:99999999999:0")  # a cursor the server cannot honour

    report = kiosk.engine.pull()
    assert report.resets == 1
    with kiosk.db.session() as session:
        assert session.get(Ticket, stray.id) is None
        assert session.get(Checkin, scan.checkin_id) is not None  # pending: kept
        assert len(session.scalars(select(Ticket)).all()) == 12
    assert kiosk.pending() == 1
    kiosk.engine.sync_once()
    assert kiosk.pending() == 0
    assert [str(r["id"]) for r in world.server_checkins()] == [scan.checkin_id]


def test_refused_edit_gets_the_server_state_the_pull_held_back(world):
    kiosk = world.kiosk("Desk", staff_role="organizer")
    kiosk.engine.sync_once()
    with kiosk.db.session() as session:
        attendee = session.scalars(select(Attendee).order_by(Attendee.id)).first()
        attendee.notes = "local note"
        entry = record(session, attendee, "update", fields=["notes"])
        # written by a buggy older version: a value the server must refuse
        entry.payload = {**entry.payload, "first_name": None}
        attendee_id = attendee.id
    world.sdb.execute("update attendees set company = 'Server Co' where id = %s", (attendee_id,))

    assert kiosk.engine.pull().skipped_pending == 1
    report = kiosk.engine.sync_once()
    assert report.push.rejected == 1
    with kiosk.db.session() as session:
        row = session.get(Attendee, attendee_id)
        assert (row.company, row.notes) == ("Server Co", None)  # the server's row, not ours
        assert len(reports.dead_letters(session)) == 1  # and the refused edit is shown


def test_a_kiosk_signed_in_under_another_role_gets_what_that_role_sees(world):
    from app.store.models import Model, RunwayAppearance

    backstage = world.sdb.create_backstage(world.org)
    kiosk = world.kiosk("Kiosk 1")
    kiosk.engine.sync_once()

    def counts() -> tuple[int, int, int]:
        with kiosk.db.session() as session:
            return tuple(
                len(session.scalars(select(model.id)).all())
                for model in (Ticket, Attendee, RunwayAppearance)
            )

    assert counts() == (12, 12, 0)
    # the same machine, now a producer's: the door's cursor has passed the lineup
    kiosk.engine.backend.close()
    kiosk.engine.backend = world.backend(kiosk.device_id, staff_role="producer")
    report = kiosk.engine.sync_once()
    assert report.pull.resets == 1
    assert counts() == (0, 0, len(backstage["appearances"]))
    # and back to the door
    kiosk.engine.backend.close()
    kiosk.engine.backend = world.backend(kiosk.device_id)
    assert kiosk.engine.sync_once().pull.resets == 1
    assert counts() == (12, 12, 0)
    with kiosk.db.session() as session:
        assert session.scalars(select(Model)).all() == []
    assert kiosk.engine.sync_once().pull.resets == 0


def test_a_ticket_moved_to_another_event_leaves_the_kiosks_of_this_one(world):
    kiosk = world.kiosk("Desk", staff_role="organizer")
    kiosk.engine.sync_once()
    second = world.sdb.create_event(world.org)
    moved = world.tickets[3]
    world.sdb.execute("UPDATE tickets SET event_id = %s WHERE id = %s", (second, moved))
    report = kiosk.engine.sync_once()
    assert report.pull.resets == 0 and report.pull.deleted == 1
    with kiosk.db.session() as session:
        assert session.get(Ticket, moved) is None
        assert len(session.scalars(select(Ticket.id)).all()) == 11
