"""The lineup board's Qt model: one row per look in walk order (model/view, not a widget per row).

A move goes through ``request_move``: the domain plans the one-row key write, the model shows
it at once (persistent indexes follow the rows, so selection stays on the moved look) and
emits ``moved(plan)``; the tab saves the plan on the DB worker. Drag and drop (the view's
internal move) and ``moveRows`` both end up here.
"""

from __future__ import annotations

from dataclasses import replace

from app.domain.lineup import Appearance, Lineup, MovePlan, status_label
from app.ui.lineup.thumbs import picture
from app.ui.qt import (
    QAbstractTableModel,
    QBrush,
    QColor,
    QFont,
    QMimeData,
    QModelIndex,
    QSize,
    Qt,
    Signal,
)

MIME_TYPE = "application/x-showdesk-appearance"
THUMB = 40

COLUMNS = [
    "No.",
    "Segment",
    "Photo",
    "Look",
    "Designer",
    "Model",
    "Status",
    "Quick change",
    "Notes",
]
NUM, SEG, PHOTO, LOOK, DESIGNER, MODEL, STATUS, QUICK, NOTES = range(len(COLUMNS))
EDITABLE = {MODEL, LOOK, NOTES}
AppearanceIdRole = Qt.ItemDataRole.UserRole + 1
_ALIGNMENTS = [None] * len(COLUMNS)
_ALIGNMENTS[NUM] = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_SIZES = [None] * len(COLUMNS)
_SIZES[PHOTO] = QSize(THUMB + 8, THUMB + 4)

STATUS_COLOURS = {
    "pending": ("#D5D5D5", "#202020"),
    "fitted": ("#90CAF9", "#0D2A45"),
    "dressed": ("#CE93D8", "#3A0F45"),
    "ready": ("#81C784", "#0F3312"),
    "walked": ("#455A64", "#FFFFFF"),
}
QUICK_COLOURS = ("#FFB300", "#2B1D00")

_F = Qt.ItemFlag
_ROOT_DROP = _F.ItemIsDropEnabled
_ROOT_LOCKED = _F.NoItemFlags
_LOCKED = _F.ItemIsEnabled | _F.ItemIsSelectable
_MOVABLE = _LOCKED | _F.ItemIsDragEnabled
_EDITABLE = _MOVABLE | _F.ItemIsEditable
_R = Qt.ItemDataRole
_DISPLAY, _EDIT, _DECORATION = int(_R.DisplayRole), int(_R.EditRole), int(_R.DecorationRole)
_BACKGROUND, _FOREGROUND, _FONT = int(_R.BackgroundRole), int(_R.ForegroundRole), int(_R.FontRole)
_ALIGN, _SIZE = int(_R.TextAlignmentRole), int(_R.SizeHintRole)
_CONTENT = -1  # not a Qt role: what a cell shows, as a key for its cached picture
_brushes: dict[str, QBrush] = {}


def _brush(colour: str) -> QBrush:
    brush = _brushes.get(colour)
    if brush is None:
        brush = _brushes[colour] = QBrush(QColor(colour))
    return brush


REMOVED_COLOURS = ("#E57373", "#3A0000")


