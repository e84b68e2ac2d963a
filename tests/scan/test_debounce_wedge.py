from hypothesis import given, settings
from hypothesis import strategies as st

from app.scan.debounce import Debouncer
from app.scan.wedge import WedgeBuffer


def test_same_code_within_window_is_a_repeat_new_code_is_new_at_once():
    d = Debouncer(3.0)
    assert d.seen("A", 0.0)
    assert not d.seen("A", 1.0)
    assert d.seen("B", 1.1)  # a different guest: immediately
    assert not d.seen("A", 2.0)
    assert d.seen("A", 5.5)  # gone for more than 3 s since last seen: a new scan


def test_a_code_held_in_view_stays_one_scan():
    d = Debouncer(3.0)
    hits = [d.seen("A", t / 10) for t in range(0, 600)]  # a minute of frames, 10 per second
    assert hits.count(True) == 1


def test_zero_seconds_means_every_read_counts():
    d = Debouncer(0)
    assert all(d.seen("A", t) for t in (0.0, 0.0, 0.1))


def test_clock_step_back_counts_as_new_and_reset_forgets():
    d = Debouncer(3.0)
    assert d.seen("A", 100.0)
    assert d.seen("A", 50.0)
    d.reset()
    assert d.seen("A", 50.5)


def test_many_codes_do_not_grow_memory_forever():
    d = Debouncer(1.0)
    for i in range(5000):
        d.seen(f"code-{i}", float(i))
    assert len(d._last_seen) < 300


@settings(deadline=None)
@given(st.lists(st.floats(min_value=0.0, max_value=2.9), min_size=1, max_size=50))
def test_gaps_shorter_than_window_give_exactly_one_scan(gaps):
    d = Debouncer(3.0)
    t, hits = 0.0, []
    for gap in gaps:
        t += gap
        hits.append(d.seen("X", t))
    assert hits[0] and hits.count(True) == 1


def feed(buf: WedgeBuffer, text: str, start: float, gap: float, enter_gap: float | None = None):
    t = start
    out = []
    for ch in text:
        out.append(buf.feed(ch, t))
        t += gap
    out.append(buf.feed("\r", t - gap + (gap if enter_gap is None else enter_gap)))
    return [x for x in out if x is not None], t


def test_scanner_burst_ending_with_enter_is_a_scan():
    codes, _ = feed(WedgeBuffer(), "FW26-000123", 10.0, 0.008)
    assert codes == ["FW26-000123"]


def test_human_typing_is_not_a_scan():
    codes, _ = feed(WedgeBuffer(), "Maria Lopez", 10.0, 0.18)
    assert codes == []


def test_fast_but_short_burst_is_not_a_scan():
    codes, _ = feed(WedgeBuffer(min_length=5), "ab", 0.0, 0.005)
    assert codes == []


def test_enter_typed_slowly_after_fast_keys_is_not_a_scan():
    codes, _ = feed(WedgeBuffer(), "ABCDEFGH", 0.0, 0.01, enter_gap=0.4)
    assert codes == []


def test_scan_right_after_a_person_typed_keeps_only_the_burst():
    buf = WedgeBuffer()
    for i, ch in enumerate("joh"):
        assert buf.feed(ch, i * 0.3) is None
    codes, _ = feed(buf, "TOKEN12345", 2.0, 0.01)
    assert codes == ["TOKEN12345"]


def test_pending_shows_burst_in_progress_and_non_printables_reset():
    buf = WedgeBuffer()
    for i, ch in enumerate("ABC"):
        buf.feed(ch, i * 0.01)
    assert buf.pending == "ABC"
    buf.feed("\x1b", 0.04)
    assert buf.pending == ""


@settings(deadline=None)
@given(
    st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=5, max_size=200),
    st.floats(min_value=0.001, max_value=0.049),
)
def test_any_fast_burst_is_read_back_exactly(code, gap):
    codes, _ = feed(WedgeBuffer(), code, 100.0, gap)
    assert codes == [code]


@settings(deadline=None)
@given(
    st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40),
    st.floats(min_value=0.051, max_value=1.0),
)
def test_any_slow_typing_is_never_a_scan(text, gap):
    codes, _ = feed(WedgeBuffer(), text, 100.0, gap)
    assert codes == []


def test_a_scanner_typing_either_token_format_delivers_the_whole_code():
    from app.domain.tokens import generate_keypair, issue_token, looks_like_ticket_code

    private, _ = generate_keypair()
    ids = {
        "ticket_id": "6f1c1c51-2f0b-4d0e-9a55-0d7a3b1f3c11",
        "event_id": "0b7f6a2e-8a51-4e0c-bd5c-8c1f7f1e2a22",
        "ticket_type_id": "9e3b5c7d-1a2b-4c3d-8e9f-0a1b2c3d4e33",
    }
    for version in (1, 2):
        code = issue_token(private, **ids, serial=5, version=version)
        for gap in (0.002, 0.03):
            w = WedgeBuffer()
            out = [w.feed(ch, i * gap) for i, ch in enumerate(code)]
            assert out == [None] * len(code)
            burst = w.feed("\r", len(code) * gap)
            assert burst == code and looks_like_ticket_code(burst)
