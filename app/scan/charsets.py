"""Which character set a QR payload is in, and its text.

A QR code's byte segments carry bytes, not text. The code may declare their character set with
an ECI (Extended Channel Interpretation) header: ECI 20 is Shift_JIS, 29 GB2312, 26 UTF-8, 3
ISO-8859-1 and so on. Without one, readers guess: UTF-8 is what phones and web generators
write today, ISO/IEC 18004 says ISO-8859-1, and Japanese and Chinese generators write
Shift_JIS (also what QR's Kanji mode stores) or GB2312. So:

* declared (an ECI): decode with that charset; bytes it cannot decode are shown as ``\\xNN``;
* not declared: UTF-8 when the bytes are valid UTF-8; otherwise whichever of Shift_JIS,
  GB2312 and ISO-8859-1 decodes them into the most plausible text (runs of kana and
  ideographs, accented letters inside words); bytes none of them reads well are binary and
  shown as ``\\xNN`` escapes (never a crash, never control characters made up from binary).

zxing-cpp hands the payload with its ECI designators in place (its ``HexECI`` text mode: the
AIM symbology identifier ``]Q2`` then ``\\NNNNNN`` switches and ``\\\\`` for a backslash);
`decode_eci_stream` reads that, `decode_payload` the plain bytes other decoders give.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# ECI designator -> (name shown, Python codec). None: binary.
ECI_CHARSETS: dict[int, tuple[str, str | None]] = {
    0: ("CP437", "cp437"),
    1: ("ISO-8859-1", "latin-1"),
    2: ("CP437", "cp437"),
    3: ("ISO-8859-1", "latin-1"),
    4: ("ISO-8859-2", "iso8859_2"),
    5: ("ISO-8859-3", "iso8859_3"),
    6: ("ISO-8859-4", "iso8859_4"),
    7: ("ISO-8859-5", "iso8859_5"),
    8: ("ISO-8859-6", "iso8859_6"),
    9: ("ISO-8859-7", "iso8859_7"),
    10: ("ISO-8859-8", "iso8859_8"),
    11: ("ISO-8859-9", "iso8859_9"),
    12: ("ISO-8859-10", "iso8859_10"),
    13: ("ISO-8859-11", "iso8859_11"),
    15: ("ISO-8859-13", "iso8859_13"),
    16: ("ISO-8859-14", "iso8859_14"),
    17: ("ISO-8859-15", "iso8859_15"),
    18: ("ISO-8859-16", "iso8859_16"),
    20: ("Shift_JIS", "cp932"),
    21: ("windows-1250", "cp1250"),
    22: ("windows-1251", "cp1251"),
    23: ("windows-1252", "cp1252"),
    24: ("windows-1256", "cp1256"),
    25: ("UTF-16BE", "utf-16-be"),
    26: ("UTF-8", "utf-8"),
    27: ("US-ASCII", "ascii"),
    28: ("Big5", "big5"),
    29: ("GB2312", "gb2312"),
    30: ("EUC-KR", "euc_kr"),
    31: ("GBK", "gbk"),
    32: ("GB18030", "gb18030"),
    33: ("UTF-16LE", "utf-16-le"),
    34: ("UTF-32BE", "utf-32-be"),
    35: ("UTF-32LE", "utf-32-le"),
    170: ("ISO-646 invariant", "ascii"),
    899: ("binary", None),
}
# A generator that declares GB2312 may still use GBK/GB18030 characters; a superset reads them.
_FALLBACK = {"gb2312": "gb18030", "cp932": "shift_jis_2004"}

UTF8 = "UTF-8"


@dataclass(frozen=True)
class Payload:
    text: str  # the payload as text: exact when ``exact``, else with ``\\xNN`` escapes
    charset: str | None  # e.g. "UTF-8", "Shift_JIS"; None for binary; "+"-joined when mixed
    declared: bool  # True when the code itself declared the charset (ECI)
    eci: int | None  # the first ECI designator in the code, if any
    exact: bool  # True when ``text`` encodes back to the payload bytes in ``charset``


def safe_text(raw: bytes) -> str:
    """The payload as text: exact for UTF-8, invalid bytes shown as ``\\xNN`` (never raises)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("utf-8", errors="backslashreplace")


# --- detection (no ECI) ---------------------------------------------------------------------

# C0 controls (bar tab, CR, LF), DEL and C1 controls: binary data, not text.
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return (
        0x3040 <= o <= 0x30FF  # hiragana, katakana
        or 0x3400 <= o <= 0x4DBF  # CJK extension A
        or 0x4E00 <= o <= 0x9FFF  # CJK unified ideographs
        or 0x3000 <= o <= 0x303F  # CJK punctuation (、。「」)
        or 0xFF01 <= o <= 0xFF5E  # full-width ASCII forms
        or o == 0x30FC  # prolonged sound mark
    )


def _cjk_score(text: str) -> float:
    """Plausibility of a Shift_JIS or GB2312 reading: kana and ideographs count when they come
    in runs (words); one stuck to Latin letters (an accented letter read as a kanji) and
    half-width katakana (what GB2312's bytes turn into as Shift_JIS) count against."""
    score = 0.0
    for i, ch in enumerate(text):
        o = ord(ch)
        if _is_cjk(ch):
            neighbours = [n for n in (text[i - 1 : i], text[i + 1 : i + 2]) if n]
            if any(_is_cjk(n) for n in neighbours):
                score += 1.0
            elif any(n.isascii() and n.isalpha() for n in neighbours):
                score -= 0.5
            else:
                score += 0.5
        elif 0xFF61 <= o <= 0xFF9F:  # half-width katakana
            score -= 1.0
        elif o >= 0x80:  # Greek, Cyrillic, box drawing, symbols: rare in real text here
            score -= 0.5
    return score


