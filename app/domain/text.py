"""Accent- and case-folding of text for search and comparison ("José" == "jose", "Müller" == "MULLER")."""

from __future__ import annotations

import re
import unicodedata

# Letters that Unicode does not decompose into base letter + accent; folded by hand.
# The search index migration (0002) applies the same table in SQL, keep them in step.
SPECIAL_LETTERS: dict[str, str] = {
    "ß": "ss",
    "ẞ": "ss",
    "ø": "o",
    "Ø": "o",
    "æ": "ae",
    "Æ": "ae",
    "œ": "oe",
    "Œ": "oe",
    "ł": "l",
    "Ł": "l",
    "đ": "d",
    "Đ": "d",
    "ð": "d",
    "Ð": "d",
    "þ": "th",
    "Þ": "th",
    "ı": "i",
}
_SPECIAL_TABLE = str.maketrans(SPECIAL_LETTERS)


def fold(text: str) -> str:
    """Lower-case ``text`` and strip accents: "Zoë Ørsted-Müller" -> "zoe orsted-muller"."""
    text = text.translate(_SPECIAL_TABLE)
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.casefold().translate(_SPECIAL_TABLE)


def words(text: str) -> list[str]:
    """The folded words of ``text`` (letters and digits; everything else separates)."""
    out: list[str] = []
    current: list[str] = []
    for ch in fold(text):
        if ch.isalnum():
            current.append(ch)
        elif current:
            out.append("".join(current))
            current = []
    if current:
        out.append("".join(current))
    return out


_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ue000-\uf8ff\U000f0000-\U0010ffff]")


def sanitize(text: str, limit: int = 200) -> str:
    """``text`` made safe to store and show: control characters replaced, cut to ``limit``."""
    return _UNSAFE.sub("\ufffd", text[:limit])
