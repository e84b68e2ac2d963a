"""Fractional-indexing order keys: a move rewrites only the moved row's key.

Keys are strings over the base-62 alphabet ``0-9A-Za-z`` that sort in walk order by plain
byte comparison (Python ``<``, SQLite's BINARY collation, Postgres ``COLLATE "C"``).

A key is an *integer part* plus a *fraction* (David Greenspan's "fractional-indexing" scheme,
also used by Figma-style editors):

- the integer part's first character says how long it is: ``a``..``z`` head an integer of
  2..27 characters (``a0`` is zero, ``a1``, ... ``az``, ``b10`` ...), ``Z``..``A`` head the
  negative ones, so appending or prepending only counts the integer up or down and keys grow
  by one character every 62, 3844, ... appends;
- the fraction (possibly empty, never ending in ``0``) takes the midpoint between two keys,
  so random moves grow keys logarithmically.

Two devices that drop two looks onto the same place may produce *equal* keys; callers order
ties by row id (see ``app.domain.lineup``), so equal keys are never an error.
"""

from __future__ import annotations

DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_INDEX = {ch: i for i, ch in enumerate(DIGITS)}
_ZERO = DIGITS[0]
_SMALLEST_INTEGER = "A" + _ZERO * 26

MAX_KEY_LENGTH = 48
"""Beyond this a caller should rebalance (rewrite a segment's keys); the column holds 64."""

FIRST_KEY = "a0"


class OrderKeyError(ValueError):
    """An invalid order key, or bounds that are not in order. ``str()`` says which."""


def _integer_length(head: str) -> int:
    if "a" <= head <= "z":
        return ord(head) - ord("a") + 2
    if "A" <= head <= "Z":
        return ord("Z") - ord(head) + 2
    raise OrderKeyError(f"order key starts with {head!r}: must start with a letter")


def _integer_part(key: str) -> str:
    length = _integer_length(key[0])
    if length > len(key):
        raise OrderKeyError(f"order key {key!r} is cut short")
    return key[:length]


def validate_key(key: str) -> None:
    """Raise OrderKeyError unless ``key`` is a well-formed order key."""
    if not isinstance(key, str) or not key:
        raise OrderKeyError("order key is empty")
    bad = [ch for ch in key if ch not in _INDEX]
    if bad:
        raise OrderKeyError(f"order key {key!r} has characters outside 0-9A-Za-z: {bad[0]!r}")
    if key == _SMALLEST_INTEGER:
        raise OrderKeyError("order key is the reserved smallest key")
    integer = _integer_part(key)
    if key[len(integer) :].endswith(_ZERO):
        raise OrderKeyError(f"order key {key!r} ends in a trailing zero")


def is_valid_key(key: object) -> bool:
    try:
        validate_key(key)  # type: ignore[arg-type]
    except OrderKeyError:
        return False
    return True


def _midpoint(a: str, b: str | None) -> str:
    """A fraction strictly between fractions ``a`` and ``b`` (``b`` None: no upper bound)."""
    if b is not None:
        n = 0
        while (a[n] if n < len(a) else _ZERO) == b[n]:
            n += 1
        if n > 0:
            return b[:n] + _midpoint(a[n:], b[n:])
    digit_a = _INDEX[a[0]] if a else 0
    digit_b = _INDEX[b[0]] if b is not None else len(DIGITS)
    if digit_b - digit_a > 1:
        return DIGITS[(digit_a + digit_b + 1) // 2]
    if b is not None and len(b) > 1:
        return b[:1]
    return DIGITS[digit_a] + _midpoint(a[1:], None)


def _increment_integer(x: str) -> str | None:
    head, digits = x[0], list(x[1:])
    for i in range(len(digits) - 1, -1, -1):
        d = _INDEX[digits[i]] + 1
        if d < len(DIGITS):
            digits[i] = DIGITS[d]
            return head + "".join(digits)
        digits[i] = _ZERO
    if head == "Z":
        return "a" + _ZERO
    if head == "z":
        return None
    new_head = chr(ord(head) + 1)
    if new_head > "a":
        digits.append(_ZERO)
    else:
        digits.pop()
    return new_head + "".join(digits)


def _decrement_integer(x: str) -> str | None:
    head, digits = x[0], list(x[1:])
    for i in range(len(digits) - 1, -1, -1):
        d = _INDEX[digits[i]] - 1
        if d >= 0:
            digits[i] = DIGITS[d]
            return head + "".join(digits)
        digits[i] = DIGITS[-1]
    if head == "a":
        return "Z" + DIGITS[-1]
    if head == "A":
        return None
    new_head = chr(ord(head) - 1)
    if new_head < "Z":
        digits.append(DIGITS[-1])
    else:
        digits.pop()
    return new_head + "".join(digits)


def key_between(a: str | None, b: str | None) -> str:
    """A key strictly after ``a`` and before ``b`` (None: open end).

    Raises OrderKeyError for malformed keys or when ``a >= b`` (equal neighbours from two
    devices cannot have a key between them: the caller rewrites one of them instead).
    """
    if a is not None:
        validate_key(a)
    if b is not None:
        validate_key(b)
    if a is not None and b is not None and a >= b:
        raise OrderKeyError(f"order keys out of order: {a!r} is not before {b!r}")
    if a is None:
        if b is None:
            return FIRST_KEY
        int_b = _integer_part(b)
        frac_b = b[len(int_b) :]
        if int_b == _SMALLEST_INTEGER:
            return int_b + _midpoint("", frac_b)
        if int_b < b:
            return int_b
        smaller = _decrement_integer(int_b)
        if smaller is None:
            raise OrderKeyError("cannot make a key before the smallest key")
        return smaller
    int_a = _integer_part(a)
    frac_a = a[len(int_a) :]
    if b is None:
        bigger = _increment_integer(int_a)
        return int_a + _midpoint(frac_a, None) if bigger is None else bigger
    int_b = _integer_part(b)
    frac_b = b[len(int_b) :]
    if int_a == int_b:
        return int_a + _midpoint(frac_a, frac_b)
    bigger = _increment_integer(int_a)
    if bigger is None:
        raise OrderKeyError("cannot make a key after the largest key")
    if bigger < b:
        return bigger
    return int_a + _midpoint(frac_a, None)


def keys_between(a: str | None, b: str | None, n: int) -> list[str]:
    """``n`` increasing keys strictly between ``a`` and ``b``, as short as possible."""
    if n < 0:
        raise ValueError("n must not be negative")
    if n == 0:
        return []
    if n == 1:
        return [key_between(a, b)]
    if b is None:
        out = [key_between(a, None)]
        for _ in range(n - 1):
            out.append(key_between(out[-1], None))
        return out
    if a is None:
        out = [key_between(None, b)]
        for _ in range(n - 1):
            out.append(key_between(None, out[-1]))
        out.reverse()
        return out
    mid = n // 2
    c = key_between(a, b)
    return [*keys_between(a, c, mid), c, *keys_between(c, b, n - mid - 1)]


def rebalance(n: int) -> list[str]:
    """Fresh, short, evenly spread keys for ``n`` rows (rewrites every row: use rarely)."""
    return keys_between(None, None, n)
