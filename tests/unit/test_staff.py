"""Staff sign-in (app.store.staff) and the audit trail (app.store.audit), on a real replica."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.store import calltimes_store, lineup_store
from app.store import staff as st
from app.store.audit import NO_STAFF, UNKNOWN_STAFF, audit_log, write_audit_csv
from app.store.checkin_service import CheckinService
from app.store.db import open_database
from app.store.demo import DEMO_PIN_HASHES, DEMO_PINS
from app.store.models import (
    CallTime,
    Checkin,
    Device,
    Event,
    Look,
    Organization,
    OutboxEntry,
    Person,
    RunwayAppearance,
    RunwaySegment,
    RunwayShow,
    Staff,
    Ticket,
    TicketType,
)

# What five wrong PINs in a row say, a badge's or the kiosk PIN (one count for both).
FIVE_WRONG_PINS = [
    "Wrong PIN — 4 tries left",
    "Wrong PIN — 3 tries left",
    "Wrong PIN — 2 tries left",
    "Wrong PIN — 1 try left",
    "Too many wrong PINs — try again in 60 s",
]
NOW = datetime(2026, 12, 3, 19, 0, tzinfo=UTC)
# one hash for the whole module: each costs ~0.1 s
DOOR_HASH = DEMO_PIN_HASHES["door"]
DOOR_PIN = DEMO_PINS["door"]


def _world(db) -> dict[str, str]:
    with db.session() as s:
        org = Organization(name="Maison Test", slug="maison-test")
        s.add(org)
        s.flush()
        event = Event(
            organization_id=org.id,
            name="Show",
            slug="show",
            starts_at=NOW,
            ends_at=NOW + timedelta(hours=4),
        )
        other_event = Event(
            organization_id=org.id,
            name="Encore",
            slug="encore",
            starts_at=NOW,
            ends_at=NOW + timedelta(hours=4),
        )
        s.add_all([event, other_event])
        s.flush()
        device = Device(organization_id=org.id, name="Kiosk 1", gate="North")
        s.add(device)
        tier = TicketType(event_id=event.id, name="General", tier="general")
        s.add(tier)
        s.flush()
        tickets = [
            Ticket(
                event_id=event.id,
                ticket_type_id=tier.id,
                ticket_number=f"FW25-00000{i}",
                qr_code_data=f"FW25-00000{i}",
            )
            for i in (1, 2)
        ]
        s.add_all(tickets)
        rows = {
            "camille": Staff(
                organization_id=org.id,
                event_id=event.id,
                name="Camille",
                role="door",
                pin_hash=DOOR_HASH,
                badge_code=st.new_badge_code(),
            ),
            "gone": Staff(
                organization_id=org.id,
                event_id=None,
                name="Gone",
                role="door",
                pin_hash=DOOR_HASH,
                badge_code=st.new_badge_code(),
                disabled_at=NOW - timedelta(hours=1),
            ),
            "nopin": Staff(
                organization_id=org.id,
                name="No Pin",
                role="door",
                badge_code=st.new_badge_code(),
            ),
            "encore": Staff(
                organization_id=org.id,
                event_id=other_event.id,
                name="Encore crew",
                role="door",
                pin_hash=DOOR_HASH,
                badge_code=st.new_badge_code(),
            ),
        }
        s.add_all(rows.values())
        s.flush()
        out = {k: v.id for k, v in rows.items()}
        out.update({f"{k}_badge": v.badge_code for k, v in rows.items()})
        out.update(event=event.id, device=device.id, org=org.id)
        out.update(ticket1=tickets[0].id, ticket2=tickets[1].id)
        return out


# --- PINs -----------------------------------------------------------------------------------


def test_hash_is_argon2id_and_verifies_only_the_right_pin():
    h = st.hash_pin("2580")
    assert h.startswith("$argon2id$v=19$m=49152,t=2,p=1$")
    assert "2580" not in h
    assert st.verify_pin(h, "2580")
    assert not st.verify_pin(h, "2581")
    assert not st.verify_pin(h, "02580")
    assert st.hash_pin("2580") != h  # salted


@pytest.mark.parametrize(
    "pin", ["123", "1234567", "12a4", "", " 2580", "0000", "999999", "1234", "98765", "012345"]
)
def test_bad_and_trivial_pins_are_refused(pin):
    assert st.pin_problem(pin) is not None
    with pytest.raises(st.PinProblem):
        st.hash_pin(pin)


@pytest.mark.parametrize("pin", ["2468", "1357", "1243", "090909", "13579"])
def test_ordinary_pins_are_taken(pin):
    assert st.pin_problem(pin) is None


def test_hashes_a_kiosk_will_not_pay_for_or_cannot_read_are_a_wrong_pin():
    costly = DOOR_HASH.replace("m=49152", "m=4194304")
    assert costly != DOOR_HASH
    assert not st.hash_within_limits(costly)
    assert not st.verify_pin(costly, DOOR_PIN)
    assert not st.verify_pin("2468", "2468")  # a plain PIN in the column
    assert not st.verify_pin(DOOR_HASH.replace("argon2id", "argon2i"), DOOR_PIN)
    assert not st.verify_pin(None, DOOR_PIN)
    assert st.verify_pin(DOOR_HASH, DOOR_PIN)


def test_demo_hashes_match_the_documented_pins():
    for role, pin in DEMO_PINS.items():
        assert st.verify_pin(DEMO_PIN_HASHES[role], pin), role
        assert st.pin_problem(pin) is None


def test_set_pin_hashes_and_queues_only_the_hash(db):
    w = _world(db)
    with db.session() as s:
        st.set_pin(s, w["nopin"], "7315")
    with db.session() as s:
        row = s.get(Staff, w["nopin"])
        assert st.verify_pin(row.pin_hash, "7315")
        entry = s.scalars(select(OutboxEntry).where(OutboxEntry.row_id == w["nopin"])).one()
        assert set(entry.payload) == {"id", "pin_hash"}
        assert "7315" not in str(entry.payload)
    with db.session() as s, pytest.raises(st.PinProblem):
        st.set_pin(s, w["nopin"], "1111")


# --- sign-in --------------------------------------------------------------------------------


def test_sign_in_with_badge_and_pin(db):
    w = _world(db)
    with db.session() as s:
        got = st.sign_in(
            s, st.badge_payload(w["camille_badge"]), DOOR_PIN, NOW, event_id=w["event"]
        )
    assert got.ok
    assert got.staff is not None
    assert (got.staff.staff_id, got.staff.name, got.staff.role) == (w["camille"], "Camille", "door")


def test_sign_in_sentences(db):
    w = _world(db)
    with db.session() as s:
        assert st.sign_in(s, "SDS1:" + "0" * 32, DOOR_PIN, NOW).message == "Unknown badge"
        assert st.sign_in(s, "not a badge", DOOR_PIN, NOW).message == "Unknown badge"
        gone = st.sign_in(s, st.badge_payload(w["gone_badge"]), DOOR_PIN, NOW)
        assert not gone.ok
        assert gone.message == "This badge was disabled on 3 Dec 2026 at 18:00 UTC"
        nopin = st.sign_in(s, st.badge_payload(w["nopin_badge"]), DOOR_PIN, NOW)
        assert nopin.message.startswith("No PIN is set")
        encore = st.sign_in(s, w["encore_badge"], DOOR_PIN, NOW, event_id=w["event"])
        assert encore.message == "This badge is for another event"
        wrong = st.sign_in(s, w["camille_badge"], "9999", NOW)
        assert (wrong.ok, wrong.message, wrong.tries_left) == (False, "Wrong PIN — 4 tries left", 4)


def test_five_wrong_pins_lock_the_kiosk_for_60_s_even_across_a_restart(db_path: Path):
    db = open_database(db_path)
    w = _world(db)
    badge = st.badge_payload(w["camille_badge"])
    messages = []
    with db.session() as s:
        for _ in range(5):
            messages.append(st.sign_in(s, badge, "9999", NOW).message)
    assert messages == FIVE_WRONG_PINS
    db.close()

    db = open_database(db_path)  # the app restarted
    try:
        with db.session() as s:
            later = NOW + timedelta(seconds=20)
            got = st.sign_in(s, badge, DOOR_PIN, later)  # the right PIN is not even tried
            assert (got.ok, got.message) == (False, "Too many wrong PINs — try again in 40 s")
            assert st.locked_for(s, later) == 40
        with db.session() as s:
            after = NOW + timedelta(seconds=61)
            assert st.locked_for(s, after) == 0
            assert st.sign_in(s, badge, DOOR_PIN, after).ok
            # a success resets the count
            assert st.sign_in(s, badge, "9999", after).message == "Wrong PIN — 4 tries left"
    finally:
        db.close()


def test_a_clock_that_went_back_does_not_lock_the_kiosk_for_longer(db):
    w = _world(db)
    with db.session() as s:
        for _ in range(5):
            st.sign_in(s, w["camille_badge"], "9999", NOW)
        back = NOW - timedelta(hours=3)
        assert st.sign_in(s, w["camille_badge"], DOOR_PIN, back).message.endswith("60 s")
        assert st.sign_in(s, w["camille_badge"], DOOR_PIN, back + timedelta(seconds=61)).ok


def test_disabling_takes_effect_offline_and_ends_a_session(db):
    w = _world(db)
    with db.session() as s:
        signed = st.sign_in(s, w["camille_badge"], DOOR_PIN, NOW).staff
        assert signed is not None
        assert st.still_allowed(s, signed, NOW)
        # what a pull writes when an organizer disables Camille
        s.get(Staff, w["camille"]).disabled_at = NOW + timedelta(minutes=1)
    with db.session() as s:
        later = NOW + timedelta(minutes=2)
        assert not st.still_allowed(s, signed, later)
        got = st.sign_in(s, w["camille_badge"], DOOR_PIN, later)
        assert got.message == "This badge was disabled on 3 Dec 2026 at 19:01 UTC"


def test_idle_lock_rule():
    start = NOW
    assert not st.should_lock(start, start + timedelta(seconds=299))
    assert st.should_lock(start, start + timedelta(seconds=300))
    assert st.should_lock(start, start + timedelta(seconds=61), idle_seconds=60)
    assert not st.should_lock(start, start - timedelta(hours=1))  # clock went back
    assert not st.should_lock(start, start + timedelta(days=1), idle_seconds=0)
    assert st.seconds_until_lock(start, start + timedelta(seconds=100)) == 200
    assert st.seconds_until_lock(start, start + timedelta(seconds=400)) == 0
    assert st.seconds_until_lock(start, start, idle_seconds=None) is None


# --- badges ---------------------------------------------------------------------------------


def test_parse_badge_is_strict():
    code = st.new_badge_code()
    assert len(code) == 32 and int(code, 16) >= 0
    assert st.parse_badge(f"SDS1:{code}") == code
    assert st.parse_badge(f"  SDS1:{code.upper()}\r\n") == code
    assert st.parse_badge(f"SDS1:{code}".encode()) == code
    for bad in (code, f"sds1:{code}", f"SDS1:{code[:-1]}", f"SDS1:{code}0", f"SDS1:{code} x",
                f"SDS2:{code}", "SDS1:" + "g" * 32, None, b"\xff\xfe", 42):  # fmt: skip
        assert st.parse_badge(bad) is None, bad  # type: ignore[arg-type]


def test_badge_qr_round_trips_through_the_apps_decoder(tmp_path: Path):
    from app.scan.decoders import decode_image_file

    badge = Staff(organization_id="o", name="Camille", role="door", badge_code=st.new_badge_code())
    png = st.badge_png(badge, 240)
    assert png.startswith(b"\x89PNG")
    from PIL import Image

    path = tmp_path / "badge.png"
    path.write_bytes(png)
    assert Image.open(path).size == (240, 240)
    text = decode_image_file(path)
    assert text == f"SDS1:{badge.badge_code}"
    assert st.parse_badge(text) == badge.badge_code
    with pytest.raises(ValueError):
        st.badge_png(Staff(organization_id="o", name="X", role="door", badge_code=None))


# --- audit ----------------------------------------------------------------------------------


def test_checkins_and_annulments_record_who_and_the_audit_reads_them_back(db, tmp_path):
    w = _world(db)
    clock = iter(NOW + timedelta(minutes=i) for i in range(100))
    service = CheckinService(db, w["event"], w["device"], gate="North", clock=lambda: next(clock))
    before = service.scan("nothing we know")  # nobody signed in yet
    service.staff_id = w["camille"]
    first = service.checkin_ticket(w["ticket1"])
    assert first.verdict.value == "admitted", first
    service.annul(first.checkin_id, '=HYPERLINK("http://x")')
    service.staff_id = "3f0e4c0e-1111-4111-8111-111111111111"  # a row not in the replica
    service.checkin_ticket(w["ticket2"])

    with db.session() as s:
        rows = audit_log(s, w["event"])
        assert [r.staff_name for r in rows] == [NO_STAFF, "Camille", "Camille", UNKNOWN_STAFF]
        assert [r.kind for r in rows] == ["scan", "scan", "annul", "scan"]
        assert rows[1].role == "door" and rows[1].device_name == "Kiosk 1"
        assert rows[1].gate == "North" and rows[0].checkin_id == before.checkin_id
        assert rows[2].what == "annulment"
        mine = audit_log(s, w["event"], staff_id=w["camille"])
        assert [r.kind for r in mine] == ["scan", "annul"]
        assert [r.kind for r in audit_log(s, w["event"], staff_id=w["camille"], kind="annul")] == [
            "annul"
        ]
        assert len(audit_log(s, w["event"], since=NOW + timedelta(minutes=2))) == 2
        assert audit_log(s, "another-event") == []
        with pytest.raises(ValueError):
            audit_log(s, w["event"], kind="bogus")
        # the queued scans carry the staff id to the server
        stored = s.get(Checkin, first.checkin_id)
        assert stored.staff_id == w["camille"]
        payloads = [e.payload for e in s.scalars(select(OutboxEntry))]
        assert {p.get("staff_id") for p in payloads if "verdict" in p} >= {None, w["camille"]}

    path = write_audit_csv(rows, tmp_path / "audit.csv")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    assert table[0][:4] == ["Time (UTC)", "Staff", "Role", "What"]
    assert table[2][1:4] == ["Camille", "door", "check-in: " + rows[1].what.split(": ")[1]]
    assert table[3][7] == '\'=HYPERLINK("http://x")'  # never run as a formula
    assert len(table) == 5


def test_arrivals_and_lineup_edits_record_who_and_the_audit_lists_them(db):
    w = _world(db)
    with db.session() as s:
        person = Person(
            event_id=w["event"], full_name="Ada Model", role="Model", department="models"
        )
        s.add(person)
        s.flush()
        call = CallTime(event_id=w["event"], person_id=person.id, call_at=NOW)
        show = RunwayShow(event_id=w["event"], name="SS27")
        look = Look(event_id=w["event"], title="Look 1")
        s.add_all([call, show, look])
        s.flush()
        segment = RunwaySegment(show_id=show.id, name="Opening", order_key="a0")
        s.add(segment)
        s.flush()
        walk = RunwayAppearance(segment_id=segment.id, look_id=look.id, order_key="a0")
        s.add(walk)
        s.flush()
        ids = {"call": call.id, "walk": walk.id, "person": person.id}

    at = NOW + timedelta(minutes=10)
    with db.session() as s:
        calltimes_store.mark_arrived(s, ids["call"], at, staff_id=w["camille"])
        # a later arrival does not take over; an earlier one does, with its staff
        calltimes_store.mark_arrived(s, ids["call"], at + timedelta(minutes=5), staff_id=w["gone"])
        assert s.get(CallTime, ids["call"]).arrived_by_staff_id == w["camille"]
        calltimes_store.mark_arrived(s, ids["call"], at - timedelta(minutes=5), staff_id=w["nopin"])
        assert s.get(CallTime, ids["call"]).arrived_by_staff_id == w["nopin"]
        payloads = [
            e.payload
            for e in s.scalars(select(OutboxEntry).where(OutboxEntry.row_id == ids["call"]))
        ]
        assert [p.get("arrived_by_staff_id") for p in payloads] == [w["camille"], w["nopin"]]
    lineup_store.save_status(db, ids["walk"], "walked", at, staff_id=w["camille"])
    lineup_store.save_notes(db, ids["walk"], "fast change")  # the old call sites: nobody
    with db.session() as s:
        assert s.get(RunwayAppearance, ids["walk"]).edited_by_staff_id is None
    lineup_store.save_notes(db, ids["walk"], "fast change!", staff_id=w["camille"])

    with db.session() as s:
        rows = audit_log(s, w["event"])
        assert sorted((r.kind, r.staff_name) for r in rows) == [
            ("arrival", "No Pin"),
            ("lineup", "Camille"),
        ]
        assert [r.at for r in rows] == sorted(r.at for r in rows)
        arrival = audit_log(s, w["event"], kind="arrival")[0]
        assert (arrival.at, arrival.what, arrival.subject_id) == (
            at - timedelta(minutes=5),
            "arrival: Ada Model",
            ids["person"],
        )
        edit = audit_log(s, w["event"], staff_id=w["camille"], kind="lineup")[0]
        assert edit.subject_id == ids["walk"] and "Look 1" in edit.what
        assert audit_log(s, w["event"], staff_id=w["camille"], kind="arrival") == []
        calltimes_store.clear_arrival(s, ids["call"])
        assert s.get(CallTime, ids["call"]).arrived_by_staff_id is None
        assert audit_log(s, w["event"], kind="arrival") == []
