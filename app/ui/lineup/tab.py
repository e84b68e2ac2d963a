"""The Lineup tab: a show's walk order to reorder, edit and run.

Edit mode: drag and drop or Ctrl+Up / Ctrl+Down / Ctrl+G to reorder (each move saves ONE
row's order key on the DB worker and shows at once), Ctrl+Z undoes the last moves, double
click a model, look or notes cell to edit it, Ctrl+] / Ctrl+[ move a look's status on.
Show mode: rows are locked; Space / PageDown / Right send the next look out and Backspace /
PageUp / Left take it back, driving the show display (opened on the other screen).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from app.domain.lineup import STATUSES, Lineup, MovePlan, next_status, previous_status, status_label
from app.errors import explain
from app.store import lineup_store
from app.store.lineup_store import Choice, ShowInfo
from app.ui import show_display
from app.ui.context import AppContext
from app.ui.lineup.cells import CachedCellDelegate
from app.ui.lineup.model import (
    COLUMNS,
    LOOK,
    MODEL,
    THUMB,
    LineupTableModel,
)
from app.ui.qt import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QEvent,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QKeySequence,
    QLabel,
    QMenu,
    QPushButton,
    QShortcut,
    QSize,
    QStackedWidget,
    Qt,
    QTableView,
    QTimer,
    QVBoxLayout,
    QWidget,
)
from app.ui.tasks import run_db

ALL = "__all__"
SAVE_AFTER_MS = 40
_PAPER = {
    "lineup": ("lineup_sheet_paper", "Lineup sheet"),
    "run-cards": ("run_cards_paper", "Run cards"),
}
_RESTYLE = {QEvent.Type.PaletteChange, QEvent.Type.FontChange, QEvent.Type.StyleChange}


class ChoiceDelegate(CachedCellDelegate):
    """A combo box of models or looks for one cell."""

    def __init__(
        self,
        content_key: Callable[[int, int], tuple | None],
        choices: Callable[[], list[Choice]],
        allow_none: bool,
        parent=None,
    ) -> None:
        super().__init__(content_key, parent)
        self._choices = choices
        self._allow_none = allow_none

    def createEditor(self, parent, option, index):
        combo = QComboBox(parent)
        if self._allow_none:
            combo.addItem("No model", None)
        for choice in self._choices():
            combo.addItem(choice.label, choice.id)
        return combo

    def setEditorData(self, editor, index) -> None:
        at = editor.findData(index.data(Qt.ItemDataRole.EditRole))
        editor.setCurrentIndex(max(0, at))

    def setModelData(self, editor, model, index) -> None:
        model.setData(index, editor.currentData(), Qt.ItemDataRole.EditRole)


class LineupView(QTableView):
    """The board's table; keys for moves and show control; notes when its paint finished."""

    def __init__(self, tab: LineupTab) -> None:
        super().__init__()
        self.tab = tab
        self.last_paint_end = 0.0

    def keyPressEvent(self, event) -> None:
        if self.tab.handle_key(event.key(), event.modifiers()):
            event.accept()
            return
        super().keyPressEvent(event)

    def paintEvent(self, event) -> None:
        ratio = self.viewport().devicePixelRatio()
        for delegate in self._cached_delegates():
            delegate.set_ratio(ratio)
        super().paintEvent(event)
        self.last_paint_end = time.perf_counter()
        self.tab.after_paint()

    def changeEvent(self, event) -> None:
        # Cell pictures were drawn with the old palette, font or style.
        if event.type() in _RESTYLE:
            for delegate in self._cached_delegates():
                delegate.clear()
        super().changeEvent(event)

    def _cached_delegates(self) -> list[CachedCellDelegate]:
        delegates = {self.itemDelegate(), *map(self.itemDelegateForColumn, (LOOK, MODEL))}
        return [d for d in delegates if isinstance(d, CachedCellDelegate)]