def _latin1_score(text: str) -> float:
    """Plausibility of an ISO-8859-1 reading: accented letters next to letters score, the
    signs of the upper half (¤ ± º ¹ × …) count against."""
    score = 0.0
    for i, ch in enumerate(text):
        if ord(ch) < 0x80:
            continue
        if ch.isalpha():
            neighbours = (text[i - 1] if i else "", text[i + 1] if i + 1 < len(text) else "")
            score += 1.0 if any(n.isalpha() for n in neighbours) else 0.0
        else:
            score -= 1.0
    return score


def _strict(raw: bytes, codec: str) -> str | None:
    try:
        return raw.decode(codec)
    except UnicodeDecodeError:
        return None


def detect(raw: bytes) -> tuple[str | None, str]:
    """(charset name or None for binary, text) for bytes that declare no charset."""
    text = _strict(raw, "utf-8")
    if text is not None:
        return UTF8, text
    candidates: list[tuple[float, int, str, str]] = []
    for rank, (name, codec, score) in enumerate(
        (("Shift_JIS", "cp932", _cjk_score), ("GB2312", "gb2312", _cjk_score))
    ):
        decoded = _strict(raw, codec)
        if decoded is not None and not _CONTROL_TEXT.search(decoded):
            candidates.append((score(decoded), -rank, name, decoded))
    if not _CONTROL_BYTES.search(raw):
        decoded = raw.decode("latin-1")
        candidates.append((_latin1_score(decoded), -2, "ISO-8859-1", decoded))
    if candidates:
        best = max(candidates)
        if best[0] > 0:
            return best[2], best[3]
    return None, raw.decode("utf-8", errors="backslashreplace")


# --- declared (ECI) -------------------------------------------------------------------------


def _decode_declared(data: bytes, eci: int) -> tuple[str, str | None, bool]:
    """(text, charset name, exact) for a segment under ECI ``eci``."""
    name, codec = ECI_CHARSETS.get(eci, (f"ECI {eci:06d}", None))
    if codec is None:
        if eci == 899:
            return data.decode("utf-8", errors="backslashreplace"), name, False
        _, text = detect(data)  # an ECI this table does not know: best effort
        return text, name, False
    for c in (codec, _FALLBACK.get(codec)):
        if c and (text := _strict(data, c)) is not None:
            return text, name, True
    return data.decode(codec, errors="backslashreplace"), name, False


def decode_payload(raw: bytes, eci: int | None = None) -> Payload:
    """The text of payload bytes: under ``eci`` when the code declared one, else detected."""
    if eci is not None:
        text, name, exact = _decode_declared(raw, eci)
        return Payload(text, name, True, eci, exact)
    name, text = detect(raw)
    return Payload(text, name, False, None, name is not None)


_ECI_DESIGNATOR = re.compile(rb"\\(\d{6})")


def split_eci_stream(stream: bytes) -> list[tuple[int | None, bytes]]:
    """Segments (ECI in force or None, bytes) of an ECI-protocol byte stream (after ``]Q2``):
    ``\\NNNNNN`` switches the charset, ``\\\\`` is one backslash."""
    segments: list[tuple[int | None, bytes]] = []
    current: int | None = None
    buf = bytearray()
    i = 0
    while i < len(stream):
        byte = stream[i]
        if byte == 0x5C:  # backslash
            if stream[i + 1 : i + 2] == b"\\":
                buf.append(0x5C)
                i += 2
                continue
            m = _ECI_DESIGNATOR.match(stream, i)
            if m:
                if buf:
                    segments.append((current, bytes(buf)))
                    buf = bytearray()
                current = int(m.group(1))
                i = m.end()
                continue
        buf.append(byte)
        i += 1
    if buf or not segments:
        segments.append((current, bytes(buf)))
    return segments


def decode_eci_stream(stream: bytes, raw: bytes) -> Payload:
    """The payload from zxing-cpp's ECI view of it: ``stream`` is ``]Q`` + modifier + content
    (ECI designators in place when the modifier is even), ``raw`` the plain payload bytes."""
    if len(stream) < 3 or not stream.startswith(b"]Q") or stream[2:3] not in b"0123456":
        return decode_payload(raw)
    if int(stream[2:3]) % 2 == 1 or stream[2:3] == b"0":  # ]Q1/3/5 (and model 1): no ECI
        return decode_payload(raw)
    segments = split_eci_stream(stream[3:])
    if b"".join(data for _, data in segments) != raw:
        return decode_payload(raw)  # not the stream we expect: trust the plain bytes
    texts: list[str] = []
    names: list[str] = []
    exact = True
    first_eci = next((e for e, _ in segments if e is not None), None)
    for eci, data in segments:
        if eci is None:
            name, text = detect(data)
            exact = exact and name is not None
        else:
            text, name, ok = _decode_declared(data, eci)
            exact = exact and ok
        texts.append(text)
        if name not in names:
            names.append(name or "binary")
    charset = "+".join(names) if names else None
    return Payload("".join(texts), charset, first_eci is not None, first_eci, exact)