class LineupTableModel(QAbstractTableModel):
    moved = Signal(object)  # MovePlan applied on screen, to be saved
    edited = Signal(str, str, object)  # appearance id, field (model_id/look_id/notes), value
    message = Signal(str)  # a sentence for the status line
    reordered = Signal()  # rows now show other looks (a move or an undo)

    def __init__(self, lineup: Lineup | None = None, parent=None) -> None:
        super().__init__(parent)
        self.lineup = lineup
        self.locked = False
        self.model_names: dict[str, str] = {}
        self.look_titles: dict[str, str] = {}
        self._quick: dict[str, object] = {}
        self._bold = QFont()
        self._bold.setBold(True)
        self._refresh_derived()

    # --- content ------------------------------------------------------------------------

    def set_lineup(self, lineup: Lineup | None) -> None:
        self.beginResetModel()
        self.lineup = lineup
        self._refresh_derived()
        self.endResetModel()

    def _refresh_derived(self) -> None:
        self._cache: dict[int, dict[int, list]] = {}
        self._quick = self.lineup.quick_change_by_second() if self.lineup else {}

    def appearance_at(self, row: int) -> Appearance | None:
        if self.lineup is None or not 0 <= row < len(self.lineup):
            return None
        return self.lineup.at(row)

    def row_of(self, appearance_id: str) -> int:
        if self.lineup is None or self.lineup.get(appearance_id) is None:
            return -1
        return self.lineup.index_of(appearance_id)

    def set_locked(self, locked: bool) -> None:
        self.locked = locked
        if self.rowCount():
            self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, NOTES))

    # --- QAbstractTableModel ------------------------------------------------------------

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() or self.lineup is None:
            return 0
        return len(self.lineup)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def flags(self, index: QModelIndex):
        if not index.isValid():
            # Drops land between rows (the root accepts them), never "onto" a look.
            return _ROOT_LOCKED if self.locked else _ROOT_DROP
        if self.locked:
            return _LOCKED
        return _EDITABLE if index.column() in EDITABLE else _MOVABLE

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        # Painting 200 looks asks for ~1000 cells a frame: rows are computed once into plain
        # lists per role, then each call is two look-ups.
        row = index.row()
        cached = self._roles(row)
        if cached is None:
            return None
        values = cached.get(int(role))
        if values is not None:
            return values[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole:
            warnings = self.lineup.warnings_for(self.lineup.at(row).id)
            return "\n".join(warnings) if warnings else None
        return None

    def content_key(self, row: int, column: int) -> tuple | None:
        """What the cell shows (text, colours, bold, picture): its picture's cache key."""
        cached = self._roles(row)
        return None if cached is None else cached[_CONTENT][column]

    def _roles(self, row: int) -> dict[int, list] | None:
        cached = self._cache.get(row)
        if cached is None:
            a = self.appearance_at(row)
            if a is None:
                return None
            cached = self._cache[row] = self._row_roles(a, row)
        return cached

    def _row_roles(self, a: Appearance, row: int) -> dict[int, list]:
        ncols = len(COLUMNS)
        display = [self._display(a, col, row) for col in range(ncols)]
        edit = [None] * ncols
        edit[MODEL], edit[LOOK], edit[NOTES] = a.model_id, a.look_id, a.notes or ""
        decoration = [None] * ncols
        decoration[PHOTO] = picture(a.look_id, a.photo_path, a.look_title, THUMB)
        background = [None] * ncols
        foreground = [None] * ncols
        colour_names: list = [None] * ncols
        for col in (STATUS, QUICK, MODEL):
            colours = colour_names[col] = self._colours(a, col)
            if colours:
                background[col], foreground[col] = _brush(colours[0]), _brush(colours[1])
        font = [None] * ncols
        font[NUM] = font[STATUS] = self._bold
        if a.id in self._quick:
            font[QUICK] = self._bold
        photo = (a.look_id, a.photo_path, a.look_title)
        content = [
            (
                col,
                display[col],
                colour_names[col],
                font[col] is not None,
                photo if col == PHOTO else None,
            )
            for col in range(ncols)
        ]
        return {
            _CONTENT: content,
            _DISPLAY: display,
            _EDIT: edit,
            _DECORATION: decoration,
            _BACKGROUND: background,
            _FOREGROUND: foreground,
            _FONT: font,
            _ALIGN: _ALIGNMENTS,
            _SIZE: _SIZES,
            int(AppearanceIdRole): [a.id] * ncols,
        }

    def _display(self, a: Appearance, col: int, row: int) -> str | None:
        if col == NUM:
            pin = " OPEN" if a.is_opening else (" CLOSE" if a.is_closing else "")
            return f"{row + 1}{pin}"
        if col == SEG:
            return self.lineup.segment_name(a)
        if col == LOOK:
            return a.look_title
        if col == DESIGNER:
            return a.designer or ""
        if col == MODEL:
            return a.model_label
        if col == STATUS:
            return status_label(a.status)
        if col == QUICK:
            q = self._quick.get(a.id)
            if q is None:
                return ""
            looks = f"{q.looks_between} look{'s' if q.looks_between != 1 else ''}"
            return f"QUICK CHANGE: {looks} since look {q.first_number}, {q.seconds} s"
        if col == NOTES:
            return a.notes or ""
        return None

    def _colours(self, a: Appearance, col: int) -> tuple[str, str] | None:
        if col == STATUS:
            return STATUS_COLOURS.get(a.status)
        if col == QUICK and a.id in self._quick:
            return QUICK_COLOURS
        if col == MODEL and (a.model_removed or a.model_id is None):
            return REMOVED_COLOURS
        return None

    def setData(self, index: QModelIndex, value, role=Qt.ItemDataRole.EditRole) -> bool:
        a = self.appearance_at(index.row())
        if a is None or role != Qt.ItemDataRole.EditRole or self.locked:
            return False
        col = index.column()
        if col == NOTES:
            notes = " ".join(str(value or "").split()) or None
            updated, field, saved = replace(a, notes=notes), "notes", notes
        elif col == MODEL:
            model_id = value or None
            name = self.model_names.get(model_id) if model_id else None
            if model_id and name is None:
                self.message.emit("That model is not in this event.")
                return False
            updated, field, saved = (
                replace(a, model_id=model_id, model_name=name),
                "model_id",
                model_id,
            )
        elif col == LOOK:
            title = self.look_titles.get(value)
            if title is None:
                self.message.emit("That look is not in this event.")
                return False
            updated, field, saved = replace(a, look_id=value, look_title=title), "look_id", value
        else:
            return False
        self.lineup.replace_appearance(updated)
        self._refresh_derived()
        self._all_changed()
        self.edited.emit(a.id, field, saved)
        return True

    def _all_changed(self) -> None:
        if self.rowCount():
            self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, NOTES))

    # --- moves --------------------------------------------------------------------------

    def request_move(self, appearance_id: str, to_index: int) -> MovePlan | None:
        """Move a look to walk position ``to_index`` (0-based). None when nothing moved."""
        if self.locked:
            self.message.emit("Show mode: the lineup is locked. Switch to Edit mode to reorder.")
            return None
        if self.lineup is None:
            return None
        plan = self.lineup.plan_move(appearance_id, to_index)
        if plan.message:
            self.message.emit(plan.message)
        if not plan.changed:
            return None
        self.apply_plan(plan)
        self.moved.emit(plan)
        return plan

    def apply_plan(self, plan: MovePlan) -> None:
        """Show a plan's writes, keeping persistent indexes (selection) on the same looks.

        A reorder changes what rows show, never the table's shape, so it is announced as
        data changing rather than as a layout change: a layout change makes the view and its
        headers lay themselves out again and paint twice, which cost a frame per drop.
        """
        before = self.persistentIndexList()
        ids = [self.data(i, AppearanceIdRole) for i in before]
        self.lineup.apply(plan)
        self._refresh_derived()
        after = [
            self.index(self.lineup.index_of(i), p.column())
            if i and self.lineup.get(i)
            else QModelIndex()
            for i, p in zip(ids, before, strict=True)
        ]
        self.changePersistentIndexList(before, after)
        self._all_changed()
        self.reordered.emit()

    def moveRows(
        self, source_parent, source_row, count, destination_parent, destination_child
    ) -> bool:
        """Qt's move (destination counted before the move); one look at a time."""
        if count != 1 or source_parent.isValid() or destination_parent.isValid():
            return False
        a = self.appearance_at(source_row)
        if a is None:
            return False
        final = destination_child if destination_child <= source_row else destination_child - 1
        return self.request_move(a.id, final) is not None

    def removeRows(self, row, count, parent=QModelIndex()) -> bool:  # noqa: B008
        # The view's internal move asks to remove the dragged rows after a drop: a move is
        # already done by dropMimeData, and looks are never deleted from the board.
        return False

    # --- drag and drop -------------------------------------------------------------------

    def supportedDropActions(self):
        return Qt.DropAction.MoveAction

    def supportedDragActions(self):
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [MIME_TYPE]

    def mimeData(self, indexes) -> QMimeData:
        rows = sorted({i.row() for i in indexes if i.isValid()})
        ids = [self.lineup.at(r).id for r in rows if self.appearance_at(r)]
        mime = QMimeData()
        mime.setData(MIME_TYPE, "\n".join(ids).encode())
        return mime

    def canDropMimeData(self, data, action, row, column, parent) -> bool:
        if self.locked or self.lineup is None or not data.hasFormat(MIME_TYPE):
            return False
        ids = bytes(data.data(MIME_TYPE)).decode().split()
        return bool(ids) and self.lineup.get(ids[0]) is not None

    def dropMimeData(self, data, action, row, column, parent) -> bool:
        if self.locked or not data.hasFormat(MIME_TYPE) or action == Qt.DropAction.IgnoreAction:
            return False
        ids = bytes(data.data(MIME_TYPE)).decode().split()
        if not ids or self.lineup is None or self.lineup.get(ids[0]) is None:
            return False
        if row < 0:
            row = parent.row() if parent.isValid() else self.rowCount()
        source = self.lineup.index_of(ids[0])
        final = row if row <= source else row - 1
        if len(ids) > 1:
            self.message.emit("Looks move one at a time: moved the first selected look.")
        return self.request_move(ids[0], final) is not None
