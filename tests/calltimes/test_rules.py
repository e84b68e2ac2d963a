"""Call-time rules (pure): offsets, general call moves, day before, statuses, alerts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from app.domain import calltimes as r

PARIS = ZoneInfo("Europe/Paris")
GENERAL = datetime(2026, 11, 21, 16, 0, tzinfo=UTC)  # 17:00 Paris


def test_absolute_call_wins_over_offset():
    at = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    call = r.effective_call(at, -30, GENERAL, PARIS)
    assert call.at == at and call.source == "absolute"


def test_offset_from_general_call():
    call = r.effective_call(None, -90, GENERAL, PARIS)
    assert call.at == GENERAL - timedelta(minutes=90)
    assert call.source == "offset" and not call.day_before and call.note is None


@given(
    offset=st.integers(min_value=-24 * 60, max_value=24 * 60),
    shift=st.integers(min_value=-600, max_value=600),
)
def test_moving_general_call_moves_every_offset(offset, shift):
    before = r.effective_call(None, offset, GENERAL, PARIS)
    moved = r.effective_call(None, offset, GENERAL + timedelta(minutes=shift), PARIS)
    assert moved.at - before.at == timedelta(minutes=shift)
    absolute = datetime(2026, 11, 21, 10, tzinfo=UTC)
    assert (
        r.effective_call(absolute, None, GENERAL + timedelta(minutes=shift), PARIS).at == absolute
    )


def test_offset_before_midnight_is_flagged_in_words():
    general = datetime(2026, 11, 21, 0, 30, tzinfo=UTC)  # 01:30 Sat 21 Nov in Paris
    call = r.effective_call(None, -120, general, PARIS)
    assert call.at == datetime(2026, 11, 20, 22, 30, tzinfo=UTC)
    assert call.day_before
    assert call.note == "call is the day before: 23:30 on Fri 20 Nov"


def test_no_call_time_is_unscheduled_with_message():
    call = r.effective_call(None, None, GENERAL, PARIS)
    assert call.at is None and call.message == "No call time set"
    info = r.call_status(call, GENERAL)
    assert info.status == r.CallStatus.UNSCHEDULED and info.countdown == ""
    no_general = r.effective_call(None, -90, None, PARIS)
    assert no_general.at is None
    assert (
        no_general.message
        == "Call is 1 h 30 min before the general call, but no general call is set"
    )


def test_status_transitions_under_a_clock():
    call = r.effective_call(None, 0, GENERAL, PARIS)
    early = GENERAL - timedelta(minutes=12)
    assert r.call_status(call, early).status == r.CallStatus.SCHEDULED
    assert r.call_status(call, early).countdown == "in 12 min"
    assert r.call_status(call, early, confirmed_at=early).status == r.CallStatus.CONFIRMED
    late = r.call_status(call, GENERAL + timedelta(minutes=8, seconds=30))
    assert late.status == r.CallStatus.LATE and late.words == "LATE"
    assert late.countdown == "8 min late"
    gone = r.call_status(call, GENERAL + timedelta(minutes=60), no_show_after_minutes=60)
    assert gone.status == r.CallStatus.NO_SHOW
    never = r.call_status(call, GENERAL + timedelta(hours=5), no_show_after_minutes=None)
    assert never.status == r.CallStatus.LATE
    flagged = r.call_status(call, early, no_show=True)
    assert flagged.status == r.CallStatus.NO_SHOW
    arrived = r.call_status(
        call,
        GENERAL + timedelta(hours=2),
        arrived_at=GENERAL + timedelta(minutes=5),
        no_show=True,
        tz=PARIS,
    )
    assert arrived.status == r.CallStatus.ARRIVED
    assert arrived.countdown == "arrived 17:05 (5 min late)"


def test_countdown_words():
    assert r.countdown(GENERAL, GENERAL - timedelta(minutes=11, seconds=20)) == "in 12 min"
    assert r.countdown(GENERAL, GENERAL) == "due now"
    assert r.countdown(GENERAL, GENERAL + timedelta(seconds=59)) == "due now"
    assert r.countdown(GENERAL, GENERAL - timedelta(hours=2, minutes=5)) == "in 2 h 05 min"
    assert r.countdown(GENERAL, GENERAL + timedelta(hours=1)) == "1 h late"


@given(st.lists(st.datetimes(timezones=st.just(UTC)), min_size=1, max_size=8))
def test_earliest_arrival_stands(times):
    stood = None
    for t in times:
        stood = r.merge_arrival(stood, t)
    assert stood == min(times)
    assert r.merge_arrival(stood, None) == stood


@given(minutes=st.integers(min_value=-300, max_value=300))
def test_status_is_late_exactly_when_past_call_and_not_arrived(minutes):
    call = r.effective_call(None, 0, GENERAL)
    now = GENERAL + timedelta(minutes=minutes, seconds=1)
    status = r.call_status(call, now, no_show_after_minutes=None).status
    assert (status == r.CallStatus.LATE) == (now > GENERAL)


def test_department_filter():
    class Row:
        def __init__(self, d):
            self.department = d

    rows = [Row("Models"), Row("hair"), Row("Make-up"), Row("dresser"), Row("crew")]
    assert len(r.filter_department(rows, "all")) == 5
    assert [x.department for x in r.filter_department(rows, "makeup")] == ["Make-up"]
    assert [x.department for x in r.filter_department(rows, "dressers")] == ["dresser"]
    assert r.department_label("MODELS") == "Models"


def _cand(cid="c1", minutes=0, arrived=None):
    return r.AlertCandidate(
        cid, "Ana Silva", "models", r.effective_call(None, minutes, GENERAL, PARIS), arrived
    )


def test_alerts_before_and_at_the_call_once_each():
    fired: set = set()
    c = _cand(minutes=30)  # due 17:30 Paris
    at = GENERAL + timedelta(minutes=30)
    assert r.due_alerts([c], at - timedelta(minutes=11), alert_minutes=10, tz=PARIS) == []
    soon = r.due_alerts([c], at - timedelta(minutes=10), alert_minutes=10, already=fired, tz=PARIS)
    assert [a.kind for a in soon] == ["soon"]
    assert soon[0].message == "Ana Silva (Models) is due at 17:30 — not arrived"
    fired.update(a.key for a in soon)
    assert r.due_alerts([c], at - timedelta(minutes=5), alert_minutes=10, already=fired) == []
    due = r.due_alerts([c], at, alert_minutes=10, already=fired, tz=PARIS)
    assert [a.kind for a in due] == ["due"] and due[0].title == "Call now"
    fired.update(a.key for a in due)
    assert r.due_alerts([c], at + timedelta(minutes=1), alert_minutes=10, already=fired) == []
    # A moved call re-arms its alerts.
    moved = _cand(minutes=45)
    again = r.due_alerts([moved], at + timedelta(minutes=5), alert_minutes=10, already=fired)
    assert [a.kind for a in again] == ["soon"]


def test_no_alert_for_arrived_or_long_past():
    arrived = _cand(arrived=GENERAL - timedelta(minutes=3))
    assert r.due_alerts([arrived], GENERAL, alert_minutes=10) == []
    assert r.due_alerts([_cand()], GENERAL + timedelta(hours=3), alert_minutes=10) == []


def test_typed_call_input():
    assert r.parse_call_input("17:30", GENERAL, PARIS).call_at == datetime(
        2026, 11, 21, 16, 30, tzinfo=UTC
    )
    assert r.parse_call_input("930", GENERAL, PARIS).call_at == datetime(
        2026, 11, 21, 8, 30, tzinfo=UTC
    )
    assert r.parse_call_input("-90", GENERAL, PARIS) == r.CallInput(None, -90)
    assert r.parse_call_input("GC+15", GENERAL, PARIS) == r.CallInput(None, 15)
    assert r.parse_call_input(" ", GENERAL, PARIS) == r.CallInput(None, None)
    for bad, words in (
        ("25:00", "not a time of day"),
        ("soon", "not a time"),
        ("-1h", "not an offset"),
    ):
        try:
            r.parse_call_input(bad, GENERAL, PARIS)
        except ValueError as exc:
            assert words in str(exc)
        else:
            raise AssertionError(f"{bad!r} was accepted")
    try:
        r.parse_clock_on_day("17:00", None, PARIS)
    except ValueError as exc:
        assert "no date" in str(exc)
