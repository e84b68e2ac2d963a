"""Charset detection and ECI streams (pure functions; the decoders' side is in
test_real_world_codes.py)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.scan.charsets import decode_eci_stream, decode_payload, detect, split_eci_stream


@pytest.mark.parametrize(
    ("text", "codec", "charset"),
    [
        ("チケット 東京ファッションウィーク 入場券", "cp932", "Shift_JIS"),
        ("東京", "cp932", "Shift_JIS"),
        ("山田太郎様", "cp932", "Shift_JIS"),
        ("ご来場ありがとうございます。VIP席 A-12", "cp932", "Shift_JIS"),
        ("上海时装周 入场券 贵宾", "gb2312", "GB2312"),
        ("北京国际时装周", "gb2312", "GB2312"),
        ("欢迎光临！座位：A区12号", "gb2312", "GB2312"),
        ("张伟", "gb2312", "GB2312"),
        ("Café Zoë", "latin-1", "ISO-8859-1"),
        ("Crème brûlée", "latin-1", "ISO-8859-1"),
        ("Señor Ñandú", "latin-1", "ISO-8859-1"),
        ("Zoë 票 🎟️", "utf-8", "UTF-8"),
        ("FW26-000123", "ascii", "UTF-8"),
    ],
)
def test_detect_names_the_charset_real_text_was_written_in(text, codec, charset):
    assert detect(text.encode(codec)) == (charset, text)


@pytest.mark.parametrize(
    "raw",
    [bytes(range(256)), b"\xff\x00\x1b[2Jhi\x80", b"\xc3\x28\xa0\xa1\xe2\x28\xa1\xf0\x28\x8c\xbc"],
)
def test_binary_is_no_charset_and_shown_escaped(raw):
    charset, text = detect(raw)
    assert charset is None and "\\x" in text
    text.encode("utf-8")


def test_declared_charset_wins_over_detection():
    raw = "Crème".encode("latin-1")
    assert decode_payload(raw).charset == "ISO-8859-1"
    as_greek = decode_payload(raw, 9)  # ECI 9: ISO-8859-7
    assert (as_greek.charset, as_greek.declared, as_greek.eci) == ("ISO-8859-7", True, 9)
    assert as_greek.text == raw.decode("iso8859_7")


def test_bytes_off_the_declared_charset_are_escaped_not_lost():
    p = decode_payload(b"ok \xff\xfe", 26)  # declared UTF-8, but not UTF-8
    assert p.charset == "UTF-8" and p.exact is False and p.text == "ok \\xff\\xfe"


def test_gb2312_declared_reads_gbk_characters_too():
    text = "镕基"  # 镕 is in GBK, not in GB2312
    p = decode_payload(text.encode("gbk"), 29)
    assert (p.text, p.charset, p.exact) == (text, "GB2312", True)


def test_unknown_and_binary_ecis():
    p = decode_payload(b"hello", 899)
    assert p.charset == "binary" and p.exact is False
    p = decode_payload("héllo".encode(), 123456)
    assert p.charset == "ECI 123456" and p.declared and p.text == "héllo"


def test_split_eci_stream_switches_and_escaped_backslashes():
    stream = b"ab\\\\c\\000020" + "東".encode("cp932") + b"\\000003\xe9"
    assert split_eci_stream(stream) == [
        (None, b"ab\\c"),
        (20, "東".encode("cp932")),
        (3, b"\xe9"),
    ]
    assert split_eci_stream(b"") == [(None, b"")]
    assert split_eci_stream(b"a\\12b") == [(None, b"a\\12b")]  # not a designator: kept as is


def test_decode_eci_stream_mixed_segments():
    raw = b"Tokyo " + "東京".encode("cp932") + b" / " + "上海".encode("gb2312")
    stream = (
        b"]Q2Tokyo \\000020" + "東京".encode("cp932") + b"\\000029 / " + "上海".encode("gb2312")
    )
    p = decode_eci_stream(stream, raw)
    assert p.text == "Tokyo 東京 / 上海"
    assert p.charset == "UTF-8+Shift_JIS+GB2312" and p.declared and p.eci == 20 and p.exact


def test_decode_eci_stream_without_eci_or_unexpected_input_falls_back_to_the_bytes():
    raw = "東京".encode("cp932")
    assert decode_eci_stream(b"]Q1" + raw, raw).charset == "Shift_JIS"
    assert decode_eci_stream(b"]Q2\\000020nonsense", raw).charset == "Shift_JIS"  # mismatch
    assert decode_eci_stream(b"", raw).charset == "Shift_JIS"
    assert decode_eci_stream(b"]Z9", raw).charset == "Shift_JIS"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.one_of(st.none(), st.integers(0, 999999)))
def test_decode_payload_never_raises_and_gives_printable_utf8(raw, eci):
    p = decode_payload(raw, eci)
    p.text.encode("utf-8")  # no lone surrogates
    assert p.declared is (eci is not None)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_decode_eci_stream_never_raises(data):
    decode_eci_stream(b"]Q2" + data, data).text.encode("utf-8")
