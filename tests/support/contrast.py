"""WCAG contrast of the text a person actually sees, measured on rendered pixels.

Every visible piece of text in a window (labels, buttons, line edits, list/table rows and
headers, tabs) is located; the window is grabbed once, as Qt painted it with its palettes and
style sheets; and each text's rectangle is measured: the background is the colour most of the
rectangle has, the text colour is the colour (present in more than a few pixels) that differs
most from it. White text on a light grey background measures as such, whatever the palette
claims, and a label whose text is the colour of its background measures 1:1.

Thresholds are WCAG 2.x AA: 4.5:1 for body text, 3:1 for large text (at least 24 px, or at
least 18.67 px bold).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QModelIndex, QPoint, QRect, Qt
from PySide6.QtGui import QFont, QImage
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStyle,
    QStyleOptionButton,
    QTabBar,
    QWidget,
)

BODY, LARGE = 4.5, 3.0
MIN_PIXELS = 3  # a colour must cover this many pixels to count as the text's colour


@dataclass(frozen=True)
class TextSpot:
    """One piece of text on screen: where (window coordinates), what, and how big."""

    where: str  # a readable path, e.g. "QLabel#verdictDetail 'Welcome.'"
    rect: QRect
    px: float
    bold: bool
    text: str

    @property
    def large(self) -> bool:
        return self.px >= 24 or (self.bold and self.px >= 18.66)

    @property
    def required(self) -> float:
        return LARGE if self.large else BODY


@dataclass(frozen=True)
class Measured:
    spot: TextSpot
    background: tuple[int, int, int]
    foreground: tuple[int, int, int]
    ratio: float

    @property
    def ok(self) -> bool:
        return self.ratio + 1e-9 >= self.spot.required

    def describe(self) -> str:
        return (
            f"{self.spot.where}: text {_hex(self.foreground)} on {_hex(self.background)} = "
            f"{self.ratio:.2f}:1, needs {self.spot.required}:1 ({self.spot.px:.0f} px"
            f"{' bold' if self.spot.bold else ''})"
        )


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def luminance(rgb: tuple[int, int, int] | np.ndarray) -> float | np.ndarray:
    """WCAG relative luminance of sRGB colour(s) given as 0..255."""
    c = np.asarray(rgb, dtype=float) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return linear[..., 0] * 0.2126 + linear[..., 1] * 0.7152 + linear[..., 2] * 0.0722


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    la, lb = float(luminance(a)), float(luminance(b))
    hi, lo = max(la, lb), min(la, lb)
    return (hi + 0.05) / (lo + 0.05)


def font_px(font: QFont, widget: QWidget) -> float:
    if font.pixelSize() > 0:
        return float(font.pixelSize())
    return font.pointSizeF() * widget.logicalDpiY() / 72.0


def _is_bold(font: QFont) -> bool:
    return font.weight() >= QFont.Weight.DemiBold


def _visible_rect(widget: QWidget, root: QWidget, rect: QRect | None = None) -> QRect:
    """``rect`` (widget coordinates; default: the whole widget) clipped to what is visible,
    in ``root``'s coordinates."""
    area = widget.visibleRegion().boundingRect()
    if rect is not None:
        area = area.intersected(rect)
    if area.isEmpty():
        return QRect()
    return QRect(widget.mapTo(root, area.topLeft()), area.size())


def _name(widget: QWidget, text: str) -> str:
    name = type(widget).__name__
    if widget.objectName():
        name += f"#{widget.objectName()}"
    short = text.replace("\n", " ").replace("\u200b", "")
    return f"{name} '{short[:50]}{'…' if len(short) > 50 else ''}'"


def _shown(widget: QWidget, root: QWidget) -> bool:
    return widget.isVisible() and widget.isEnabled() and widget.window() is root.window()


def text_spots(root: QWidget) -> list[TextSpot]:
    """Every visible piece of text inside ``root`` (and ``root`` itself)."""
    spots: list[TextSpot] = []
    widgets = [root, *root.findChildren(QWidget)]
    for w in widgets:
        if not _shown(w, root):
            continue
        if isinstance(w, QLabel):
            text = w.text()
            if not text.strip() or (w.pixmap() is not None and not w.pixmap().isNull()):
                continue
            rect = _visible_rect(w, root, w.contentsRect())
            if not rect.isEmpty():
                font = w.font()
                spots.append(TextSpot(_name(w, text), rect, font_px(font, w), _is_bold(font), text))
        elif isinstance(w, QPushButton) and w.text().strip():
            option = QStyleOptionButton()
            w.initStyleOption(option)
            inner = w.style().subElementRect(QStyle.SubElement.SE_PushButtonContents, option, w)
            rect = _visible_rect(w, root, inner)
            if not rect.isEmpty():
                font = w.font()
                spots.append(
                    TextSpot(_name(w, w.text()), rect, font_px(font, w), _is_bold(font), w.text())
                )
        elif isinstance(w, QLineEdit):
            text = w.text() or w.placeholderText()
            if text.strip():
                # The text area only: inside the frame (a focus ring is not text).
                inner = w.rect().adjusted(6, 4, -6, -4)
                rect = _visible_rect(w, root, inner)
                if not rect.isEmpty():
                    font = w.font()
                    spots.append(
                        TextSpot(_name(w, text), rect, font_px(font, w), _is_bold(font), text)
                    )
        elif isinstance(w, QTabBar):
            for i in range(w.count()):
                if not w.isTabVisible(i):
                    continue
                rect = _visible_rect(w, root, w.tabRect(i).adjusted(4, 4, -4, -4))
                if not rect.isEmpty():
                    font = w.font()
                    spots.append(
                        TextSpot(_name(w, w.tabText(i)), rect, font_px(font, w), _is_bold(font), "")
                    )
        elif isinstance(w, QHeaderView):
            spots.extend(_header_spots(w, root))
        elif isinstance(w, QAbstractItemView):
            spots.extend(_item_spots(w, root))
    return spots


