"""True order under skewed clocks: the kiosk keeps the clock offset it measured (in the replica,
so it holds offline and after a restart), every scan carries its time on the server's clock
with an uncertainty, the first admission is decided on that time, and the double-entry report
shows both times and says when their order cannot be trusted."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.store.checkin_service import CheckinService
from app.store.clock import (
    DRIFT_PER_SECOND,
    META_CLOCK_OFFSET,
    ClockOffset,
    better_offset,
    load_offset,
    remember_offset,
)
from app.store.db import get_meta, open_database, set_meta
from app.store.models import Checkin
from app.store.types import utcnow
from app.sync import reports
from app.sync.backends import PullPage
from app.sync.engine import SyncEngine
from app.sync.status import SyncStatus, clock_words, with_clock

T0 = datetime(2026, 11, 22, 19, 0, tzinfo=UTC)


# --- the offset and its uncertainty ------------------------------------------------------------


def test_a_time_is_corrected_by_the_offset_and_grows_less_sure_with_age():
    offset = ClockOffset(600.0, 0.2, T0)  # the kiosk is 10 minutes ahead
    corrected, uncertainty = offset.correct(T0 + timedelta(hours=1))
    assert corrected == T0 + timedelta(hours=1) - timedelta(minutes=10)
    assert uncertainty == pytest.approx(0.2 + 3600 * DRIFT_PER_SECOND)
    assert offset.correct(T0 + timedelta(days=2))[1] == pytest.approx(0.2 + 172800e-4)


def test_an_offset_too_old_or_from_a_clock_set_back_is_not_used():
    offset = ClockOffset(600.0, 0.2, T0)
    assert offset.correct(T0 + timedelta(days=8)) == (None, None)
    assert offset.correct(T0 - timedelta(minutes=5)) == (None, None)  # the clock went back
    assert offset.correct(T0 - timedelta(seconds=0.5))[0] is not None  # within a read's jitter


def test_the_tighter_measurement_is_kept_unless_the_clock_was_changed():
    tight = ClockOffset(600.0, 0.01, T0)
    loose = ClockOffset(600.4, 0.8, T0 + timedelta(minutes=1))  # a big page's long round trip
    assert better_offset(tight, loose) is tight
    assert better_offset(None, loose) is loose
    assert better_offset(loose, tight) is tight
    stepped = ClockOffset(1.5, 0.8, T0 + timedelta(minutes=1))  # NTP fixed the clock
    assert better_offset(tight, stepped) is stepped
    much_later = ClockOffset(600.4, 0.8, T0 + timedelta(days=1))  # the old one aged past it
    assert better_offset(tight, much_later) is much_later


def test_a_stored_offset_survives_a_round_trip_and_garbage_is_ignored(tmp_path):
    db = open_database(tmp_path / "k.sqlite")
    try:
        with db.session() as session:
            assert load_offset(session) is None
            kept = remember_offset(session, ClockOffset(-3.25, 0.05, T0))
        with db.session() as session:
            assert load_offset(session) == kept == ClockOffset(-3.25, 0.05, T0)
        for junk in ("", "{", '{"offset_s": 1}', '{"offset_s": "NaN", "uncertainty_s": 1,'
                     ' "measured_at": "2026-11-22T19:00:00Z"}', "[]"):  # fmt: skip
            assert ClockOffset.from_json(junk) is None
    finally:
        db.close()


# --- the engine keeps it; the door uses it ------------------------------------------------------


class _NoServer:
    name = "test"

    def close(self) -> None:
        pass


def test_only_the_thread_running_the_sync_writes_the_offset(tmp_path):
    """A page prefetched in another thread while this one applies a page must not wait for
    SQLite's write lock: its measurement is kept in memory and written with the next one."""
    db = open_database(tmp_path / "k.sqlite")
    engine = SyncEngine(db, _NoServer(), "event", "device")
    now = utcnow()
    try:
        with engine._lock:  # the sync thread, mid-pull
            prefetch = threading.Thread(
                target=engine._check_clock,
                args=(PullPage([], "", False, server_time=now - timedelta(seconds=30)), 0.002),
            )
            prefetch.start()
            prefetch.join()
            with db.session() as session:
                assert get_meta(session, META_CLOCK_OFFSET) is None
            # the next page, measured by the sync thread: the tighter prefetch one is kept
            engine._check_clock(PullPage([], "", False, server_time=now - timedelta(seconds=30)), 2)
        with db.session() as session:
            kept = load_offset(session)
        assert kept is not None and kept.uncertainty_s == pytest.approx(0.001)
        assert kept.offset_s == pytest.approx(30, abs=5)
    finally:
        db.close()


