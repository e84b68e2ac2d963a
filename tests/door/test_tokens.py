"""Ticket tokens: round trip, tampering, rotation, and fuzzing (only TokenError may escape)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain.tokens import (
    PREFIX,
    TokenError,
    TokenErrorKind,
    generate_keypair,
    issue_token,
    looks_like_token,
    parse_token,
)
from app.store.types import new_id

PRIVATE, PUBLIC = generate_keypair()
OTHER_PRIVATE, OTHER_PUBLIC = generate_keypair()
IDS = {"ticket_id": new_id(), "event_id": new_id(), "ticket_type_id": new_id()}
VALID = issue_token(PRIVATE, **IDS, serial=7)


def test_round_trip_carries_every_field():
    start = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)
    end = start + timedelta(hours=6)
    code = issue_token(PRIVATE, **IDS, serial=3, valid_from=start, valid_until=end)
    parsed = parse_token(code, [PUBLIC])
    assert parsed.verified
    assert (parsed.ticket_id, parsed.event_id, parsed.ticket_type_id) == (
        IDS["ticket_id"],
        IDS["event_id"],
        IDS["ticket_type_id"],
    )
    assert parsed.serial == 3 and parsed.valid_from == start and parsed.valid_until == end


def test_code_uses_only_qr_alphanumeric_characters_and_is_compact():
    alnum = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
    assert set(VALID) <= alnum
    assert VALID.startswith(PREFIX) and len(VALID) <= 210


def test_without_keys_parses_unverified():
    parsed = parse_token(VALID)
    assert not parsed.verified and parsed.serial == 7
    assert parsed.verify([PUBLIC]) and not parsed.verify([OTHER_PUBLIC])


def test_rotation_any_listed_key_verifies():
    assert parse_token(VALID, [OTHER_PUBLIC, PUBLIC]).verified
    with pytest.raises(TokenError) as err:
        parse_token(VALID, [OTHER_PUBLIC])
    assert err.value.kind is TokenErrorKind.BAD_SIGNATURE


def test_garbage_keys_in_the_list_are_ignored():
    assert parse_token(VALID, ["not base64!", "AAAA", b"short", PUBLIC]).verified


def test_lowercased_code_still_reads():
    assert parse_token(VALID.lower(), [PUBLIC]).verified


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("FW26-004211", TokenErrorKind.NOT_A_TOKEN),
        ("SDB.1234ABCD", TokenErrorKind.NOT_A_TOKEN),
        ("", TokenErrorKind.NOT_A_TOKEN),
        ("SD2.AAAA", TokenErrorKind.UNSUPPORTED_VERSION),
        ("SD1.", TokenErrorKind.MALFORMED),
        ("SD1.!!!!", TokenErrorKind.MALFORMED),
        (VALID[:-1], TokenErrorKind.MALFORMED),
        (VALID[:40], TokenErrorKind.MALFORMED),
        (VALID + "A" * 400, TokenErrorKind.MALFORMED),
        (VALID + "AAAAAAAA", TokenErrorKind.MALFORMED),
    ],
)
def test_error_kinds(text, kind):
    with pytest.raises(TokenError) as err:
        parse_token(text, [PUBLIC])
    assert err.value.kind is kind
    assert str(err.value)


def test_every_single_character_change_is_refused():
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    for i in range(len(PREFIX), len(VALID)):
        replacement = alphabet[(alphabet.index(VALID[i]) + 1) % 32]
        altered = VALID[:i] + replacement + VALID[i + 1 :]
        with pytest.raises(TokenError) as err:
            parse_token(altered, [PUBLIC])
        assert err.value.kind in (TokenErrorKind.MALFORMED, TokenErrorKind.BAD_SIGNATURE)


def test_looks_like_token():
    assert looks_like_token(VALID) and looks_like_token(" sd3.x")
    assert not looks_like_token("FW26-1")


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.one_of(st.text(max_size=600), st.binary(max_size=600)))
def test_fuzz_arbitrary_input_raises_only_token_error(data):
    try:
        parsed = parse_token(data, [PUBLIC])
    except TokenError:
        return
    assert parsed.verified  # anything accepted must really be signed by the key


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_fuzz_truncations_and_bit_flips_of_a_valid_token(data):
    raw = bytearray(VALID.encode("ascii"))
    action = data.draw(st.sampled_from(["truncate", "flip", "insert"]))
    if action == "truncate":
        raw = raw[: data.draw(st.integers(0, len(raw) - 1))]
    elif action == "flip":
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] ^= 1 << data.draw(st.integers(0, 7))
    else:
        i = data.draw(st.integers(0, len(raw)))
        raw[i:i] = data.draw(st.binary(min_size=1, max_size=4))
    mutated = bytes(raw)
    try:
        parsed = parse_token(mutated, [PUBLIC])
    except TokenError:
        return
    # Only harmless changes survive (lower-casing a letter, whitespace at the ends).
    assert parsed.signature == parse_token(VALID).signature