def _header_spots(header: QHeaderView, root: QWidget) -> list[TextSpot]:
    model = header.model()
    if model is None or header.isHidden():
        return []
    out: list[TextSpot] = []
    horizontal = header.orientation() == Qt.Orientation.Horizontal
    for logical in range(header.count()):
        if header.isSectionHidden(logical):
            continue
        text = model.headerData(logical, header.orientation(), Qt.ItemDataRole.DisplayRole)
        if text is None or not str(text).strip():
            continue
        pos, size = header.sectionViewportPosition(logical), header.sectionSize(logical)
        if horizontal:
            cell = QRect(pos, 0, size, header.height())
        else:
            cell = QRect(0, pos, header.width(), size)
        inner = cell.adjusted(3, 3, -3, -3).intersected(header.viewport().rect())
        rect = _visible_rect(header.viewport(), root, inner)
        if rect.isEmpty() or rect.width() < 8:
            continue
        font = header.font()
        out.append(
            TextSpot(
                f"{_name(header, str(text))} section {logical}",
                rect,
                font_px(font, header),
                _is_bold(font),
                str(text),
            )
        )
    return out


def _item_spots(view: QAbstractItemView, root: QWidget) -> list[TextSpot]:
    model = view.model()
    if model is None:
        return []
    out: list[TextSpot] = []
    viewport = view.viewport()
    visible = viewport.rect()

    def walk(parent: QModelIndex) -> None:
        try:
            columns = model.columnCount(parent)
        except TypeError:  # a list model's columnCount is private to Python: one column
            columns = 1
        for row in range(min(model.rowCount(parent), 200)):
            for col in range(columns):
                if hasattr(view, "isColumnHidden") and view.isColumnHidden(col):
                    continue
                index = model.index(row, col, parent)
                text = index.data(Qt.ItemDataRole.DisplayRole)
                if text is None or not str(text).strip():
                    continue
                cell = view.visualRect(index)
                # A row scrolled mostly out of view shows no readable text: skip it.
                if cell.intersected(visible).height() < 0.6 * cell.height():
                    continue
                inner = cell.adjusted(2, 2, -2, -2).intersected(visible)
                rect = _visible_rect(viewport, root, inner)
                if rect.isEmpty():
                    continue
                font = index.data(Qt.ItemDataRole.FontRole) or view.font()
                out.append(
                    TextSpot(
                        f"{_name(view, str(text))} row {row}",
                        rect,
                        font_px(font, view),
                        _is_bold(font),
                        str(text),
                    )
                )

    walk(QModelIndex())
    return out


def grab_rgb(root: QWidget) -> np.ndarray:
    """``root`` as Qt paints it, as an H x W x 3 array (device-independent pixels)."""
    QApplication.processEvents()
    image = root.grab().toImage()
    ratio = image.devicePixelRatio()
    if ratio != 1:
        image = image.scaled(
            round(image.width() / ratio), round(image.height() / ratio)
        )  # pragma: no cover (offscreen and Xvfb are 1:1)
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    h, w, stride = image.height(), image.width(), image.bytesPerLine()
    data = np.frombuffer(image.constBits(), dtype=np.uint8, count=h * stride)
    return data.reshape(h, stride)[:, : w * 3].reshape(h, w, 3).copy()


def measure(pixels: np.ndarray, spot: TextSpot) -> Measured:
    r = spot.rect
    crop = pixels[max(r.top(), 0) : r.bottom() + 1, max(r.left(), 0) : r.right() + 1]
    h, w = crop.shape[:2]
    # Leave out the four corners: a rounded background shows its parent's colour there,
    # which is not text (and text never sits in a corner).
    keep = np.ones((h, w), dtype=bool)
    c = min(10, h // 4, w // 4)
    if c > 0:
        for rows in (slice(0, c), slice(h - c, h)):
            for cols in (slice(0, c), slice(w - c, w)):
                keep[rows, cols] = False
    flat = crop[keep].reshape(-1, 3)
    if flat.size == 0:
        return Measured(spot, (0, 0, 0), (0, 0, 0), 21.0)
    colours, counts = np.unique(flat, axis=0, return_counts=True)
    background = colours[int(np.argmax(counts))]
    candidates = colours[counts >= min(MIN_PIXELS, int(counts.max()))]
    lb = float(luminance(background))
    lum = luminance(candidates)
    ratios = (np.maximum(lum, lb) + 0.05) / (np.minimum(lum, lb) + 0.05)
    best = int(np.argmax(ratios))
    return Measured(
        spot,
        tuple(int(v) for v in background),
        tuple(int(v) for v in candidates[best]),
        float(ratios[best]),
    )


def check(root: QWidget, save_failures: Path | None = None) -> tuple[list[Measured], list[str]]:
    """(every measurement, the failures as sentences) for the text visible in ``root``."""
    pixels = grab_rgb(root)
    results = [measure(pixels, spot) for spot in text_spots(root)]
    failures = [m.describe() for m in results if not m.ok]
    if save_failures is not None and failures:
        save_failures.mkdir(parents=True, exist_ok=True)
        image = root.grab()
        for i, m in enumerate(x for x in results if not x.ok):
            image.copy(m.spot.rect).save(str(save_failures / f"fail-{i:02d}.png"))
    return results, failures


def window_point(widget: QWidget) -> QPoint:
    return widget.mapTo(widget.window(), QPoint(0, 0))
