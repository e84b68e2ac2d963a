"""Attendees' personal data forgotten N days after their event ends: gone from the file (free
pages and WAL included), counts and the check-in log kept, nothing pushed, nothing pulled back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from app.store.db import Database, open_database, set_meta
from app.store.models import (
    Attendee,
    Checkin,
    Event,
    Order,
    Organization,
    OutboxEntry,
    Ticket,
    TicketType,
)
from app.store.replica_writer import write_changes
from app.store.retention import (
    DEFAULT_RETENTION_DAYS,
    META_DAYS,
    purge_personal_data,
    retention_days,
)
from app.store.search import search_tickets

NOW = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)
# Made-up words that appear nowhere else in the file but in these guests' rows.
GUESTS = [
    ("Zephyrine", "Quillfeather", "zephyrine.q@retention-test.example", "+33 6 91 82 73 64"),
    ("Bartholdo", "Vexlanrig", "b.vexlanrig@retention-test.example", "+49 151 2233 4455"),
    ("Ysolde", "Marrowglen", "ysolde@retention-test.example", "+44 7700 900 612"),
]
BUYER = ("Octavian Plumbrake", "octavian.plumbrake@retention-test.example")
LATER_GUEST = ("Ferdinanda", "Grisewald", "ferdi.g@retention-test.example", "+39 333 123 4567")


def _personal() -> list[bytes]:
    """Lower-cased: the full-text index keeps its words folded."""
    words = [w for g in GUESTS for w in g] + list(BUYER)
    return [w.lower().encode() for w in words]


def _file_bytes(path: Path) -> bytes:
    """The database and its WAL, lower-cased."""
    files = sorted(p for p in path.parent.glob(path.name + "*") if p.is_file())
    return b"".join(p.read_bytes() for p in files).lower()


def _event(db: Database, name: str, ends_at: datetime, guests) -> tuple[str, list[str]]:
    """An event with one order, a ticket per guest, and a check-in log (two scans and a
    refused one). Rows written as a sync would: nothing queued. Returns (event id, ticket ids)."""
    with db.session() as s:
        org = Organization(name=f"{name} House", slug=name.lower())
        s.add(org)
        s.flush()
        event = Event(
            organization_id=org.id,
            name=name,
            slug=name.lower(),
            starts_at=ends_at - timedelta(hours=5),
            ends_at=ends_at,
        )
        s.add(event)
        s.flush()
        kind = TicketType(event_id=event.id, name="General", tier="general", price=Decimal(10))
        order = Order(
            event_id=event.id,
            order_number=f"{name[:3].upper()}-1001",
            buyer_name=BUYER[0] if guests is GUESTS else "Kept Buyer",
            buyer_email=BUYER[1] if guests is GUESTS else "kept@buyer.example",
        )
        s.add_all([kind, order])
        s.flush()
        tickets = []
        for i, (first, last, email, phone) in enumerate(guests):
            person = Attendee(
                event_id=event.id,
                first_name=first,
                last_name=last,
                email=email,
                phone=phone,
                company=f"{last} Atelier",
                notes=f"call {first} on arrival",
            )
            s.add(person)
            s.flush()
            ticket = Ticket(
                event_id=event.id,
                ticket_type_id=kind.id,
                attendee_id=person.id,
                order_id=order.id,
                ticket_number=f"{name[:3].upper()}-{i:06d}",
                qr_code_data=f"LEGACY-{name}-{i}",
            )
            s.add(ticket)
            s.flush()
            tickets.append(ticket.id)
        for ticket_id, verdict in zip(
            tickets, ("admitted", "admitted", "wrong_gate"), strict=False
        ):
            s.add(
                Checkin(
                    event_id=event.id,
                    ticket_id=ticket_id,
                    device_id="dev-1",
                    verdict=verdict,
                    scanned_at=ends_at - timedelta(hours=2),
                    raw_code=f"LEGACY-{name}",
                )
            )
        return event.id, tickets


def _counts(db: Database, event_id: str) -> dict[str, object]:
    with db.session() as s:
        log = s.execute(
            select(Checkin.ticket_id, Checkin.verdict, Checkin.scanned_at)
            .where(Checkin.event_id == event_id)
            .order_by(Checkin.ticket_id)
        ).all()
        return {
            "tickets": s.scalar(select(func.count(Ticket.id)).where(Ticket.event_id == event_id)),
            "attendees": s.scalar(
                select(func.count(Attendee.id)).where(Attendee.event_id == event_id)
            ),
            "orders": s.scalar(select(func.count(Order.id)).where(Order.event_id == event_id)),
            "log": [tuple(r) for r in log],
        }


def _outbox(db: Database) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(OutboxEntry)) or 0


@pytest.fixture
def plain(tmp_path: Path):
    """A plain replica whose connections start with secure_delete off, as SQLCipher's and many
    SQLite builds do (Debian's turns it on by default, which would hide a missing wipe)."""
    database = open_database(tmp_path / "kiosk.sqlite", encrypt=False)
    database.engine.dispose()
    event.listen(
        database.engine,
        "connect",
        lambda conn, _record: conn.execute("PRAGMA secure_delete = OFF"),
    )
    yield database
    database.close()


def test_finished_event_forgets_names_emails_phones_in_the_file(plain: Database) -> None:
    db = plain
    old, _ = _event(db, "Gala", NOW - timedelta(days=8), GUESTS)
    current, _ = _event(db, "Soiree", NOW - timedelta(days=2), [LATER_GUEST])
    with db.session() as s:
        assert search_tickets(s, old, "Quillfeather")  # findable before
    before = _counts(db, old)
    with db.engine.connect() as conn:  # everything on disk first, so the grep below is fair
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = _file_bytes(db.path)
    assert all(word in raw for word in _personal())

    report = purge_personal_data(db, now=NOW)

    assert report.events == [old] and report.attendees == 3 and report.orders == 1
    assert _outbox(db) == 0  # local forgetting: nothing to push
    assert _counts(db, old) == before  # counts and the check-in log with ticket ids
    raw = _file_bytes(db.path)  # database and WAL, connections still open
    assert [w for w in _personal() if w in raw] == []
    for word in LATER_GUEST:  # the event that ended 2 days ago is untouched
        assert word.lower().encode() in raw
    with db.session() as s:
        assert search_tickets(s, old, "Quillfeather") == []
        assert search_tickets(s, old, "GAL-000001")  # still found by number
        assert search_tickets(s, current, "Grisewald")
    db.close()
    assert [w for w in _personal() if w in _file_bytes(db.path)] == []

    reopened = open_database(db.path, encrypt=False)
    try:
        again = purge_personal_data(reopened, now=NOW)
        assert again.events == [] and not again.changed
    finally:
        reopened.close()


def test_an_encrypted_replica_is_purged_too(tmp_path: Path) -> None:
    db = open_database(tmp_path / "kiosk.sqlite", key=bytes(range(32)))
    try:
        old, _ = _event(db, "Gala", NOW - timedelta(days=8), GUESTS)
        before = _counts(db, old)
        assert purge_personal_data(db, now=NOW).events == [old]
        assert _counts(db, old) == before and _outbox(db) == 0
        with db.session() as s:
            assert search_tickets(s, old, "Quillfeather") == []
            names = s.execute(select(Attendee.first_name, Attendee.email)).all()
            assert set(names) == {("", None)}
    finally:
        db.close()


def test_a_later_pull_does_not_bring_a_forgotten_event_back(plain: Database) -> None:
    db = plain
    event_id, tickets = _event(db, "Gala", NOW - timedelta(days=30), GUESTS)
    purge_personal_data(db, now=NOW)
    with db.session() as s:
        attendee_id = s.scalar(select(Ticket.attendee_id).where(Ticket.id == tickets[0]))
        first, last, email, phone = GUESTS[0]
        row = {
            "id": attendee_id,
            "event_id": event_id,
            "first_name": first,
            "last_name": last,
            "email": email,
            "phone": phone,
            "company": "Back Again",
            "notes": None,
            "updated_at": "2026-12-03T06:10:00+00:00",
        }
        new_row = dict(row, id="a0000000-0000-0000-0000-000000000001", first_name="Newcomer")
        write_changes(s, {"attendees": [(row, 41), (new_row, 42)]}, {})
    with db.session() as s:
        people = s.scalars(select(Attendee).where(Attendee.event_id == event_id)).all()
        assert len(people) == 4
        assert {(p.first_name, p.last_name, p.email, p.phone, p.company) for p in people} == {
            ("", "", None, None, None)
        }
        assert search_tickets(s, event_id, "Quillfeather") == []
    assert _outbox(db) == 0


def test_an_event_with_queued_attendee_edits_waits_for_the_upload(plain: Database) -> None:
    from app.store import outbox

    db = plain
    event_id, tickets = _event(db, "Gala", NOW - timedelta(days=9), GUESTS)
    with db.session() as s:
        person = s.scalars(select(Attendee).where(Attendee.event_id == event_id)).first()
        assert person is not None
        person.notes = "left a coat"
        outbox.record(s, person, "update")
    report = purge_personal_data(db, now=NOW)
    assert (
        report.events == [] and report.deferred == [event_id] and "next sync" in (report.sentence())
    )
    with db.session() as s:
        assert s.scalar(select(func.count()).where(Attendee.first_name == "Zephyrine")) == 1
        s.execute(OutboxEntry.__table__.delete())  # the push answered it
    assert purge_personal_data(db, now=NOW).events == [event_id]


def test_the_number_of_days_is_the_organizers(plain: Database) -> None:
    db = plain
    event_id, _ = _event(db, "Gala", NOW - timedelta(days=8), GUESTS)
    with db.session() as s:
        assert retention_days(s) == DEFAULT_RETENTION_DAYS == 7
        set_meta(s, META_DAYS, "10")
    with db.session() as s:
        assert retention_days(s) == 10
        assert retention_days(s, 3) == 3
    assert purge_personal_data(db, now=NOW).events == []  # 8 days < the organizer's 10
    assert purge_personal_data(db, now=NOW, days=8).events == [event_id]


def _own_days(db: Database, event_id: str, days: int | None) -> None:
    """The organizer's number of days for one event, as a pull writes it."""
    with db.session() as s:
        row = s.get(Event, event_id)
        assert row is not None
        row.retention_days = days


def test_an_events_own_number_of_days_wins_over_the_kiosks(plain: Database) -> None:
    db = plain
    guests = [("Ana", "Kept", None, None)]
    kept_long, _ = _event(db, "Biennale", NOW - timedelta(days=8), guests)  # own 30: kept
    short, _ = _event(db, "Popup", NOW - timedelta(days=4), guests)  # own 3: forgotten
    zero, _ = _event(db, "Flash", NOW - timedelta(hours=1), guests)  # own 0: forgotten
    kiosk_old, _ = _event(db, "Gala", NOW - timedelta(days=8), GUESTS)  # none: kiosk's 7
    kiosk_new, _ = _event(db, "Soiree", NOW - timedelta(days=5), [LATER_GUEST])  # none: kept
    _own_days(db, kept_long, 30)
    _own_days(db, short, 3)
    _own_days(db, zero, 0)

    report = purge_personal_data(db, now=NOW)

    assert sorted(report.events) == sorted([short, zero, kiosk_old])
    assert report.days == 7 and report.organizer_days == {short: 3, zero: 0}
    sentence = report.sentence()
    assert "0, 3 days (set by the organizer for 2 event(s)" in sentence
    assert "this kiosk's 7 days for the rest" in sentence
    with db.session() as s:
        names = {
            e: {a.first_name for a in s.scalars(select(Attendee).where(Attendee.event_id == e))}
            for e in (kept_long, short, zero, kiosk_old, kiosk_new)
        }
    assert names == {
        kept_long: {"Ana"},
        short: {""},
        zero: {""},
        kiosk_old: {""},
        kiosk_new: {LATER_GUEST[0]},
    }


def test_an_event_without_its_own_number_falls_back_to_the_kiosks(plain: Database) -> None:
    db = plain
    event_id, _ = _event(db, "Gala", NOW - timedelta(days=8), GUESTS)
    with db.session() as s:
        set_meta(s, META_DAYS, "10")
    _own_days(db, event_id, None)
    assert purge_personal_data(db, now=NOW).events == []  # 8 days < the kiosk's 10
    _own_days(db, event_id, 8)  # the organizer's number arrives with a pull
    report = purge_personal_data(db, now=NOW)
    assert report.events == [event_id] and report.organizer_days == {event_id: 8}
    assert "ended more than 8 days (set by the organizer for 1 event(s))" in report.sentence()


def test_the_kiosks_number_alone_keeps_the_plain_sentence(plain: Database) -> None:
    db = plain
    _event(db, "Gala", NOW - timedelta(days=8), GUESTS)
    report = purge_personal_data(db, now=NOW)
    assert report.organizer_days == {}
    assert "event(s) that ended more than 7 days ago;" in report.sentence()


def test_the_app_forgets_at_start_with_the_settings_number_of_days(plain: Database) -> None:
    """open_context (the app's start) stores the organizer's number of days for the sync runner
    and runs the purge on the DB worker."""
    from app.config import Config
    from app.ui import tasks
    from app.ui.main import open_context

    ended_long_ago = datetime.now(UTC) - timedelta(days=40)
    event_id, _tickets = _event(plain, "Finished", ended_long_ago, GUESTS)
    path = Path(plain.path)
    plain.close()
    ctx = open_context(Config(db=path, event_id=event_id, retention_days=30))
    try:
        tasks.run_db(lambda: None).result(timeout=60)  # the purge was queued before this
        with ctx.db.session() as s:
            assert retention_days(s) == 30
            names = s.scalars(select(Attendee.first_name).where(Attendee.event_id == event_id))
            assert set(names) <= {""}, "the finished event's guests were not forgotten"
    finally:
        tasks.shutdown(wait=True)
        ctx.db.close()
