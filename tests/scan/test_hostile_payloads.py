"""Hostile payloads, rendered as real QR codes: they decode (or not) without exceptions and
come through byte-exact where the decoder can give bytes."""

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.scan.decoders import build_chain
from app.scan.synth import code_matrix, render_code

rng = np.random.default_rng(42)
HOSTILE = {
    "binary": bytes(range(256)),
    "invalid_utf8": b"\xc3\x28\xa0\xa1\xe2\x28\xa1\xf0\x28\x8c\xbc\xff\xfe",
    "junk_2kb_binary": rng.integers(0, 256, 2200, dtype=np.uint8).tobytes(),
    "junk_4kb_text": "".join(
        rng.choice(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 $%*+-./:"), 4000)
    ),
    "sql": "'; DROP TABLE tickets; -- \" OR 1=1; SELECT * FROM attendees WHERE name LIKE '%",
    "control_chars": "".join(chr(c) for c in range(1, 32)) + "\x7f\x1b[2J\x1b]0;pwned\x07",
    "nul_in_middle": "FW26\x00000123",
    "unicode": "Zoë Ñandú — 票 🎟️ \u202e\u200b",
    "format_string": "%s%s%n{0}{ticket.__class__}",
}


def _image(payload: str | bytes) -> np.ndarray:
    side = code_matrix(payload, ecc="L").shape[0]
    return render_code(payload, px=side * 4, ecc="L")


@pytest.mark.parametrize("name", sorted(HOSTILE))
@pytest.mark.parametrize("decoder_name", ["auto", "zxing", "zbar"])
def test_hostile_payload_comes_through_exact(name, decoder_name):
    payload = HOSTILE[name]
    raw = payload if isinstance(payload, bytes) else payload.encode("utf-8")
    found = build_chain(decoder_name).decode(_image(payload))
    assert len(found) == 1
    assert found[0].raw == raw
    if isinstance(payload, str):
        assert found[0].text == payload
    else:
        assert isinstance(found[0].text, str)
        found[0].text.encode("utf-8")  # always printable as UTF-8: no lone surrogates


@pytest.mark.parametrize("name", sorted(HOSTILE))
@pytest.mark.parametrize("decoder_name", ["opencv", "opencv-aruco"])
def test_hostile_payload_never_crashes_opencv(name, decoder_name):
    payload = HOSTILE[name]
    found = build_chain(decoder_name).decode(_image(payload))
    for d in found:  # OpenCV transcodes non-UTF-8 bytes; it must still hand over text
        assert isinstance(d.text, str) and isinstance(d.raw, bytes)
        if isinstance(payload, str):
            assert d.text == payload


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(min_size=1, max_size=300))
def test_any_bytes_round_trip_through_zxing_and_zbar(payload):
    img = cv2.cvtColor(_image(payload), cv2.COLOR_BGR2GRAY)
    for name in ("zxing", "zbar"):
        found = build_chain(name).decode(img)
        assert [d.raw for d in found] == [payload], name


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(min_size=1, max_size=200))
def test_any_text_round_trips_through_the_auto_chain(text):
    found = build_chain("auto").decode(_image(text.encode("utf-8")))
    assert [(d.raw, d.text) for d in found] == [(text.encode("utf-8"), text)]