class LineupTab(QWidget):
    """Show picker, the lineup board, edit/show mode, filters, undo, the show display."""

    def __init__(self, ctx: AppContext, clock: Callable[[], datetime] | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.clock = clock or (lambda: datetime.now(UTC))
        self.show_id: str | None = None
        self.timezone = "UTC"
        self.mode = "edit"
        self.undo_stack: list[MovePlan] = []
        self._edit_gen = 0
        self._own_notify = False
        self._rows_hidden = False
        self._models: list[Choice] = []
        self._looks: list[Choice] = []
        self.display: show_display.ShowDisplay | None = None
        self._unsaved: list[MovePlan] = []
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.timeout.connect(self._flush_saves)
        self.model = LineupTableModel(None, self)
        self.model.moved.connect(self._on_moved)
        self.model.edited.connect(self._on_edited)
        self.model.message.connect(self.say)
        self.model.reordered.connect(self.apply_filter)
        self.model.modelReset.connect(self.apply_filter)
        self._build()
        ctx.events.changed.connect(self._on_data_changed)
        self.load_shows()

    # --- layout -------------------------------------------------------------------------

    def _build(self) -> None:
        self.show_picker = QComboBox()
        self.show_picker.setMinimumWidth(220)
        self.show_picker.currentIndexChanged.connect(self._on_show_picked)
        self.edit_button = QPushButton("&Edit mode")
        self.show_button = QPushButton("S&how mode")
        self.mode_group = QButtonGroup(self)
        for button in (self.edit_button, self.show_button):
            button.setCheckable(True)
            self.mode_group.addButton(button)
        self.edit_button.setChecked(True)
        self.edit_button.clicked.connect(lambda: self.set_mode("edit"))
        self.show_button.clicked.connect(lambda: self.set_mode("show"))
        self.display_button = QPushButton("Open show &display")
        self.display_button.clicked.connect(self.open_display)
        self.undo_button = QPushButton("Undo move")
        self.undo_button.setToolTip("Ctrl+Z: put the last moved look back")
        self.undo_button.clicked.connect(self.undo)
        self.status_back = QPushButton("◀ Status")
        self.status_back.setToolTip("Ctrl+[: previous status")
        self.status_back.clicked.connect(lambda: self.step_status(-1))
        self.status_next = QPushButton("Status ▶")
        self.status_next.setToolTip(
            "Ctrl+]: next status (pending → fitted → dressed → ready → walked)"
        )
        self.status_next.clicked.connect(lambda: self.step_status(1))
        self.model_filter = QComboBox()
        self.model_filter.currentIndexChanged.connect(self.apply_filter)
        self.status_filter = QComboBox()
        self.status_filter.addItem("All statuses", ALL)
        for status in STATUSES:
            self.status_filter.addItem(status_label(status), status)
        self.status_filter.currentIndexChanged.connect(self.apply_filter)
        self.summary = QLabel()
        self.pdf_button = QPushButton("Lineup PDF…")
        self.pdf_button.clicked.connect(self._lineup_pdf)
        self.cards_button = QPushButton("Run cards PDF…")
        self.cards_button.clicked.connect(self._run_cards_pdf)
        self.print_button = QPushButton("&Print…")
        self.print_button.setToolTip("Ctrl+P: print the lineup sheet")
        paper = QMenu(self.print_button)
        paper.addAction("Lineup sheet…", lambda: self.print_paper("lineup"))
        paper.addAction("Run cards, one page per model…", lambda: self.print_paper("run-cards"))
        self.print_button.setMenu(paper)
        print_key = QShortcut(QKeySequence(QKeySequence.StandardKey.Print), self)
        print_key.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        print_key.activated.connect(lambda: self.print_paper("lineup"))

        bar = QHBoxLayout()
        bar.addWidget(QLabel("Show:"))
        bar.addWidget(self.show_picker)
        bar.addWidget(self.edit_button)
        bar.addWidget(self.show_button)
        bar.addWidget(self.display_button)
        bar.addSpacing(12)
        bar.addWidget(self.undo_button)
        bar.addWidget(self.status_back)
        bar.addWidget(self.status_next)
        bar.addStretch(1)
        bar.addWidget(self.pdf_button)
        bar.addWidget(self.cards_button)
        bar.addWidget(self.print_button)
        self.model_filter.setMinimumWidth(180)
        self.status_filter.setMinimumWidth(130)
        filters = QHBoxLayout()
        filters.addWidget(QLabel("Filter by model:"))
        filters.addWidget(self.model_filter)
        filters.addWidget(QLabel("status:"))
        filters.addWidget(self.status_filter)
        filters.addSpacing(16)
        filters.addWidget(self.summary, 1)

        self.view = LineupView(self)
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setDragDropOverwriteMode(False)
        self.view.setDropIndicatorShown(True)
        self.view.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        self.view.setIconSize(QSize(THUMB, THUMB))
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.view.verticalHeader().setDefaultSectionSize(THUMB + 6)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for col, width in zip(
            range(len(COLUMNS)), [70, 130, THUMB + 12, 175, 125, 150, 85, 310, 160], strict=True
        ):
            self.view.setColumnWidth(col, width)
        key = self.model.content_key
        self.view.setItemDelegate(CachedCellDelegate(key, self.view))
        self.view.setItemDelegateForColumn(
            MODEL, ChoiceDelegate(key, lambda: self._models, True, self.view)
        )
        self.view.setItemDelegateForColumn(
            LOOK, ChoiceDelegate(key, lambda: self._looks, False, self.view)
        )
        self.view.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )

        self.empty = QLabel()
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        font = self.empty.font()
        font.setPointSize(font.pointSize() + 4)
        self.empty.setFont(font)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.empty)

        self.status_line = QLabel()
        self.status_line.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addLayout(filters)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.status_line)
        self._apply_mode()

    # --- loading ------------------------------------------------------------------------

    def load_shows(self) -> None:
        self._flush_saves()
        db, event_id = self.ctx.db, self.ctx.event_id
        run_db(lambda: lineup_store.list_shows(db, event_id), self._on_shows, self._load_failed)

    def _on_shows(self, shows: list[ShowInfo]) -> None:
        current = self.show_id
        self.show_picker.blockSignals(True)
        self.show_picker.clear()
        for info in shows:
            self.show_picker.addItem(f"{info.name} ({info.looks} looks)", info.id)
        self.show_picker.blockSignals(False)
        if not shows:
            self._show_empty(
                "No runway shows in this event yet. Shows created in FashionOS appear here after the next sync."
            )
            return
        at = self.show_picker.findData(current) if current else -1
        if at < 0:
            at = max(range(len(shows)), key=lambda i: shows[i].looks)
        self.show_picker.setCurrentIndex(at)
        self._on_show_picked(at)

    def _on_show_picked(self, index: int) -> None:
        show_id = self.show_picker.itemData(index)
        if show_id is None:
            return
        if show_id != self.show_id:
            self.undo_stack.clear()
        self.show_id = show_id
        self.reload()
        db, event_id = self.ctx.db, self.ctx.event_id

        def choices():
            return (
                lineup_store.model_choices(db, event_id),
                lineup_store.look_choices(db, event_id),
                lineup_store.show_timezone(db, show_id),
            )

        run_db(choices, self._on_choices, self._load_failed)

    def _on_choices(self, result) -> None:
        self._models, self._looks, self.timezone = result
        self.model.model_names = {c.id: c.label for c in self._models}
        self.model.look_titles = {c.id: c.label.split(" — ")[0] for c in self._looks}

    def reload(self) -> None:
        """Load the show again (keeping selection and scroll); stale results are dropped."""
        if self.show_id is None:
            return
        self._flush_saves()  # queued before the load on the one DB worker, so it sees them
        gen, db, show_id = self._edit_gen, self.ctx.db, self.show_id

        def done(lineup: Lineup) -> None:
            if gen == self._edit_gen and show_id == self.show_id:
                self.set_lineup(lineup)

        run_db(lambda: lineup_store.load_lineup(db, show_id), done, self._load_failed)

    def set_lineup(self, lineup: Lineup) -> None:
        selected = self.selected_id()
        scroll = self.view.verticalScrollBar().value()
        self.model.set_lineup(lineup)
        self._fill_model_filter(lineup)
        if lineup.is_empty:
            self._show_empty(lineup.empty_message or "")
        else:
            self.stack.setCurrentWidget(self.view)
        if selected is not None:
            self.select(selected, scroll_to=False)
        self.view.verticalScrollBar().setValue(scroll)
        self._update_summary()
        self._sync_now_marker()

    def _fill_model_filter(self, lineup: Lineup) -> None:
        keep = self.model_filter.currentData()
        names = sorted({(a.model_label, a.model_id or "") for a in lineup.order})
        self.model_filter.blockSignals(True)
        self.model_filter.clear()
        self.model_filter.addItem("All models", ALL)
        for label, model_id in names:
            self.model_filter.addItem(label, model_id)
        at = self.model_filter.findData(keep)
        self.model_filter.setCurrentIndex(max(0, at))
        self.model_filter.blockSignals(False)

    def _show_empty(self, text: str) -> None:
        self.empty.setText(text)
        self.stack.setCurrentWidget(self.empty)

    def _load_failed(self, exc: BaseException) -> None:
        self.say(f"Could not load the lineup: {explain(exc)}")

    def _on_data_changed(self, tables: set) -> None:
        if self._own_notify:
            return
        if tables & lineup_store.RUNWAY_TABLES:
            if self.show_id is None or "runway_shows" in tables and self.show_picker.count() == 0:
                self.load_shows()
            else:
                self.reload()

    # --- selection, messages ------------------------------------------------------------

    def selected_id(self) -> str | None:
        index = self.view.currentIndex()
        a = self.model.appearance_at(index.row()) if index.isValid() else None
        return a.id if a else None

    def select(self, appearance_id: str, scroll_to: bool = True) -> None:
        row = self.model.row_of(appearance_id)
        if row < 0:
            return
        index = self.model.index(row, LOOK)
        self.view.setCurrentIndex(index)
        self.view.selectRow(row)
        if scroll_to:
            self.view.scrollTo(index)

    def say(self, text: str) -> None:
        self.status_line.setText(text)

    def _update_summary(self) -> None:
        lineup = self.model.lineup
        if lineup is None or lineup.is_empty:
            self.summary.setText("")
            return
        quick = len(lineup.quick_changes())
        removed = sum(1 for a in lineup.order if a.model_removed)
        parts = [f"{len(lineup)} looks, {len(lineup.segments)} segments"]
        parts.append(
            f"{quick} quick change{'s' if quick != 1 else ''}" if quick else "no quick changes"
        )
        if removed:
            parts.append(
                f"{removed} look{'s' if removed != 1 else ''} need a model (model removed)"
            )
        self.summary.setText(" · ".join(parts) + "  ")

    # --- moves --------------------------------------------------------------------------

    def _filtered(self) -> bool:
        return self.model_filter.currentData() not in (
            None,
            ALL,
        ) or self.status_filter.currentData() not in (None, ALL)

    def move_selected_to(self, to_index: int) -> MovePlan | None:
        appearance_id = self.selected_id()
        if appearance_id is None:
            self.say("Select a look first.")
            return None
        if self._filtered():
            self.say("Clear the filter to reorder: moves need the whole lineup in view.")
            return None
        plan = self.model.request_move(appearance_id, to_index)
        self.select(appearance_id)
        return plan

    def move_selected_by(self, delta: int) -> MovePlan | None:
        appearance_id = self.selected_id()
        if appearance_id is None:
            self.say("Select a look first.")
            return None
        return self.move_selected_to(self.model.row_of(appearance_id) + delta)

    def ask_move_to_position(self) -> None:
        appearance_id = self.selected_id()
        if appearance_id is None or self.model.lineup is None:
            self.say("Select a look first.")
            return
        n = len(self.model.lineup)
        number, ok = QInputDialog.getInt(
            self,
            "Move to position",
            f"Move look {self.model.row_of(appearance_id) + 1} to position (1–{n}):",
            self.model.row_of(appearance_id) + 1,
            1,
            n,
        )
        if ok:
            self.move_selected_to(number - 1)

    def _on_moved(self, plan: MovePlan) -> None:
        self._edit_gen += 1
        self.undo_stack.append(plan)
        self._save_plan(plan)
        self._update_summary()

    def _save_plan(self, plan: MovePlan) -> None:
        # Saved once the board has painted the move: the save is Python on the DB worker, and
        # sharing the interpreter with the paint would cost the drop its frame. The timer
        # saves anyway if no paint comes (board hidden); hiding the board saves at once.
        self._unsaved.append(plan)
        if not self._save_timer.isActive():
            self._save_timer.start(SAVE_AFTER_MS)

    def after_paint(self) -> None:
        if self._unsaved:
            self._save_timer.start(0)

    def _flush_saves(self) -> None:
        self._save_timer.stop()
        plans, self._unsaved = self._unsaved, []
        db = self.ctx.db
        for plan in plans:
            run_db(lambda p=plan: lineup_store.save_move(db, p), self._saved, self._save_failed)

    def hideEvent(self, event) -> None:
        self._flush_saves()
        super().hideEvent(event)

    def _saved(self, _result=None) -> None:
        # Other views reload; this board already shows the change (no reload of its own).
        self._own_notify = True
        try:
            self.ctx.notify("runway_appearances")
        finally:
            self._own_notify = False

    def _save_failed(self, exc: BaseException) -> None:
        self.say(f"Could not save: {explain(exc)}")
        self._edit_gen += 1
        self.reload()

    def undo(self) -> None:
        if self.mode != "edit":
            self.say("Show mode: the lineup is locked.")
            return
        if not self.undo_stack or self.model.lineup is None:
            self.say("Nothing to undo.")
            return
        plan = self.undo_stack.pop()
        restore = self.model.lineup.plan_restore(plan)
        self._edit_gen += 1
        self.model.apply_plan(restore)
        self._save_plan(restore)
        self.select(plan.appearance_id)
        self._update_summary()
        self.say(f"Undone: look back at position {self.model.row_of(plan.appearance_id) + 1}.")

    # --- edits --------------------------------------------------------------------------

    def _on_edited(self, appearance_id: str, field: str, value) -> None:
        self._edit_gen += 1
        db = self.ctx.db
        save = {
            "notes": lineup_store.save_notes,
            "model_id": lineup_store.save_model,
            "look_id": lineup_store.save_look,
        }[field]
        run_db(lambda: save(db, appearance_id, value), self._saved, self._save_failed)
        self._update_summary()

    def step_status(self, step: int) -> None:
        if self.mode != "edit":
            self.say("Show mode: statuses move on with the show (Space).")
            return
        appearance_id = self.selected_id()
        lineup = self.model.lineup
        if appearance_id is None or lineup is None:
            self.say("Select a look first.")
            return
        a = lineup.get(appearance_id)
        status = next_status(a.status) if step > 0 else previous_status(a.status)
        walked_at = (a.walked_at or self.clock()) if status == "walked" else None
        lineup.with_status(appearance_id, status, walked_at)
        self.model.set_lineup(lineup)
        self.select(appearance_id)
        self._edit_gen += 1
        db = self.ctx.db
        run_db(
            lambda: lineup_store.save_status(db, appearance_id, status, walked_at),
            self._saved,
            self._save_failed,
        )
        self.say(f"Look {lineup.number_of(appearance_id)}: {status_label(status)}.")

    # --- filter -------------------------------------------------------------------------

    def apply_filter(self, *_args) -> None:
        lineup = self.model.lineup
        model_id = self.model_filter.currentData()
        status = self.status_filter.currentData()
        filtered = self._filtered()
        if not filtered and not self._rows_hidden:
            self.view.setDragEnabled(self.mode == "edit")
            return
        self._rows_hidden = filtered
        for row in range(self.model.rowCount()):
            a = lineup.at(row)
            hide = (model_id not in (None, ALL) and (a.model_id or "") != model_id) or (
                status not in (None, ALL) and a.status != status
            )
            self.view.setRowHidden(row, hide)
        self.view.setDragEnabled(self.mode == "edit" and not filtered)

    # --- modes and the show -------------------------------------------------------------

    def set_mode(self, mode: str) -> None:
        self.mode = "show" if mode == "show" else "edit"
        (self.show_button if self.mode == "show" else self.edit_button).setChecked(True)
        self._apply_mode()
        if self.mode == "show":
            self.say(
                "Show mode: rows are locked. Space / PageDown: next look; Backspace / PageUp: back."
            )
        else:
            self.say("Edit mode: drag looks or use Ctrl+Up / Ctrl+Down / Ctrl+G to reorder.")

    def _apply_mode(self) -> None:
        editing = self.mode == "edit"
        self.model.set_locked(not editing)
        self.view.setDragEnabled(editing and not self._filtered())
        self.view.setAcceptDrops(editing)
        self.view.setDragDropMode(
            # DragDrop rather than InternalMove: the model refuses looks that are not in this
            # lineup (canDropMimeData), and synthetic drops in tests reach dropMimeData too.
            QAbstractItemView.DragDropMode.DragDrop
            if editing
            else QAbstractItemView.DragDropMode.NoDragDrop
        )
        self.view.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            if editing
            else QAbstractItemView.EditTrigger.NoEditTriggers
        )
        for button in (self.undo_button, self.status_back, self.status_next):
            button.setEnabled(editing)

    def open_display(self) -> show_display.ShowDisplay | None:
        lineup = self.model.lineup
        if lineup is None:
            self.say("Pick a show first.")
            return None
        copy = Lineup(lineup.show, lineup.segments.values(), lineup.order)
        display = show_display.open_show_display(
            self.ctx, copy, control=self.window(), timezone=self.timezone
        )
        if display is not self.display:
            self.display = display
            display.runner.changed.connect(self._sync_now_marker)
            display.runner.message.connect(self.say)
        return display

    def advance(self) -> None:
        display = self.open_display()
        if display is not None:
            display.runner.advance()

    def back(self) -> None:
        display = show_display.current_display()
        if display is not None:
            display.runner.back()

    def _sync_now_marker(self) -> None:
        display = show_display.current_display()
        if display is None or display.runner.show_id != self.show_id:
            return
        current = display.runner.run.current
        if current is not None and self.mode == "show":
            self.select(current.id)

    def handle_key(self, key, modifiers) -> bool:
        """Keys on the board: moves in edit mode, show control in show mode."""
        ctrl = bool(modifiers & Qt.KeyboardModifier.ControlModifier)
        if self.mode == "show":
            if key in show_display.ADVANCE_KEYS and not ctrl:
                self.advance()
                return True
            if key in show_display.BACK_KEYS and not ctrl:
                self.back()
                return True
            if ctrl and key in (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_G, Qt.Key.Key_Z):
                self.say("Show mode: the lineup is locked. Switch to Edit mode to reorder.")
                return True
            return False
        if not ctrl:
            return False
        actions = {
            Qt.Key.Key_Up: lambda: self.move_selected_by(-1),
            Qt.Key.Key_Down: lambda: self.move_selected_by(1),
            Qt.Key.Key_G: self.ask_move_to_position,
            Qt.Key.Key_Z: self.undo,
            Qt.Key.Key_BracketRight: lambda: self.step_status(1),
            Qt.Key.Key_BracketLeft: lambda: self.step_status(-1),
        }
        action = actions.get(key)
        if action is None:
            return False
        action()
        return True

    # --- paper (printing lives in app.ui.printing) --------------------------------------

    def _lineup_pdf(self) -> None:
        self._pdf("lineup", "lineup_sheet_paper")

    def _run_cards_pdf(self) -> None:
        self._pdf("run-cards", "run_cards_paper")

    def print_paper(self, kind: str, printer=None) -> None:
        """Print the lineup sheet (``lineup``) or the run cards (``run-cards``)."""
        if self.show_id is None:
            self.say("Pick a show first.")
            return
        from app.ui import printing

        builder, label = _PAPER[kind]

        def done(printed: bool) -> None:
            if printed:
                self.say(f"{label} sent to the printer.")

        # The sheet's data is read on the DB worker, then laid out and printed here.
        printing.print_paper(
            getattr(printing, builder)(self.ctx.db, self.show_id),
            self,
            done,
            lambda exc: self.say(f"Could not print: {explain(exc)}"),  # in words
            printer,
        )

    def _pdf(self, suffix: str, builder: str) -> None:
        if self.show_id is None:
            self.say("Pick a show first.")
            return
        from app.ui import printing

        db, show_id = self.ctx.db, self.show_id
        name = (self.show_picker.currentText().split(" (")[0] or "show").replace(" ", "-").lower()
        printing.save_pdf_dialog(
            self, f"{name}-{suffix}.pdf", getattr(printing, builder)(db, show_id)
        )
