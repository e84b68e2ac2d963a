"""Lineup rules: order, numbers, pins, moves between segments, quick changes, show timing."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.lineup import (
    EMPTY_MESSAGE,
    MODEL_REMOVED,
    Appearance,
    Lineup,
    Segment,
    ShowRun,
    ShowSettings,
    format_delta,
    next_status,
    previous_status,
)
from app.domain.order_keys import rebalance
from tests.support.lineup import synthetic_lineup

from .conftest import SHOW_START


def build(
    models: list[str | None], min_looks=3, min_seconds=120, interval=30, pins=False
) -> Lineup:
    show = ShowSettings(
        "s",
        "Show",
        walk_interval_s=interval,
        quick_change_min_looks=min_looks,
        quick_change_min_seconds=min_seconds,
    )
    seg = Segment("seg", "Only", "a0")
    apps = [
        Appearance(
            id=f"x{i:03d}",
            segment_id="seg",
            look_id=f"l{i}",
            look_title=f"Look {i}",
            order_key=k,
            model_id=m,
            model_name=m and m.title(),
            is_opening=pins and i == 0,
            is_closing=pins and i == len(models) - 1,
        )
        for i, (m, k) in enumerate(zip(models, rebalance(len(models)), strict=True))
    ]
    return Lineup(show, [seg], apps)


def brute_force_quick_changes(models, min_looks, min_seconds, interval):
    found = set()
    for i in range(len(models)):
        for j in range(i + 1, len(models)):
            if models[i] is None or models[i] != models[j]:
                continue
            if any(models[k] == models[i] for k in range(i + 1, j)):
                continue
            if j - i - 1 < min_looks or (j - i) * interval < min_seconds:
                found.add((i + 1, j + 1))
    return found


@given(
    st.lists(st.one_of(st.none(), st.sampled_from(["ana", "bea", "cleo", "dara"])), max_size=40),
    st.integers(0, 6),
    st.integers(0, 300),
    st.integers(5, 60),
)
@settings(max_examples=200, deadline=None)
def test_quick_change_warnings_appear_iff_the_gap_is_too_small(
    models, min_looks, min_seconds, interval
):
    lineup = build(models, min_looks, min_seconds, interval)
    got = {(q.first_number, q.second_number) for q in lineup.quick_changes()}
    assert got == brute_force_quick_changes(models, min_looks, min_seconds, interval)


def test_quick_change_message_in_words():
    lineup = build(["ana", "bea", "ana", "cleo"], interval=20)
    (q,) = lineup.quick_changes()
    assert q.message == (
        "Ana walks look 1 and look 3: 1 look apart, 40 s — below the 3-look minimum "
        "and the 120 s minimum"
    )
    assert lineup.warnings_for("x002") == [q.message]
    assert lineup.get("x002").notes is None  # automatic warnings never land in notes


def test_moves_recompute_quick_changes():
    lineup = build(["ana", "bea", "cleo", "dara", "eva", "ana"])
    assert lineup.quick_changes() == []
    lineup.move("x005", 2)
    assert [(q.first_number, q.second_number) for q in lineup.quick_changes()] == [(1, 3)]


def test_a_move_writes_one_row_and_numbers_follow_the_order():
    lineup = build(["ana", "bea", "cleo", "dara", "eva"])
    plan = lineup.move("x004", 1)
    assert list(plan.writes) == ["x004"] and not plan.rebalanced
    assert [a.id for a in lineup.order] == ["x000", "x004", "x001", "x002", "x003"]
    assert [lineup.number_of(a.id) for a in lineup.order] == [1, 2, 3, 4, 5]


def test_opening_and_closing_stay_pinned():
    lineup = build(["a", "b", "c", "d", "e"], pins=True)
    plan = lineup.move("x002", 0)
    assert not plan.refused and plan.to_index == 1
    assert "after the opening" in plan.message
    assert lineup.order[0].id == "x000" and lineup.order[1].id == "x002"
    plan = lineup.move("x001", 10)
    assert plan.to_index == 3 and "before the closing" in plan.message
    assert lineup.order[-1].id == "x004"
    refused = lineup.plan_move("x000", 2)
    assert refused.refused and "opening look" in refused.message and not refused.writes
    assert lineup.plan_move("x004", 0).refused


def test_pins_win_over_keys():
    show = ShowSettings("s", "Show")
    seg = Segment("seg", "Only", "a0")
    apps = [
        Appearance("p", "seg", "l", "Closing gown", "a0", is_closing=True),
        Appearance("q", "seg", "l", "Middle", "a1"),
        Appearance("r", "seg", "l", "Opening coat", "a5", is_opening=True),
    ]
    assert [a.id for a in Lineup(show, [seg], apps).order] == ["r", "q", "p"]


def test_equal_keys_from_two_devices_tie_break_by_id_and_a_move_between_them_works():
    show = ShowSettings("s", "Show")
    seg = Segment("seg", "Only", "a0")
    apps = [
        Appearance(i, "seg", "l", i, k)
        for i, k in [("b", "a1"), ("a", "a1"), ("c", "a0"), ("d", "a2")]
    ]
    lineup = Lineup(show, [seg], apps)
    assert [a.id for a in lineup.order] == ["c", "a", "b", "d"]
    plan = lineup.move("d", 2)  # between the two equal keys
    assert plan.rebalanced and "renumbered" in plan.message
    assert [a.id for a in lineup.order] == ["c", "a", "d", "b"]
    keys = [a.order_key for a in lineup.order]
    assert keys == sorted(keys) and len(set(keys)) == 4


def test_concurrent_moves_of_different_looks_both_survive():
    base = synthetic_lineup(20, seed=3)
    dev1, dev2 = synthetic_lineup(20, seed=3), synthetic_lineup(20, seed=3)
    p1 = dev1.move(dev1.at(3).id, 12)
    p2 = dev2.move(dev2.at(15).id, 5)
    base.apply(p1)
    base.apply(p2)  # the merge: both rows' keys
    assert base.index_of(dev1.order[12].id) in (11, 12, 13)
    assert base.index_of(dev2.order[5].id) in (4, 5, 6)
    moved1, moved2 = p1.appearance_id, p2.appearance_id
    # relative order around each moved look is what its producer made
    assert base.order.index(base.get(moved1)) > base.order.index(base.get(dev1.order[11].id))
    assert base.order.index(base.get(moved2)) < base.order.index(base.get(dev2.order[6].id))


def test_move_between_segments_says_so():
    lineup = synthetic_lineup(12, segments=3, seed=2)
    first_of_evening = next(i for i, a in enumerate(lineup.order) if a.segment_id == "seg-1")
    look = lineup.at(1)
    plan = lineup.move(look.id, first_of_evening + 1)
    assert plan.writes[look.id][0] == "seg-1"
    assert "moved from Segment 1 to Segment 2" in plan.message
    assert lineup.get(look.id).segment_id == "seg-1"


def test_boundary_drop_keeps_own_segment():
    lineup = synthetic_lineup(12, segments=3, seed=2)
    boundary = next(i for i, a in enumerate(lineup.order) if a.segment_id == "seg-1")
    look = lineup.at(boundary + 2)  # in seg-1; dropped between seg-0's last and seg-1's first
    plan = lineup.move(look.id, boundary)
    assert plan.writes[look.id][0] == "seg-1" and plan.message is None
    assert lineup.index_of(look.id) == boundary


def test_long_keys_trigger_a_rare_reported_rebalance():
    lineup = build([f"m{i}" for i in range(6)])
    rebalances = 0
    for _ in range(400):  # always just after look 1: the worst case for key growth
        plan = lineup.move(lineup.at(5).id, 1)
        rebalances += plan.rebalanced
        assert all(len(a.order_key) <= 48 for a in lineup.order)
    assert 0 < rebalances < 40


def test_status_flow():
    assert next_status("pending") == "fitted"
    assert next_status("ready") == "walked" and next_status("walked") == "walked"
    assert previous_status("fitted") == "pending" and previous_status("pending") == "pending"
    assert next_status("bogus") == "pending"


def test_model_removed_is_flagged_not_crashing():
    show = ShowSettings("s", "Show")
    seg = Segment("seg", "Only", "a0")
    a = Appearance("x", "seg", "l", "Coat", "a0", model_id="gone", model_name=None)
    lineup = Lineup(show, [seg], [a, Appearance("y", "seg", "l", "Coat", "a1", model_id="gone")])
    assert lineup.get("x").model_label == MODEL_REMOVED
    assert lineup.warnings_for("x") == ["Look 1: model removed — choose another model"]
    assert lineup.quick_changes() == []


def test_empty_show():
    lineup = Lineup(ShowSettings("s", "Show"), [], [])
    assert lineup.is_empty and lineup.empty_message == EMPTY_MESSAGE
    run = ShowRun(lineup)
    assert run.advance(SHOW_START) is None
    snap = run.snapshot(SHOW_START)
    assert snap.now is None and snap.on_deck is None and not snap.finished


def test_planned_offsets_use_segment_intervals():
    show = ShowSettings("s", "Show", walk_interval_s=30)
    segs = [Segment("s1", "A", "a0", walk_interval_s=20), Segment("s2", "B", "a1")]
    apps = [
        Appearance(f"x{i}", "s1" if i < 2 else "s2", "l", "t", k)
        for i, k in enumerate(rebalance(4))
    ]
    lineup = Lineup(show, segs, apps)
    assert lineup.planned_offsets() == [0, 20, 40, 70]
    assert lineup.planned_duration == 100


def test_over_under_under_a_controlled_clock(clock):
    lineup = build(["a", "b", "c", "d"], interval=30)
    run = ShowRun(lineup)
    run.advance(clock())  # look 1 out at 0:00
    assert run.delta(clock()) == 0 and format_delta(0) == "on time"
    clock.advance(seconds=20)
    assert run.delta(clock()) == 0  # still inside look 1's slot
    clock.advance(seconds=22)  # 0:42, look 2 planned at 0:30
    assert run.delta(clock()) == 12
    run.advance(clock())
    assert run.delta(clock()) == 12 and format_delta(12) == "0:12 behind"
    assert lineup.at(1).status == "walked" and lineup.at(1).walked_at == clock()
    clock.advance(seconds=8)  # 0:50, look 3 planned at 1:00
    run.advance(clock())
    assert run.delta(clock()) == -10 and format_delta(-10) == "0:10 ahead"
    assert run.estimated_finish(clock()) == SHOW_START + timedelta(seconds=120 - 10)
    assert run.elapsed(clock()) == 50
    restored = run.back(clock())
    assert restored.status == "pending" and restored.walked_at is None
    assert run.current_index == 1 and run.delta(clock()) == 12


def test_snapshot_has_now_on_deck_next_and_quick_change(clock):
    lineup = build(["ana", "bea", "ana", "cleo", "dara", "eva"], interval=20)
    run = ShowRun(lineup)
    run.advance(clock())
    snap = run.snapshot(clock())
    assert snap.now.id == "x000" and snap.on_deck.id == "x001"
    assert [a.id for a in snap.next_up] == ["x002", "x003", "x004"]
    run.advance(clock())
    snap = run.snapshot(clock())
    assert snap.on_deck_quick_change is not None and snap.on_deck_quick_change.model_name == "Ana"
    for _ in range(10):
        run.advance(clock())
    assert run.snapshot(clock()).finished and run.current_index == 5
