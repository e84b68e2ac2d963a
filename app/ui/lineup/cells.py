"""Board cells painted from a cache of finished pictures.

A drop changes which look each row shows, so the whole visible board repaints; drawing every
cell through the style (and asking the model for seven roles per cell) took most of a frame.
The picture of a cell depends only on what it shows, its size and its state (selected, has
focus, window active), so each is rendered once by the ordinary delegate and reused: after a
move only the cells whose content changed (mostly the walk number) are drawn again.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable

from app.ui.qt import (
    QPainter,
    QPixmap,
    QRect,
    QSize,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    Qt,
)

_S = QStyle.StateFlag
_STATE_MASK = (
    _S.State_Selected | _S.State_HasFocus | _S.State_Active | _S.State_Enabled | _S.State_Editing
).value
_NO_ALTERNATE = ~QStyleOptionViewItem.ViewItemFeature.Alternate
CACHE_LIMIT = 6000


class CachedCellDelegate(QStyledItemDelegate):
    """Paints a cell from its cached picture; renders (and keeps) it when it changed.

    ``content_key(row, column)`` names what a cell shows (text, colours, font, picture);
    None means "do not cache", and the cell is drawn the ordinary way.
    """

    def __init__(self, content_key: Callable[[int, int], Hashable | None], parent=None) -> None:
        super().__init__(parent)
        self._content_key = content_key
        self._pictures: OrderedDict[tuple, QPixmap] = OrderedDict()
        self._ratio = 1.0

    def clear(self) -> None:
        self._pictures.clear()

    def set_ratio(self, ratio: float) -> None:
        """The device pixel ratio of the view being painted (called once per paint)."""
        self._ratio = ratio

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index) -> None:
        content = self._content_key(index.row(), index.column())
        if content is None:
            super().paint(painter, option, index)
            return
        rect = option.rect
        x, y, width, height = rect.x(), rect.y(), rect.width(), rect.height()
        key = (content, width, height, option.state.value & _STATE_MASK, self._ratio)
        picture = self._pictures.get(key)
        if picture is None:
            picture = self._render(option, index, width, height)
            self._pictures[key] = picture
            if len(self._pictures) > CACHE_LIMIT:
                self._pictures.popitem(last=False)
        painter.drawPixmap(x, y, picture)

    def _render(self, option: QStyleOptionViewItem, index, width: int, height: int) -> QPixmap:
        ratio = self._ratio
        picture = QPixmap(QSize(round(width * ratio), round(height * ratio)))
        picture.setDevicePixelRatio(ratio)
        picture.fill(Qt.GlobalColor.transparent)
        local = QStyleOptionViewItem(option)
        local.rect = QRect(0, 0, width, height)
        # The row's alternating shade is painted by the view under the cell, so a picture
        # stays right when its look moves to a row of the other shade.
        local.features = local.features & _NO_ALTERNATE
        painter = QPainter(picture)
        super().paint(painter, local, index)
        painter.end()
        return picture
