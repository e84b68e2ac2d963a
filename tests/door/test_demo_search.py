"""Demo data shape, and search: accents, case, prefixes, numbers, ranking, index upkeep."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text

from app.domain.tokens import looks_like_ticket_code, parse_token
from app.domain.verdicts import Verdict
from app.store.checkin_service import CheckinService
from app.store.db import get_meta
from app.store.models import (
    Attendee,
    CallTime,
    Checkin,
    Event,
    EventSigningKey,
    Look,
    Model,
    OutboxEntry,
    Person,
    RevokedToken,
    RunwayAppearance,
    RunwaySegment,
    Ticket,
    TicketType,
)
from app.store.search import rebuild_search_index, search_tickets


def test_demo_shape(demo_db):
    db, event_id = demo_db
    now = datetime.now(UTC)
    with db.session() as s:
        assert get_meta(s, "event_id") == event_id
        event = s.get(Event, event_id)
        assert event.timezone == "Europe/Paris" and event.public_keys
        assert event.doors_open_at <= now <= event.ends_at
        assert event.starts_at.astimezone(ZoneInfo(event.timezone)).hour == 20
        types = s.scalars(select(TicketType).where(TicketType.event_id == event_id)).all()
        assert {t.tier for t in types} >= {"general", "premium", "vip", "press", "comp"}
        live = [t for t in types if not t.name.startswith("Afterparty")]
        assert all(t.entry_starts_at <= now <= t.entry_ends_at for t in live)
        assert any(t.allowed_gates == ["Press desk"] for t in types)
        statuses = Counter(s.scalars(select(Ticket.status)).all())
        assert sum(statuses.values()) == 2000
        assert 20 <= statuses["cancelled"] <= 110 and 10 <= statuses["refunded"] <= 80
        assert 5 <= statuses["transferred"] <= 45
        revoked = Counter(s.scalars(select(RevokedToken.reason)).all())
        assert revoked["transferred"] == statuses["transferred"]
        assert revoked["cancelled"] == statuses["cancelled"]
        codes = s.scalars(select(Ticket.qr_code_data)).all()
        legacy = [c for c in codes if not looks_like_ticket_code(c)]
        assert 3 <= len(legacy) <= 20 and all(c.startswith("FW26-") for c in legacy)
        signed = parse_token(next(c for c in codes if looks_like_ticket_code(c)), event.public_keys)
        assert signed.event_id == event_id
        assert s.get(EventSigningKey, event_id) is not None
        assert (
            s.scalar(select(func.count()).select_from(Attendee).where(Attendee.notes.is_not(None)))
            > 0
        )
        assert s.scalar(select(func.count()).select_from(Checkin)) > 50
        assert s.scalar(select(func.count()).select_from(OutboxEntry)) == 0  # baseline, not local
        assert set(s.scalars(select(Ticket.server_version)).all()) == {0}
        assert s.scalar(select(func.count()).select_from(RunwaySegment)) == 3
        assert s.scalar(select(func.count()).select_from(Look)) == 36
        assert s.scalar(select(func.count()).select_from(Model)) == 30
        walks = s.scalars(select(RunwayAppearance)).all()
        assert len(walks) == 36 and sum(w.is_opening for w in walks) == 1
        assert sum(w.is_closing for w in walks) == 1
        assert max(Counter(w.model_id for w in walks).values()) == 2
        people = s.scalars(select(Person)).all()
        assert 55 <= len(people) <= 70 and all(p.badge_code.startswith("SDB.") for p in people)
        calls = s.scalars(select(CallTime)).all()
        assert any(c.call_at for c in calls) and any(c.offset_minutes is not None for c in calls)
        assert any(c.arrived_at for c in calls) and any(c.confirmed_at for c in calls)


def test_demo_is_live_at_the_door(demo_db):
    db, event_id = demo_db
    with db.session() as s:
        general = s.scalar(select(TicketType.id).where(TicketType.name == "General Admission"))
        code = s.scalar(
            select(Ticket.qr_code_data)
            .outerjoin(Checkin, Checkin.ticket_id == Ticket.id)
            .where(Ticket.ticket_type_id == general, Ticket.status == "valid", Checkin.id.is_(None))
            .limit(1)
        )
    svc = CheckinService(db, event_id, "dev", gate="North door")
    assert svc.scan(code).verdict is Verdict.ADMITTED
    counters = svc.counters()
    assert counters.admitted > 50 and counters.expected > 1800
    assert len(svc.recent(20)) == 20


def _add_named(db, event_id, first, last, number, company=None):
    from app.store.types import new_id

    with db.session() as s:
        type_id = s.scalar(select(TicketType.id).where(TicketType.event_id == event_id).limit(1))
        attendee = Attendee(event_id=event_id, first_name=first, last_name=last, company=company)
        s.add(attendee)
        s.flush()
        ticket = Ticket(
            event_id=event_id,
            ticket_type_id=type_id,
            attendee_id=attendee.id,
            ticket_number=number,
            qr_code_data=f"TEST-{new_id()}",
        )
        s.add(ticket)
        s.flush()
        return ticket.id, attendee.id


def test_search_is_accent_and_case_insensitive(demo_db):
    db, event_id = demo_db
    jose, _ = _add_named(db, event_id, "José", "Quiñonez", "ZZ-000001")
    muller, _ = _add_named(db, event_id, "Greta", "Müller-Łukasz", "ZZ-000002")
    soren, _ = _add_named(db, event_id, "Søren", "Æbelø", "ZZ-000003")
    with db.session() as s:
        for query, wanted in [
            ("jose quin", jose),
            ("JOSÉ QUIÑ", jose),
            ("MULLER", muller),
            ("müll", muller),
            ("lukasz", muller),
            ("soren aebel", soren),
            ("SØREN", soren),
        ]:
            ids = [h.ticket_id for h in search_tickets(s, event_id, query)]
            assert wanted in ids, query


def test_search_numbers_exact_first_and_substring(demo_db):
    db, event_id = demo_db
    with db.session() as s:
        hits = search_tickets(s, event_id, "fw26-000123")
        assert hits[0].ticket_number == "FW26-000123"
        sub = search_tickets(s, event_id, "00123")
        assert "FW26-000123" in [h.ticket_number for h in sub]
        order = s.scalar(select(Ticket.order_id).where(Ticket.ticket_number == "FW26-000500"))
        from app.store.models import Order

        number = s.get(Order, order).order_number
        by_order = search_tickets(s, event_id, number)
        assert "FW26-000500" in [h.ticket_number for h in by_order[:4]]
        assert by_order[0].order_number == number


def test_search_ranks_name_prefix_before_other_matches(demo_db):
    db, event_id = demo_db
    company_hit, _ = _add_named(db, event_id, "Anna", "Berg", "ZZ-1", company="Zephyrine Studio")
    name_hit, _ = _add_named(db, event_id, "Zephyrine", "Moreau", "ZZ-2")
    with db.session() as s:
        ids = [h.ticket_id for h in search_tickets(s, event_id, "zephyr")]
    assert ids.index(name_hit) < ids.index(company_hit)


def test_search_index_follows_renames_and_deletes(demo_db):
    db, event_id = demo_db
    ticket_id, attendee_id = _add_named(db, event_id, "Oldname", "Person", "ZZ-9")
    with db.session() as s:
        assert [h.ticket_id for h in search_tickets(s, event_id, "oldname")] == [ticket_id]
        s.get(Attendee, attendee_id).first_name = "Newname"
    with db.session() as s:
        assert search_tickets(s, event_id, "oldname") == []
        assert [h.ticket_id for h in search_tickets(s, event_id, "newname pers")] == [ticket_id]
        s.get(Ticket, ticket_id).ticket_number = "QX-777123"
    with db.session() as s:
        assert [h.ticket_id for h in search_tickets(s, event_id, "77712")] == [ticket_id]
        assert search_tickets(s, event_id, "ZZ-9") == []
        s.delete(s.get(Ticket, ticket_id))
    with db.session() as s:
        assert search_tickets(s, event_id, "newname") == []
        assert rebuild_search_index(s) == 2000
        assert search_tickets(s, event_id, "fw26-000001")[0].ticket_number == "FW26-000001"


def test_search_reports_status_and_admission(demo_db):
    db, event_id = demo_db
    with db.session() as s:
        admitted = s.scalar(
            select(Ticket.ticket_number)
            .join(Checkin, Checkin.ticket_id == Ticket.id)
            .where(Checkin.verdict == "admitted")
            .limit(1)
        )
        cancelled = s.scalar(
            select(Ticket.ticket_number).where(Ticket.status == "cancelled").limit(1)
        )
        assert search_tickets(s, event_id, admitted)[0].admitted
        hit = search_tickets(s, event_id, cancelled)[0]
        assert hit.status == "cancelled" and hit.tier


def test_search_odd_input_is_harmless(demo_db):
    db, event_id = demo_db
    with db.session() as s:
        for query in [
            "",
            "   ",
            '"',
            "*",
            "NEAR(",
            "a AND OR",
            "^",
            "x" * 500,
            "%_\\",
            "\x00",
            "'; DROP TABLE tickets; --",
        ]:
            assert isinstance(search_tickets(s, event_id, query), list)
        assert len(search_tickets(s, event_id, "a", limit=5)) == 5
        assert s.scalar(select(func.count()).select_from(Ticket)) == 2000


def test_seeding_leaves_the_connections_as_it_found_them(db):
    from sqlalchemy import text

    from app.store.demo import seed_demo

    seed_demo(db, tickets=30, seed=1)
    for _ in range(3):
        with db.session() as s:
            assert s.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert s.execute(text("PRAGMA cache_size")).scalar() == -2000
            assert s.scalar(select(func.count()).select_from(Ticket)) == 30


def test_documents_fold_special_letters_only_where_there_are_some(demo_db):
    """The triggers skip the fold for plain-ASCII text; every document still equals the fold
    of its text (ß→ss, Ø→o, ...; accents stay for the FTS tokenizer to remove)."""
    from app.domain.text import SPECIAL_LETTERS

    db, event_id = demo_db
    names = [("Plain", "Ascii Name", "Atelier 7"), ("Søren", "Æbelø-Łódź", "Straße ÐÞı")]
    ids = [_add_named(db, event_id, first, last, f"ZZ-10{i}", company)[0]
           for i, (first, last, company) in enumerate(names)]  # fmt: skip
    table = str.maketrans(SPECIAL_LETTERS)
    with db.session() as s:
        for ticket_id, (first, last, company) in zip(ids, names, strict=True):
            name, doc_company = s.execute(
                text("SELECT name, company FROM ticket_search_docs WHERE ticket_id = :t"),
                {"t": ticket_id},
            ).one()
            assert name == f"{first} {last}".translate(table)
            assert doc_company == company.translate(table)


def test_documents_follow_text_edits_and_ignore_other_columns(demo_db):
    """Update triggers rebuild a ticket's document only when its text changed (sync upserts
    set every column): a new surname is found, a changed note leaves the document as it was."""
    from app.store.models import Attendee, Order, Ticket

    db, event_id = demo_db
    ticket_id, attendee_id = _add_named(db, event_id, "Ines", "Quarto", "ZZ-000201")

    def doc():
        with db.session() as s:
            return s.execute(
                text("SELECT id, name, numbers FROM ticket_search_docs WHERE ticket_id = :t"),
                {"t": ticket_id},
            ).one()

    def found(query):
        with db.session() as s:
            return ticket_id in [h.ticket_id for h in search_tickets(s, event_id, query)]

    before = doc()
    with db.session() as s:
        s.get(Attendee, attendee_id).notes = "VIP table 4"
        s.get(Ticket, ticket_id).status = "cancelled"
    assert doc() == before  # same row: not rebuilt
    with db.session() as s:
        s.get(Attendee, attendee_id).last_name = "Quintana"
    assert found("ines quintana") and not found("quarto")
    with db.session() as s:
        s.get(Ticket, ticket_id).ticket_number = "ZZ-000299"
        order = s.scalar(select(Order).where(Order.event_id == event_id).limit(1))
        s.get(Ticket, ticket_id).order_id = order.id
        order_number = order.order_number
    assert doc()[2] == f"ZZ-000299 {order_number}"
    assert found("000299")
    with db.session() as s:
        s.get(Order, order.id).order_number = "RENUMBERED-77"
    assert doc()[2] == "ZZ-000299 RENUMBERED-77"