def test_a_kiosk_measures_its_offset_keeps_it_and_corrects_scans_offline(world):
    ahead = timedelta(minutes=10)
    kiosk = world.kiosk("Kiosk B", "South", clock=lambda: utcnow() + ahead)
    kiosk.engine.sync_once()
    with kiosk.db.session() as session:
        measured = load_offset(session)
    assert measured is not None
    # the true offset (600 s) lies within what the kiosk says it knows
    assert abs(measured.offset_s - 600) <= measured.uncertainty_s + 0.01
    code = kiosk.codes()[0]
    path = kiosk.db.path
    kiosk.engine.backend.close()
    kiosk.db.close()
    world.kiosks.remove(kiosk)

    # restarted, with no server: the door still corrects
    db = open_database(path)
    try:
        door = CheckinService(
            db, world.event_id, kiosk.device_id, gate="South", clock=lambda: utcnow() + ahead
        )
        result = door.scan(code)
        assert result.verdict == "admitted"
        with db.session() as session:
            row = session.get(Checkin, result.checkin_id)
        assert row.scanned_at == result.scanned_at
        corrected = result.scanned_at - timedelta(seconds=measured.offset_s)
        assert row.corrected_at == corrected
        assert row.corrected_uncertainty_s >= measured.uncertainty_s
        # what the door shows as the first admission is on the server's clock too
        again = door.scan(code)
        assert again.verdict == "already_admitted"
        assert again.first_admitted_at == corrected
    finally:
        db.close()


def test_a_kiosk_without_a_usable_offset_logs_no_corrected_time(world):
    kiosk = world.kiosk("Kiosk C", "East")
    kiosk.engine.pull()  # the tickets, and a measurement: then spoil it
    with kiosk.db.session() as session:
        assert load_offset(session) is not None
        set_meta(session, META_CLOCK_OFFSET, "not json")
    result = kiosk.door().scan(kiosk.codes()[0])
    with kiosk.db.session() as session:
        row = session.get(Checkin, result.checkin_id)
    assert (row.corrected_at, row.corrected_uncertainty_s) == (None, None)


def test_the_first_admission_is_the_first_on_the_servers_clock(world):
    """B's clock is 10 minutes ahead. B admits a guest; a minute later A admits the same guest
    (offline from each other). By the kiosks' clocks A came first; by the server's, B did."""
    later = [timedelta(0)]
    a = world.kiosk("Kiosk A", "North", clock=lambda: utcnow() + later[0])
    b = world.kiosk("Kiosk B", "South", clock=lambda: utcnow() + timedelta(minutes=10) + later[0])
    a.engine.sync_once()
    b.engine.sync_once()
    code = a.codes()[0]
    assert b.door().scan(code).verdict == "admitted"
    later[0] = timedelta(minutes=1)
    assert a.door().scan(code).verdict == "admitted"
    a.engine.sync_once()  # A's (earlier by the kiosks' clocks) reaches the server first
    b.engine.sync_once()
    a.engine.sync_once()

    server = world.sdb.execute("SELECT gate, double_entry FROM checkins ORDER BY scanned_at")
    assert server == [
        {"gate": "North", "double_entry": True},
        {"gate": "South", "double_entry": False},
    ]
    with a.db.session() as session:
        (double,) = reports.double_entries(session, world.event_id)
    assert (double.first.gate, double.second.gate) == ("South", "North")
    assert double.first.scanned_at > double.second.scanned_at  # the kiosks' clocks disagree
    assert double.first.corrected_at < double.second.corrected_at
    assert double.order_uncertain is None  # a minute apart, measured to milliseconds
    words = double.first.words(lambda t: t.astimezone(UTC).strftime("%H:%M:%S"))
    assert "server time (kiosk clock " in words and "at South (Kiosk B)" in words

    again = a.door().scan(code)
    assert again.verdict == "already_admitted"
    assert again.first_gate == "South"


# --- the report's words -------------------------------------------------------------------------


def _admission(device: str, at: datetime, corrected: datetime | None, u: float | None):
    return reports.Admission(f"c-{device}", "Main", device, at, corrected, u, f"id-{device}")


def _pair(first, second) -> reports.DoubleEntry:
    return reports.DoubleEntry("t", "T00001", "Guest", first, second)


