"""The check-in service: durable logging before the verdict, hostile input, counters, recent."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.domain.verdicts import Verdict
from app.store.checkin_service import CheckinNotFound
from app.store.db import DatabaseProblem, open_database
from app.store.models import Checkin, OutboxEntry

HOSTILE = [
    "\x00\x01\x02",
    "abc\x07\x1b[2J",
    "A" * 4096,
    "Z" * 5000,
    "SD1." + "A" * 4000,
    "'; DROP TABLE checkins; --",
    '" OR ""="',
    "%_%_\\",
    b"\xff\xfe\xfd\x00\x80",
    b"\xc3\x28",
    "\ud800",
    "𝕏" * 300,
    "\u202eRTL override",
    "SD1.AAAA\nSD1.BBBB",
    "   \t  ",
]


def _count(db) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(Checkin))


def test_scan_row_is_on_disk_before_the_verdict_returns(door):
    _, qr = door.add_ticket()
    result = door.service().scan(qr)
    # A second, independent connection (as another process would) sees the row and its
    # outbox entry the moment scan() has returned.
    conn = sqlite3.connect(door.db.path)
    try:
        row = conn.execute(
            "SELECT verdict, raw_code FROM checkins WHERE id = ?", (result.checkin_id,)
        ).fetchone()
        queued = conn.execute(
            "SELECT table_name, op FROM outbox WHERE row_id = ?", (result.checkin_id,)
        ).fetchone()
    finally:
        conn.close()
    assert row == ("admitted", qr[:200])
    assert queued == ("checkins", "insert")


def test_every_scan_is_logged_even_refusals(door):
    svc = door.service()
    before = _count(door.db)
    verdicts = [svc.scan(code).verdict for code in ("FW00-1", "", "SD1.XYZ")]
    assert verdicts == [Verdict.UNKNOWN, Verdict.UNREADABLE, Verdict.FORGED]
    assert _count(door.db) == before + 3
    with door.db.session() as s:
        assert s.scalar(select(func.count()).select_from(OutboxEntry)) == before + 3


@pytest.mark.parametrize("payload", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_payloads_give_a_refusal_and_a_clean_log_row(door, payload):
    result = door.service().scan(payload)
    assert result.verdict in (Verdict.UNREADABLE, Verdict.UNKNOWN, Verdict.FORGED)
    assert not result.ok and result.headline and result.detail
    with door.db.session() as s:
        row = s.get(Checkin, result.checkin_id)
    assert row is not None and row.verdict == result.verdict.value
    if row.raw_code is not None:
        assert len(row.raw_code) <= 200
        assert not any(ord(ch) < 32 or 0xD800 <= ord(ch) <= 0xDFFF for ch in row.raw_code)


def test_verdict_reflects_writes_by_another_connection(door):
    ticket_id, qr = door.add_ticket()
    svc = door.service()
    svc.scan("warm the service up")
    other = open_database(door.db.path)  # e.g. the sync engine in another process
    try:
        with other.session() as s:
            s.add(
                Checkin(
                    event_id=door.event_id,
                    ticket_id=ticket_id,
                    device_id="other-device",
                    gate="South door",
                    verdict="admitted",
                    offline=False,
                )
            )
    finally:
        other.close()
    result = svc.scan(qr)
    assert result.verdict is Verdict.ALREADY_ADMITTED and result.first_gate == "South door"


def test_counters_and_recent(door):
    _, general = door.add_ticket("general", first="Zoë", last="Ørsted")
    _, vip = door.add_ticket("vip")
    door.add_ticket("vip", status="cancelled")
    svc = door.service()
    admitted = svc.scan(general)
    svc.scan(vip)
    svc.direction = "out"
    svc.scan(vip)
    svc.direction = "in"
    svc.scan("FW00-0000")
    c = svc.counters()
    assert (c.admitted, c.expected, c.inside) == (2, 2, 1)
    assert {t.tier: (t.admitted, t.expected) for t in c.per_tier} == {
        "general": (1, 1),
        "vip": (1, 1),
    }
    svc.annul(admitted.checkin_id, "guest turned back")
    c = svc.counters()
    assert (c.admitted, c.inside) == (1, 0)
    recent = svc.recent(10)
    assert [r.verdict for r in recent] == ["unknown", "exit_recorded", "admitted", "admitted"]
    assert recent[-1].annulled and recent[-1].attendee_name == "Zoë Ørsted"
    assert recent[0].raw_code == "FW00-0000" and not recent[0].ok
    assert len(svc.recent(2)) == 2


def test_annul_of_unknown_or_refused_scan_is_refused_in_words(door):
    svc = door.service()
    refused = svc.scan("nope")
    with pytest.raises(CheckinNotFound, match="no admission"):
        svc.annul(refused.checkin_id, "x")
    with pytest.raises(CheckinNotFound):
        svc.annul("not-an-id", "x")


def test_online_flag_and_failing_probe(door):
    _, qr = door.add_ticket()
    assert door.service(online=lambda: True).scan(qr).offline is False

    def broken() -> bool:
        raise OSError("network down")

    assert door.service(online=broken).scan("x").offline is True


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(code=st.one_of(st.text(max_size=300), st.binary(max_size=300)))
def test_fuzz_scan_never_raises_and_always_logs(door, code):
    svc = door.service()
    before = _count(door.db)
    result = svc.scan(code)
    assert isinstance(result.verdict, Verdict) and result.headline
    assert _count(door.db) == before + 1


def test_corrupt_database_file_is_a_clear_problem(tmp_path):
    path = tmp_path / "broken.sqlite"
    path.write_bytes(b"this is not a database at all" * 200)
    with pytest.raises(DatabaseProblem) as err:
        open_database(path)
    message = str(err.value)
    assert "damaged" in message and str(path) in message and "Traceback" not in message


def test_half_overwritten_database_is_a_clear_problem(door, tmp_path):
    door.add_ticket()
    door.db.close()
    data = bytearray(door.db.path.read_bytes())
    for i in range(4096, len(data), 4096):  # wreck every page after the first
        data[i + 8 : i + 64] = b"\xa5" * 56
    broken = tmp_path / "wrecked.sqlite"
    broken.write_bytes(bytes(data))
    with pytest.raises(DatabaseProblem, match="damaged"):
        open_database(broken)


def test_locked_database_is_a_clear_problem(door):
    _, qr = door.add_ticket()
    impatient = open_database(door.db.path, busy_timeout_ms=50)
    svc = door.service()
    svc.db = impatient
    door.db.close()  # let go of every pooled connection so the holder can lock the file
    impatient.engine.dispose()
    holder = sqlite3.connect(door.db.path, isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("INSERT INTO local_meta (key, value) VALUES ('lock', 'held')")
        with pytest.raises(DatabaseProblem) as err:
            open_database(door.db.path, busy_timeout_ms=50)
        assert "in use" in str(err.value)
        with pytest.raises(DatabaseProblem, match="in use"):
            svc.scan(qr)
    finally:
        if holder.in_transaction:
            holder.execute("ROLLBACK")
        holder.close()
        impatient.close()


def test_scan_survives_the_process_being_killed_right_after_the_verdict(door):
    """kill -9 the moment the verdict is known: the scan and its outbox entry are on disk."""
    import subprocess
    import sys
    import textwrap

    _, qr = door.add_ticket()
    door.db.close()
    child = textwrap.dedent(
        f"""
        import os, signal
        from app.store.db import open_database
        from app.store.checkin_service import CheckinService
        db = open_database({str(door.db.path)!r})
        svc = CheckinService(db, {door.event_id!r}, {door.device_id!r}, gate="North door")
        result = svc.scan({qr!r})
        print(result.checkin_id, result.verdict.value, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # no close, no checkpoint, no cleanup
        """
    )
    run = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=120)
    assert run.returncode == -9, run.stderr
    checkin_id, verdict = run.stdout.split()
    assert verdict == "admitted"
    conn = sqlite3.connect(door.db.path)
    try:
        assert conn.execute(
            "SELECT verdict FROM checkins WHERE id = ?", (checkin_id,)
        ).fetchone() == ("admitted",)
        assert conn.execute(
            "SELECT count(*) FROM outbox WHERE row_id = ?", (checkin_id,)
        ).fetchone() == (1,)
    finally:
        conn.close()
