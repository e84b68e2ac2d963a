"""Order keys: total order, no duplicates, short keys, bad input refused in words."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.order_keys import (
    OrderKeyError,
    is_valid_key,
    key_between,
    keys_between,
    rebalance,
    validate_key,
)


def test_first_key_and_neighbours():
    first = key_between(None, None)
    assert key_between(None, first) < first < key_between(first, None)


@given(st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 10_000)), max_size=300))
@settings(max_examples=80, deadline=None)
def test_any_sequence_of_moves_keeps_a_strict_total_order(moves):
    keys = rebalance(10)
    for frm, to in moves:
        key = keys.pop(frm % len(keys))
        del key
        t = to % (len(keys) + 1)
        lower = keys[t - 1] if t > 0 else None
        upper = keys[t] if t < len(keys) else None
        new = key_between(lower, upper)
        assert is_valid_key(new)
        assert (lower is None or lower < new) and (upper is None or new < upper)
        keys.insert(t, new)
        assert keys == sorted(keys)
        assert len(set(keys)) == len(keys)


@given(
    st.one_of(st.none(), st.text("0123456789abcXYZ", min_size=1, max_size=6)), st.integers(0, 40)
)
@settings(max_examples=100, deadline=None)
def test_keys_between_are_sorted_and_inside(prefix, n):
    a = None
    if prefix is not None:
        candidate = "a" + prefix
        a = candidate if is_valid_key(candidate) else None
    keys = keys_between(a, None, n)
    assert keys == sorted(keys) and len(set(keys)) == n
    if a is not None and keys:
        assert a < keys[0]
    if n >= 2:
        inner = keys_between(keys[0], keys[-1], 5)
        assert keys[0] < inner[0] and inner[-1] < keys[-1] and inner == sorted(inner)


def test_keys_stay_short_after_10000_random_moves(capsys):
    rng = random.Random(7)
    keys = rebalance(200)
    longest = 0
    for _ in range(10_000):
        keys.pop(rng.randrange(len(keys)))
        t = rng.randrange(len(keys) + 1)
        new = key_between(keys[t - 1] if t else None, keys[t] if t < len(keys) else None)
        keys.insert(t, new)
        longest = max(longest, len(new))
    with capsys.disabled():
        print(f"\nlongest order key after 10,000 random moves on 200 looks: {longest} chars")
    assert longest <= 16


def test_appending_and_prepending_grow_slowly():
    key = "a0"
    for _ in range(5000):
        key = key_between(key, None)
    assert len(key) <= 4
    key = "a0"
    for _ in range(5000):
        key = key_between(None, key)
    assert len(key) <= 4


@pytest.mark.parametrize("bad", ["", "a", "0abc", "a0!", "a00", "b1", "A" + "0" * 26])
def test_malformed_keys_are_refused_in_words(bad):
    with pytest.raises(OrderKeyError) as err:
        validate_key(bad)
    assert str(err.value)


def test_equal_or_reversed_bounds_are_refused():
    with pytest.raises(OrderKeyError, match="out of order"):
        key_between("a1", "a1")
    with pytest.raises(OrderKeyError, match="out of order"):
        key_between("a2", "a1")
