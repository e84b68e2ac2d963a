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

STATUS_COLOURS = {
    "pending": ("#D5D5D5", "#202020"),
    "fitted": ("#90CAF9", "#0D2A45"),
    "dressed": ("#CE93D8", "#3A0F45"),
    "ready": ("#81C784", "#0F3312"),
    "walked": ("#455A64", "#FFFFFF"),
}
QUICK_COLOURS = ("#FFB300", "#2B1D00")
REMOVED_COLOURS = ("#E57373", "#3A0000")


class LineupTableModel(QAbstractTableModel):
    moved = Signal(object)  # MovePlan applied on screen, to be saved
    edited = Signal(str, str, object)  # appearance id, field (model_id/look_id/notes), value
    message = Signal(str)  # a sentence for the status line

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
            return Qt.ItemFlag.ItemIsDropEnabled if not self.locked else Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if not self.locked:
            flags |= Qt.ItemFlag.ItemIsDragEnabled
            if index.column() in EDITABLE:
                flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        a = self.appearance_at(index.row())
        if a is None:
            return None
        col = index.column()
        if role == AppearanceIdRole:
            return a.id
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(a, col, index.row())
        if role == Qt.ItemDataRole.EditRole:
            return {MODEL: a.model_id, LOOK: a.look_id, NOTES: a.notes or ""}.get(col)
        if role == Qt.ItemDataRole.DecorationRole and col == PHOTO:
            return picture(a.look_id, a.photo_path, a.look_title, THUMB)
        if role == Qt.ItemDataRole.BackgroundRole:
            colours = self._colours(a, col)
            return QBrush(QColor(colours[0])) if colours else None
        if role == Qt.ItemDataRole.ForegroundRole:
            colours = self._colours(a, col)
            return QBrush(QColor(colours[1])) if colours else None
        if role == Qt.ItemDataRole.FontRole and (
            col in (NUM, STATUS) or (col == QUICK and a.id in self._quick)
        ):
            return self._bold
        if role == Qt.ItemDataRole.ToolTipRole:
            warnings = self.lineup.warnings_for(a.id)
            return "\n".join(warnings) if warnings else None
        if role == Qt.ItemDataRole.SizeHintRole and col == PHOTO:
            return QSize(THUMB + 8, THUMB + 4)
        if role == Qt.ItemDataRole.TextAlignmentRole and col == NUM:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

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
            return f"QUICK CHANGE: {q.looks_between} since look {q.first_number}, {q.seconds} s"
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
        """Show a plan's writes, keeping persistent indexes (selection) on the same looks."""
        self.layoutAboutToBeChanged.emit()
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
        self.layoutChanged.emit()

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
