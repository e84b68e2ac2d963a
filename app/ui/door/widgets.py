"""Small widgets of the door screen: labels that fit, elide or wrap their text without ever
widening the window, and the verdict icons."""

from __future__ import annotations

import math

from app.ui.qt import (
    QColor,
    QEvent,
    QFont,
    QFontMetrics,
    QLabel,
    QListView,
    QPainter,
    QPainterPath,
    QPen,
    QPointF,
    QPolygonF,
    QRectF,
    QSize,
    QSizePolicy,
    QStyledItemDelegate,
    Qt,
    QWidget,
)


def breakable(text: str, longest: int = 24) -> str:
    """``text`` with zero-width spaces inside words longer than ``longest`` characters (a long
    email, URL or ticket code), so a word-wrapped label can break them instead of widening."""
    if len(text) <= longest:
        return text
    step = max(4, longest // 2)
    words = []
    for word in text.split(" "):
        if len(word) > longest:
            word = "\u200b".join(word[i : i + step] for i in range(0, len(word), step))
        words.append(word)
    return " ".join(words)


class WrapLabel(QLabel):
    """A word-wrapped label that never widens its window: long words break anywhere."""

    def __init__(self, text: str = "") -> None:
        super().__init__()
        self.setWordWrap(True)
        # Ignored: the layout gives the width; the label only asks for the height it needs.
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt naming)
        super().setText(breakable(text or ""))

    def text(self) -> str:
        return super().text().replace("\u200b", "")


class ElidedLabel(QLabel):
    """One line that ends in "…" when it does not fit (the whole text in its tooltip and
    ``text()``); it never widens its window, whatever it is given."""

    def __init__(
        self, text: str = "", mode: Qt.TextElideMode = Qt.TextElideMode.ElideRight
    ) -> None:
        super().__init__()
        self._full = ""
        self._mode = mode
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt naming)
        self._full = text or ""
        self._elide()

    def text(self) -> str:
        return self._full

    def shown_text(self) -> str:
        """What is on screen (the elided text)."""
        return super().text()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._elide()

    def changeEvent(self, event) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._elide()

    def _elide(self) -> None:
        width = max(self.contentsRect().width(), 10)
        shown = QFontMetrics(self.font()).elidedText(self._full, self._mode, width)
        super().setText(shown)
        self.setToolTip(self._full if shown != self._full else "")


class _RowWidthDelegate(QStyledItemDelegate):
    """Rows as wide as the list's viewport, so a long row ends in "…" (the view's elide
    mode) instead of running on under the edge, clipped with no sign that it goes on."""

    def __init__(self, view: QListView) -> None:
        super().__init__(view)
        self._view = view

    def sizeHint(self, option, index) -> QSize:  # noqa: N802
        hint = super().sizeHint(option, index)
        return QSize(min(hint.width(), max(self._view.viewport().width(), 40)), hint.height())


def elide_rows(view: QListView) -> None:
    """A list whose long rows end in "…" instead of being clipped or scrolled sideways."""
    view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    view.setTextElideMode(Qt.TextElideMode.ElideRight)
    view.setResizeMode(QListView.ResizeMode.Adjust)  # lay rows out again at every width
    view.setItemDelegate(_RowWidthDelegate(view))


