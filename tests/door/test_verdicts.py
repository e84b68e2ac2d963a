"""Every verdict, decided by the real engine over a real replica (scan -> log -> verdict)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.domain.verdicts import Verdict
from app.store.models import Checkin, OutboxEntry, Ticket, TicketType
from app.store.types import new_id
from tests.door.conftest import make_event


def test_admitted_then_already_admitted_names_first_gate_and_device(door):
    ticket_id, qr = door.add_ticket(first="José", last="Núñez", notes="Wheelchair user")
    svc = door.service()
    first = svc.scan(qr)
    assert first.verdict is Verdict.ADMITTED and first.ok
    assert first.attendee_name == "José Núñez"
    assert first.tier == "general" and first.notes == "Wheelchair user"
    assert first.ticket_id == ticket_id and first.checkin_id
    svc.gate = "South door"
    again = svc.scan(qr)
    assert again.verdict is Verdict.ALREADY_ADMITTED and not again.ok
    assert again.headline == "ALREADY ADMITTED"
    assert again.first_gate == "North door" and again.first_device == "Kiosk 2"
    assert again.first_admitted_at == first.scanned_at
    assert "North door (Kiosk 2)" in again.detail


def test_exit_then_reentry_when_tier_allows_it(door):
    _, qr = door.add_ticket("general")
    svc = door.service()
    assert svc.scan(qr).verdict is Verdict.ADMITTED
    svc.direction = "out"
    assert svc.scan(qr).verdict is Verdict.EXIT_RECORDED
    svc.direction = "in"
    result = svc.scan(qr)
    assert result.verdict is Verdict.ADMITTED and "Re-entry" in result.detail


def test_no_reentry_tier_refuses_second_entry_after_exit(door):
    _, qr = door.add_ticket("vip")
    svc = door.service()
    assert svc.scan(qr).verdict is Verdict.ADMITTED
    svc.direction = "out"
    assert svc.scan(qr).verdict is Verdict.EXIT_RECORDED
    svc.direction = "in"
    result = svc.scan(qr)
    assert result.verdict is Verdict.ALREADY_ADMITTED and "no re-entry" in result.detail


def test_cancelled_and_refunded(door):
    _, cancelled = door.add_ticket(status="cancelled")
    _, refunded = door.add_ticket(status="refunded")
    svc = door.service()
    assert svc.scan(cancelled).verdict is Verdict.CANCELLED
    assert svc.scan(refunded).verdict is Verdict.REFUNDED


def test_wrong_event_with_valid_signature_of_another_known_event(db, door):
    other = make_event(db, "Other Show")
    _, qr = other.add_ticket()
    result = door.service().scan(qr)
    assert result.verdict is Verdict.WRONG_EVENT
    assert "Other Show" in result.detail


def test_token_of_unknown_event_is_wrong_event(door):
    from app.domain.tokens import generate_keypair, issue_token

    private, _ = generate_keypair()
    qr = issue_token(private, ticket_id=new_id(), event_id=new_id(), ticket_type_id=new_id())
    assert door.service().scan(qr).verdict is Verdict.WRONG_EVENT


def test_legacy_code_of_another_event_is_wrong_event(db, door):
    other = make_event(db, "Other Show")
    other.add_ticket(code="FW25-000001")
    assert door.service().scan("FW25-000001").verdict is Verdict.WRONG_EVENT


def test_wrong_gate_for_tier(door):
    _, qr = door.add_ticket("press")
    result = door.service(gate="North door").scan(qr)
    assert result.verdict is Verdict.WRONG_GATE_OR_TIER
    assert "Press desk" in result.detail
    assert door.service(gate="press desk").scan(qr).verdict is Verdict.ADMITTED


def test_not_yet_valid_and_expired_by_ticket_window(door):
    _, early = door.add_ticket(valid_from=door.now + timedelta(hours=1))
    _, late = door.add_ticket(valid_until=door.now - timedelta(minutes=5))
    svc = door.service()
    assert svc.scan(early).verdict is Verdict.NOT_YET_VALID
    assert svc.scan(late).verdict is Verdict.EXPIRED


def test_tier_entry_window_applies(door):
    _, qr = door.add_ticket("general")
    with door.db.session() as s:
        tt = s.get(TicketType, door.types["general"])
        tt.entry_starts_at = door.now + timedelta(minutes=30)
    assert door.service().scan(qr).verdict is Verdict.NOT_YET_VALID


def test_token_validity_window_applies_offline(door):
    ticket_id = new_id()  # not in the replica
    qr = door.token(ticket_id, valid_until=door.now - timedelta(hours=1))
    assert door.service().scan(qr).verdict is Verdict.EXPIRED


def test_unknown_legacy_and_sql_text(door):
    svc = door.service()
    assert svc.scan("FW26-999999").verdict is Verdict.UNKNOWN
    assert svc.scan("' OR 1=1; DROP TABLE tickets; --").verdict is Verdict.UNKNOWN
    with door.db.session() as s:
        assert s.scalar(select(Ticket.id).limit(1)) is None or True  # table still there


def test_legacy_plain_code_is_admitted_by_exact_lookup(door):
    door.add_ticket(code="FW26-004211")
    svc = door.service()
    assert svc.scan("FW26-004211").verdict is Verdict.ADMITTED
    assert svc.scan("fw26-004211").verdict is Verdict.UNKNOWN  # exact lookup only


def test_transferred_ticket_old_token_revoked_new_one_admits(door):
    ticket_id, old_qr = door.add_ticket(serial=1)
    new_qr = door.token(ticket_id, serial=2)
    with door.db.session() as s:
        t = s.get(Ticket, ticket_id)
        t.qr_code_data, t.token_serial, t.status = new_qr, 2, "transferred"
    door.revoke(ticket_id, 1, "transferred")
    svc = door.service()
    old = svc.scan(old_qr)
    assert old.verdict is Verdict.REVOKED and "transferred" in old.detail
    assert svc.scan(new_qr).verdict is Verdict.ADMITTED


def test_older_serial_is_revoked_even_before_the_revocation_list_syncs(door):
    ticket_id, _ = door.add_ticket(serial=3)
    assert door.service().scan(door.token(ticket_id, serial=2)).verdict is Verdict.REVOKED


def test_revoked_token_of_ticket_not_in_replica(door):
    ticket_id = new_id()
    door.revoke(ticket_id, 1, "reissued")
    assert door.service().scan(door.token(ticket_id)).verdict is Verdict.REVOKED


def test_revocation_for_cancellation_reads_cancelled(door):
    ticket_id = new_id()
    door.revoke(ticket_id, 1, "cancelled")
    assert door.service().scan(door.token(ticket_id)).verdict is Verdict.CANCELLED


def test_ticket_sold_after_last_sync_is_admitted_offline_on_signature(door):
    ticket_id = new_id()
    qr = door.token(ticket_id, "general")
    svc = door.service()
    result = svc.scan(qr)
    assert result.verdict is Verdict.ADMITTED and result.offline
    assert result.tier == "general" and result.ticket_id == ticket_id
    assert "signature" in result.detail
    assert svc.scan(qr).verdict is Verdict.ALREADY_ADMITTED  # local log counts


def test_unsynced_ticket_still_checked_against_gate(door):
    qr = door.token(new_id(), "press")
    assert door.service(gate="North door").scan(qr).verdict is Verdict.WRONG_GATE_OR_TIER


def test_forged_altered_truncated_and_foreign_key(door):
    from app.domain.tokens import generate_keypair, issue_token

    ticket_id, qr = door.add_ticket()
    svc = door.service()
    flipped = qr[:-3] + ("A" if qr[-3] != "A" else "B") + qr[-2:]
    assert svc.scan(flipped).verdict is Verdict.FORGED
    assert svc.scan(qr[:-5]).verdict is Verdict.FORGED
    stranger, _ = generate_keypair()
    fake = issue_token(
        stranger, ticket_id=ticket_id, event_id=door.event_id, ticket_type_id=door.types["vip"]
    )
    result = svc.scan(fake)
    assert result.verdict is Verdict.FORGED and result.headline == "INVALID CODE"
    assert svc.scan(qr).verdict is Verdict.ADMITTED  # the real one still works


def test_rotated_keys_both_verify(door):
    from app.domain.tokens import generate_keypair, issue_token
    from app.store.models import Event

    new_private, new_public = generate_keypair()
    with door.db.session() as s:
        s.get(Event, door.event_id).public_keys = [door.public_key, new_public]
    ticket_id = new_id()
    qr = issue_token(
        new_private,
        ticket_id=ticket_id,
        event_id=door.event_id,
        ticket_type_id=door.types["general"],
    )
    assert door.service().scan(qr).verdict is Verdict.ADMITTED
    _, old_qr = door.add_ticket()
    assert door.service().scan(old_qr).verdict is Verdict.ADMITTED


def test_unreadable(door):
    svc = door.service()
    for code in ("", "   ", None, b"\xff\xfe\x00", "abc\x00def", "\x1b[31mred"):
        result = svc.scan(code)
        assert result.verdict is Verdict.UNREADABLE, code
        assert result.headline == "UNREADABLE"


def test_newer_token_format_is_unknown_with_advice(door):
    result = door.service().scan("SD3.AAAAAAAA")
    assert result.verdict is Verdict.UNKNOWN and "newer" in result.detail


def test_annulled_admission_does_not_count(door):
    _, qr = door.add_ticket("vip")
    svc = door.service()
    first = svc.scan(qr)
    svc.annul(first.checkin_id, "turnstile did not turn")
    again = svc.scan(qr)
    assert again.verdict is Verdict.ADMITTED
    with door.db.session() as s:
        annul = s.scalars(select(Checkin).where(Checkin.kind == "annul")).one()
        assert annul.annuls_checkin_id == first.checkin_id
        assert annul.reason == "turnstile did not turn"
        queued = s.scalars(select(OutboxEntry.row_id)).all()
        assert annul.id in queued


def test_exit_without_entry_is_recorded_with_a_note(door):
    _, qr = door.add_ticket()
    result = door.service(direction="out").scan(qr)
    assert result.verdict is Verdict.EXIT_RECORDED and "no entry" in result.detail


def test_manual_checkin_by_ticket_id(door):
    ticket_id, qr = door.add_ticket(status="valid")
    svc = door.service()
    result = svc.checkin_ticket(ticket_id)
    assert result.verdict is Verdict.ADMITTED and result.ticket_id == ticket_id
    assert svc.scan(qr).verdict is Verdict.ALREADY_ADMITTED
    assert svc.checkin_ticket(new_id()).verdict is Verdict.UNKNOWN
    with door.db.session() as s:
        row = s.get(Checkin, result.checkin_id)
        assert row.method == "manual" and row.raw_code.startswith("manual:")


def test_detail_times_are_in_event_timezone(door):
    from zoneinfo import ZoneInfo

    _, qr = door.add_ticket()
    svc = door.service()
    first = svc.scan(qr)
    again = svc.scan(qr)
    local = first.scanned_at.astimezone(ZoneInfo("Europe/Paris")).strftime("%H:%M")
    assert local in again.detail
