"""Look and model pictures: the photo file scaled, or a coloured swatch with initials."""

from __future__ import annotations

import hashlib
from pathlib import Path

from app.ui.qt import QColor, QFont, QPainter, QPixmap, Qt

_cache: dict[tuple[str, str, int], QPixmap] = {}

SWATCHES = ["#8E6C8A", "#5B7F95", "#A0785A", "#6F8F72", "#B0605E", "#7A7FB5", "#9C8B4A", "#4F8A8B"]


def initials(text: str) -> str:
    words = [w for w in text.replace("-", " ").split() if w[:1].isalnum()]
    if not words:
        return "?"
    if len(words) == 1:
        return words[0][:2].upper()
    return (words[0][0] + words[-1][0]).upper()


def _colour(key: str) -> QColor:
    digest = hashlib.blake2s(key.encode(), digest_size=2).digest()
    return QColor(SWATCHES[digest[0] % len(SWATCHES)])


def placeholder(key: str, label: str, size: int) -> QPixmap:
    """A square swatch in a colour stable for ``key``, with ``label``'s initials."""
    pix = QPixmap(size, size)
    pix.fill(_colour(key))
    painter = QPainter(pix)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    font = QFont()
    font.setBold(True)
    font.setPixelSize(max(8, int(size * 0.38)))
    painter.setFont(font)
    painter.setPen(QColor("white"))
    painter.drawText(pix.rect(), Qt.AlignmentFlag.AlignCenter, initials(label))
    painter.end()
    return pix


def picture(key: str, path: str | None, label: str, size: int) -> QPixmap:
    """The photo at ``path`` cropped to a square of ``size`` px, else a placeholder. Cached."""
    cache_key = (key, path or "", size)
    pix = _cache.get(cache_key)
    if pix is None:
        pix = _load(path, size) if path else None
        if pix is None:
            pix = placeholder(key, label, size)
        _cache[cache_key] = pix
    return pix


def _load(path: str, size: int) -> QPixmap | None:
    if not Path(path).expanduser().is_file():
        return None
    pix = QPixmap(str(Path(path).expanduser()))
    if pix.isNull():
        return None
    scaled = pix.scaled(
        size,
        size,
        Qt.AspectRatioMode.KeepAspectRatioByExpanding,
        Qt.TransformationMode.SmoothTransformation,
    )
    x = (scaled.width() - size) // 2
    y = (scaled.height() - size) // 2
    return scaled.copy(x, y, size, size)