class FitLabel(QLabel):
    """A one-line label whose font shrinks (down to ``min_px``) so the text always fits; at the
    smallest size it wraps, and with ``elide`` (for names and codes, not for our own words)
    text that two lines cannot hold ends in "…"."""

    def __init__(
        self,
        text: str = "",
        max_px: int = 96,
        min_px: int = 18,
        bold: bool = True,
        elide: bool = True,
    ) -> None:
        super().__init__()
        self.max_px = max_px
        self.min_px = min_px
        self._bold = bold
        self._elide = elide
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt naming)
        self._full = text or ""
        self._fit()

    def text(self) -> str:
        return self._full

    def shown_text(self) -> str:
        """What is on screen (shortened with "…" only when two lines at ``min_px`` are not
        enough)."""
        return super().text()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit()

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(200, int(self.max_px * 1.3))

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        lines = 2 if self.wordWrap() else 1
        return QSize(50, int(self.font().pixelSize() * 1.25 * lines))

    def _fit(self) -> None:
        font = QFont(self.font())
        font.setBold(self._bold)
        width = max(self.width() - 8, 50)
        text = self._full
        px = self.max_px
        while px > self.min_px:
            font.setPixelSize(px)
            if QFontMetrics(font).horizontalAdvance(text) <= width:
                break
            px -= 2
        font.setPixelSize(px)
        self.setFont(font)
        metrics = QFontMetrics(font)
        wrap = metrics.horizontalAdvance(text) > width
        if wrap and self._elide:
            # Two lines at the smallest size, if the words allow it; else one line with "…".
            box = metrics.boundingRect(0, 0, width, 10_000, int(Qt.TextFlag.TextWordWrap), text)
            if box.width() > width or box.height() > 2 * metrics.lineSpacing() + 2:
                text = metrics.elidedText(text, Qt.TextElideMode.ElideRight, width)
                wrap = False
        self.setWordWrap(wrap)
        super().setText(text)
        self.setToolTip(self._full if text != self._full else "")
        self.updateGeometry()


