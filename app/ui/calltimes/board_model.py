"""The call-time board as a Qt table model, and its department/name filter.

The model holds an immutable ``Board`` snapshot plus a clock. ``tick()`` (every second)
repaints the countdown column, and the status column only for rows whose status changed,
so a board of hundreds of people costs almost nothing per second.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, tzinfo

from app.domain import calltimes as rules
from app.domain.text import fold
from app.store.calltimes_store import Board, BoardRow
from app.ui.qt import (
    QAbstractTableModel,
    QBrush,
    QColor,
    QFont,
    QIcon,
    QModelIndex,
    QPainter,
    QPen,
    QPixmap,
    QSortFilterProxyModel,
    Qt,
)

COLUMNS = ("Name", "Department", "Role", "Call", "Countdown", "Status", "Location", "Note")
COL_NAME, COL_DEPT, COL_ROLE, COL_CALL, COL_COUNTDOWN, COL_STATUS, COL_LOCATION, COL_NOTE = range(8)

ROW_ID_ROLE = Qt.ItemDataRole.UserRole + 1
STATUS_ROLE = Qt.ItemDataRole.UserRole + 2

S = rules.CallStatus
# status -> (background, foreground, glyph drawn in the icon)
STATUS_STYLE: dict[rules.CallStatus, tuple[str, str, str]] = {
    S.LATE: ("#c62828", "#ffffff", "!"),
    S.NO_SHOW: ("#424242", "#ffffff", "×"),
    S.ARRIVED: ("#c8e6c9", "#1b5e20", "✓"),
    S.CONFIRMED: ("#e3f2fd", "#0d47a1", "C"),
    S.SCHEDULED: ("#ffffff", "#37474f", "·"),
    S.UNSCHEDULED: ("#fff3e0", "#e65100", "?"),
}
_ICON_COLOURS: dict[rules.CallStatus, str] = {
    S.LATE: "#c62828",
    S.NO_SHOW: "#424242",
    S.ARRIVED: "#2e7d32",
    S.CONFIRMED: "#1565c0",
    S.SCHEDULED: "#78909c",
    S.UNSCHEDULED: "#ef6c00",
}
_icons: dict[rules.CallStatus, QIcon] = {}


def status_icon(status: rules.CallStatus) -> QIcon:
    """A small round badge with a glyph, so status never relies on colour alone."""
    if status not in _icons:
        pix = QPixmap(18, 18)
        pix.fill(QColor(0, 0, 0, 0))
        p = QPainter(pix)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setBrush(QColor(_ICON_COLOURS[status]))
        p.setPen(QPen(QColor("#ffffff"), 1.5))
        p.drawEllipse(1, 1, 16, 16)
        font = QFont()
        font.setBold(True)
        font.setPixelSize(12)
        p.setFont(font)
        p.drawText(pix.rect(), Qt.AlignmentFlag.AlignCenter, STATUS_STYLE[status][2])
        p.end()
        _icons[status] = QIcon(pix)
    return _icons[status]


class CallBoardModel(QAbstractTableModel):
    def __init__(
        self,
        clock: Callable[[], datetime],
        no_show_after_minutes: int | None = rules.DEFAULT_NO_SHOW_MINUTES,
    ) -> None:
        super().__init__()
        self.clock = clock
        self.no_show_after_minutes = no_show_after_minutes
        self.board: Board | None = None
        self.rows: tuple[BoardRow, ...] = ()
        self._status: list[rules.StatusInfo] = []
        self._now = clock()

    # --- data in ----------------------------------------------------------------------------
    def set_board(self, board: Board) -> None:
        self.beginResetModel()
        self.board = board
        self.rows = board.rows
        self._now = self.clock()
        self._status = [self._compute(r) for r in self.rows]
        self.endResetModel()

    def tick(self) -> list[int]:
        """Re-read the clock: repaint countdowns, and statuses that changed. Returns those rows."""
        if not self.rows:
            return []
        self._now = self.clock()
        changed = []
        for i, row in enumerate(self.rows):
            info = self._compute(row)
            if info.status != self._status[i].status:
                changed.append(i)
            self._status[i] = info
        last = len(self.rows) - 1
        self.dataChanged.emit(self.index(0, COL_COUNTDOWN), self.index(last, COL_COUNTDOWN))
        for i in changed:
            self.dataChanged.emit(self.index(i, 0), self.index(i, len(COLUMNS) - 1))
        return changed

    def _tz(self) -> tzinfo:
        return self.board.tz if self.board else UTC

    def _compute(self, row: BoardRow) -> rules.StatusInfo:
        return row.status(self._now, self.no_show_after_minutes, self._tz())

    # --- lookups ----------------------------------------------------------------------------
    def row_of(self, call_time_id: str) -> int:
        for i, row in enumerate(self.rows):
            if row.call_time_id == call_time_id:
                return i
        return -1

    def status_of(self, call_time_id: str) -> rules.StatusInfo | None:
        i = self.row_of(call_time_id)
        return self._status[i] if i >= 0 else None

    def counts(self) -> dict[rules.CallStatus, int]:
        out = {s: 0 for s in rules.CallStatus}
        for info in self._status:
            out[info.status] += 1
        return out

    # --- Qt model ---------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        row = self.rows[index.row()]
        info = self._status[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, info, col)
        if role == ROW_ID_ROLE:
            return row.call_time_id
        if role == STATUS_ROLE:
            return info.status
        if role == Qt.ItemDataRole.DecorationRole and col == COL_STATUS:
            return status_icon(info.status)
        if role == Qt.ItemDataRole.BackgroundRole and col in (COL_STATUS, COL_COUNTDOWN):
            return QBrush(QColor(STATUS_STYLE[info.status][0]))
        if role == Qt.ItemDataRole.ForegroundRole:
            if col in (COL_STATUS, COL_COUNTDOWN):
                return QBrush(QColor(STATUS_STYLE[info.status][1]))
            if col == COL_NOTE and (row.call.day_before or not row.call.scheduled):
                return QBrush(QColor("#b71c1c"))
        if role == Qt.ItemDataRole.FontRole and (
            col == COL_STATUS or (col == COL_NAME and info.status in (S.LATE, S.NO_SHOW))
        ):
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.call.note or row.call.message or row.notes
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return self._text(row, info, col)
        return None

    def _text(self, row: BoardRow, info: rules.StatusInfo, col: int) -> str:
        tz = self._tz()
        if col == COL_NAME:
            return row.name
        if col == COL_DEPT:
            return rules.department_label(row.department)
        if col == COL_ROLE:
            return row.role
        if col == COL_CALL:
            if row.call.at is None:
                return "—"
            text = rules.format_clock(row.call.at, tz)
            if row.call.source == "offset":
                text += f"  (GC {row.offset_minutes:+d})"
            return text
        if col == COL_COUNTDOWN:
            return info.countdown
        if col == COL_STATUS:
            return info.words
        if col == COL_LOCATION:
            return row.location or ""
        if col == COL_NOTE:
            return row.call.note or row.call.message or row.notes or ""
        return ""


class BoardFilter(QSortFilterProxyModel):
    """Department (None = all) and a name search that ignores accents and case."""

    def __init__(self) -> None:
        super().__init__()
        self.department: str | None = None
        self.search = ""

    def set_department(self, department: str | None) -> None:
        self.beginFilterChange()
        self.department = department
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_search(self, text: str) -> None:
        self.beginFilterChange()
        self.search = fold(text.strip())
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex) -> bool:  # noqa: N802
        model: CallBoardModel = self.sourceModel()
        if source_row >= len(model.rows):
            return False
        row = model.rows[source_row]
        if self.department and rules.department_key(row.department) != self.department:
            return False
        if self.search:
            haystack = fold(f"{row.name} {row.role}")
            if not all(word in haystack for word in self.search.split()):
                return False
        return True