def test_the_report_says_when_the_order_is_uncertain():
    at = T0
    sure = _pair(_admission("A", at, at, 0.5), _admission("B", at, at + timedelta(seconds=2), 0.5))
    assert sure.order_uncertain is None
    close = _pair(_admission("A", at, at, 1.5), _admission("B", at, at + timedelta(seconds=2), 1))
    assert close.order_uncertain == (
        "Order uncertain: 2.0 s apart, within the clocks' uncertainty (±2.5 s)"
    )
    one = _pair(_admission("A", at, at, 0.5), _admission("B", at, None, None))
    assert one.order_uncertain == "Order uncertain: the clock offset of B was not known"
    both = _pair(_admission("A", at, None, None), _admission("B", at, None, None))
    assert both.order_uncertain == (
        "Order uncertain: neither kiosk's clock offset to the server was known"
    )
    same = _pair(_admission("A", at, None, None), _admission("A", at, None, None))
    assert same.order_uncertain is None  # one clock against itself


def test_the_report_shows_both_times():
    def fmt(t: datetime) -> str:
        return t.strftime("%H:%M:%S")

    known = _admission("Kiosk B", T0 + timedelta(minutes=10), T0, 0.25)
    assert known.words(fmt) == (
        "19:00:00 server time (kiosk clock 19:10:00, ±0.2 s) at Main (Kiosk B)"
    )
    unknown = _admission("Kiosk A", T0, None, None)
    assert unknown.words(fmt) == (
        "19:00:00 kiosk clock, offset to the server unknown, at Main (Kiosk A)"
    )


def test_status_knows_the_offset_offline_and_says_how_sure_it_is():
    now = T0 + timedelta(minutes=3)
    offline = SyncStatus(online=False, backend="postgres")
    assert clock_words(offline) == (
        "Clock not measured against the server yet: scans carry this kiosk's time only."
    )
    known = with_clock(offline, ClockOffset(12.34, 0.2, T0), now)
    assert known.clock_skew_seconds == 12.34
    assert clock_words(known, now) == (
        "Kiosk clock 12.3 s ahead of the server (±0.2 s, measured 3 min ago): scan times are "
        "also recorded on the server's clock."
    )
    far = with_clock(offline, ClockOffset(-900, 0.2, T0), now)
    assert far.clock_warning and "behind" in far.clock_warning
    assert "15 min behind the server" in clock_words(far, now)
    stale = with_clock(offline, ClockOffset(5, 0.2, T0), T0 + timedelta(days=30))
    assert stale == offline
    assert clock_words(SyncStatus(online=None)) is None  # no sync server: nothing to compare


def test_the_upgrade_keeps_logged_and_queued_scans(tmp_path):
    """A kiosk upgraded in the field: its scans, queued or not, stay, without corrected times."""
    from alembic import command
    from alembic.config import Config

    from app.store.db import MIGRATIONS_DIR
    from app.store.models import Event, Organization, OutboxEntry
    from app.store.outbox import record

    def alembic(db, action: str, revision: str) -> None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        with db.engine.begin() as connection:
            config.attributes["connection"] = connection
            getattr(command, action)(config, revision)

    path = tmp_path / "k.sqlite"
    db = open_database(path)
    alembic(db, "downgrade", "0004_fold_only_non_ascii")
    with db.engine.begin() as conn:
        columns = {r[1] for r in conn.exec_driver_sql("PRAGMA table_info(checkins)")}
    assert "corrected_at" not in columns
    db.close()

    db = open_database(path)  # opening upgrades to the newest revision
    try:
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
            scan = Checkin(event_id=event.id, device_id="d", verdict="admitted", scanned_at=T0)
            session.add(scan)
            record(session, scan)
        alembic(db, "downgrade", "0004_fold_only_non_ascii")
        alembic(db, "upgrade", "head")
        with db.session() as session:
            row = session.scalars(select(Checkin)).one()
            queued = session.scalars(select(OutboxEntry)).one()
        assert (row.scanned_at, row.corrected_at, row.corrected_uncertainty_s) == (T0, None, None)
        assert (queued.state, queued.row_id) == ("pending", row.id)
    finally:
        db.close()


def test_a_steady_clock_is_not_rewritten_at_every_pull(tmp_path):
    db = open_database(tmp_path / "k.sqlite")
    try:
        with db.session() as session:
            first = remember_offset(session, ClockOffset(2.0, 0.005, T0))
            # five seconds later, as sure and in agreement: the stored one stays
            same = remember_offset(session, ClockOffset(2.001, 0.005, T0 + timedelta(seconds=5)))
            assert same == first
            # two minutes on, the drift allowance has grown past twice a fresh one's
            later = ClockOffset(2.001, 0.005, T0 + timedelta(minutes=2))
            assert remember_offset(session, later) == later
            # the clock was stepped: written at once
            stepped = ClockOffset(-40.0, 0.005, T0 + timedelta(minutes=2, seconds=5))
            assert remember_offset(session, stepped) == stepped
            assert load_offset(session) == stepped
    finally:
        db.close()