class VerdictIcon(QWidget):
    """A shape drawn in the panel's text colour: ✓ ✕ ! ? ⟲ clock, stop sign, exit arrow..."""

    def __init__(self, size: int = 150) -> None:
        super().__init__()
        self.shape = "qr"
        self.colour = QColor("#ffffff")
        self.setFixedSize(size, size)
        self.setAccessibleName("verdict icon")

    def set_shape(self, shape: str, colour: str) -> None:
        self.shape = shape
        self.colour = QColor(colour)
        self.setAccessibleDescription(shape)
        self.update()

    def paintEvent(self, _event) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        s = float(min(self.width(), self.height()))
        pen = QPen(
            self.colour,
            s * 0.085,
            Qt.PenStyle.SolidLine,
            Qt.PenCapStyle.RoundCap,
            Qt.PenJoinStyle.RoundJoin,
        )
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        m = s * 0.08
        ring = QRectF(m, m, s - 2 * m, s - 2 * m)
        draw = getattr(self, f"_draw_{self.shape}", self._draw_bang)
        draw(p, s, ring)
        p.end()

    # Each drawer gets the painter, the side length and the outer ring rectangle.
    def _draw_check(self, p: QPainter, s: float, ring: QRectF) -> None:
        p.drawEllipse(ring)
        p.drawPolyline(
            QPolygonF(
                [
                    QPointF(s * 0.28, s * 0.52),
                    QPointF(s * 0.44, s * 0.68),
                    QPointF(s * 0.73, s * 0.34),
                ]
            )
        )

    def _draw_cross(self, p: QPainter, s: float, ring: QRectF) -> None:
        p.drawEllipse(ring)
        p.drawLine(QPointF(s * 0.33, s * 0.33), QPointF(s * 0.67, s * 0.67))
        p.drawLine(QPointF(s * 0.67, s * 0.33), QPointF(s * 0.33, s * 0.67))

    def _draw_ban(self, p: QPainter, s: float, ring: QRectF) -> None:
        p.drawEllipse(ring)
        d = s * 0.5 * math.cos(math.pi / 4) * 0.84
        c = s / 2
        p.drawLine(QPointF(c - d, c - d), QPointF(c + d, c + d))

    def _draw_stop(self, p: QPainter, s: float, ring: QRectF) -> None:
        c, r = s / 2, (s / 2) * 0.86
        points = [
            QPointF(
                c + r * math.cos(math.pi / 8 + i * math.pi / 4),
                c + r * math.sin(math.pi / 8 + i * math.pi / 4),
            )
            for i in range(8)
        ]
        p.drawPolygon(QPolygonF(points))
        self._glyph(p, s, "!")

    def _draw_bang(self, p: QPainter, s: float, ring: QRectF) -> None:
        tri = QPolygonF(
            [QPointF(s / 2, s * 0.1), QPointF(s * 0.92, s * 0.88), QPointF(s * 0.08, s * 0.88)]
        )
        p.drawPolygon(tri)
        self._glyph(p, s, "!", dy=s * 0.08, scale=0.5)

    def _draw_question(self, p: QPainter, s: float, ring: QRectF) -> None:
        p.drawEllipse(ring)
        self._glyph(p, s, "?")

    def _draw_repeat(self, p: QPainter, s: float, ring: QRectF) -> None:
        inner = ring.adjusted(s * 0.06, s * 0.06, -s * 0.06, -s * 0.06)
        p.drawArc(inner, 90 * 16, 270 * 16)  # from 12 o'clock round to 3 o'clock
        tip = QPointF(inner.right(), inner.center().y() - s * 0.04)
        a = s * 0.13
        p.drawLine(tip, QPointF(tip.x() - a, tip.y() + a))
        p.drawLine(tip, QPointF(tip.x() + a, tip.y() + a))
        self._glyph(p, s, "2", scale=0.42)

    def _draw_clock(self, p: QPainter, s: float, ring: QRectF) -> None:
        p.drawEllipse(ring)
        p.drawLine(QPointF(s / 2, s / 2), QPointF(s / 2, s * 0.24))
        p.drawLine(QPointF(s / 2, s / 2), QPointF(s * 0.7, s * 0.6))

    def _draw_hourglass(self, p: QPainter, s: float, ring: QRectF) -> None:
        p.drawPolygon(
            QPolygonF(
                [
                    QPointF(s * 0.25, s * 0.12),
                    QPointF(s * 0.75, s * 0.12),
                    QPointF(s * 0.25, s * 0.88),
                    QPointF(s * 0.75, s * 0.88),
                ]
            )
        )

    def _draw_arrow(self, p: QPainter, s: float, ring: QRectF) -> None:
        path = QPainterPath(QPointF(s * 0.2, s * 0.85))
        path.lineTo(s * 0.2, s * 0.45)
        path.lineTo(s * 0.8, s * 0.45)
        p.drawPath(path)
        p.drawLine(QPointF(s * 0.8, s * 0.45), QPointF(s * 0.62, s * 0.28))
        p.drawLine(QPointF(s * 0.8, s * 0.45), QPointF(s * 0.62, s * 0.62))

    def _draw_exit(self, p: QPainter, s: float, ring: QRectF) -> None:
        p.drawPolyline(
            QPolygonF(
                [
                    QPointF(s * 0.5, s * 0.15),
                    QPointF(s * 0.15, s * 0.15),
                    QPointF(s * 0.15, s * 0.85),
                    QPointF(s * 0.5, s * 0.85),
                ]
            )
        )
        p.drawLine(QPointF(s * 0.38, s * 0.5), QPointF(s * 0.9, s * 0.5))
        p.drawLine(QPointF(s * 0.9, s * 0.5), QPointF(s * 0.72, s * 0.33))
        p.drawLine(QPointF(s * 0.9, s * 0.5), QPointF(s * 0.72, s * 0.67))

    def _draw_qr(self, p: QPainter, s: float, ring: QRectF) -> None:
        pen = p.pen()
        pen.setWidthF(s * 0.05)
        p.setPen(pen)
        for x, y in ((0.12, 0.12), (0.62, 0.12), (0.12, 0.62)):
            p.drawRect(QRectF(s * x, s * y, s * 0.26, s * 0.26))
        p.setBrush(self.colour)
        for x, y in ((0.64, 0.64), (0.78, 0.78), (0.64, 0.8), (0.8, 0.64)):
            p.drawRect(QRectF(s * x, s * y, s * 0.06, s * 0.06))

    def _glyph(
        self, p: QPainter, s: float, text: str, dy: float = 0.0, scale: float = 0.55
    ) -> None:
        font = QFont(self.font())
        font.setBold(True)
        font.setPixelSize(int(s * scale))
        p.setFont(font)
        p.drawText(QRectF(0, dy, s, s), Qt.AlignmentFlag.AlignCenter, text)
