"""The call-time board: who is due, who has arrived, who is late — and arrival by badge.

Everything that touches the database goes through ``run_db`` (one serial worker); the UI
thread only paints. A one-second QTimer repaints the countdowns. "Talent arrival" mode runs
app.scan's ScanLoop on a camera (through the door's CameraFeed bridge) and also accepts a
keyboard-wedge scanner or a typed badge code; each code read marks that person arrived.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from app.domain import calltimes as rules
from app.errors import explain
from app.store import calltimes_store as store
from app.ui.calltimes.alert_service import AlertService
from app.ui.calltimes.board_model import (
    COL_COUNTDOWN,
    COL_NAME,
    STATUS_ROLE,
    BoardFilter,
    CallBoardModel,
)
from app.ui.calltimes.dialogs import EditCallDialog
from app.ui.qt import (
    QAbstractItemView,
    QButtonGroup,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    Qt,
    QTableView,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
    is_alive,
)
from app.ui.tasks import run_db

log = logging.getLogger(__name__)

WATCHED_TABLES = {"people", "call_times", "events"}
NO_CAMERA = (
    "No camera found — scan badges with the USB scanner, type the badge code, "
    "or select the name and press Mark arrived"
)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class _Service:
    """What the app stops at exit (``ctx.services``)."""

    def __init__(self, stop: Callable[[], None]) -> None:
        self.stop = stop


class BoardView(QTableView):
    """The board's table: Enter marks the selected people arrived.

    A key press, not a QShortcut: shortcuts are matched before application event filters see
    the key, so the Enter ending a USB scanner's burst would also "tap" the selected row.
    """

    enter_pressed = Signal()

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.enter_pressed.emit()
            event.accept()
            return
        super().keyPressEvent(event)


class CallTimesTab(QWidget):
    loaded = Signal()
    arrival_recorded = Signal(object)  # store.ArrivalResult
    message_shown = Signal(str)

    def __init__(
        self,
        ctx: Any,
        clock: Callable[[], datetime] | None = None,
        *,
        source_factory: Callable[[], Any] | None = None,
        decoder_factory: Callable[[], Any] | None = None,
        alerts: bool = True,
        alert_interval_seconds: float = 15.0,
    ) -> None:
        super().__init__()
        self.ctx = ctx
        self.clock = clock or _utcnow
        self.source_factory = source_factory or self._default_source
        self.decoder_factory = decoder_factory or self._default_decoder
        config = ctx.config
        self.no_show_minutes = getattr(config, "no_show_minutes", rules.DEFAULT_NO_SHOW_MINUTES)
        self.board: store.Board | None = None
        self.feed: Any = None
        self.wedge: Any = None
        self._closed = False
        self._scroll_pending = False  # first load: show the first late person once visible

        self.model = CallBoardModel(self.clock, self.no_show_minutes)
        self.proxy = BoardFilter()
        self.proxy.setSourceModel(self.model)
        self._build_ui()

        from app.ui.alerts import AlertStack

        self.alert_stack = AlertStack(self, sound=getattr(config, "sound", True))
        self.alerts = AlertService(
            ctx.db,
            ctx.event_id,
            self.clock,
            self.show_alerts,
            alert_minutes=getattr(config, "call_alert_minutes", 10),
            interval_seconds=alert_interval_seconds,
        )
        if alerts:
            self.alerts.start()
        ctx.services.append(_Service(self.shutdown))
        # A tab deleted without shutdown() (a closed window, a test's teardown) must not leave
        # its scheduler delivering alerts to a dead widget.
        self.destroyed.connect(self.alerts.stop)

        self.ticker = QTimer(self)
        self.ticker.setInterval(1000)
        self.ticker.timeout.connect(self.tick)
        self.ticker.start()
        ctx.events.changed.connect(self._data_changed)
        self.reload()

    # --- layout -----------------------------------------------------------------------------
    def _build_ui(self) -> None:
        root = QVBoxLayout(self)

        filters = QHBoxLayout()
        self.dept_group = QButtonGroup(self)
        self.dept_group.setExclusive(True)
        self.dept_buttons: dict[str | None, QPushButton] = {}
        for key, label in [(None, "All"), *rules.DEPARTMENT_LABELS.items()]:
            button = QPushButton(label)
            button.setCheckable(True)
            button.setAccessibleName(f"Show {label.lower()}")
            button.clicked.connect(lambda _=False, k=key: self.set_department(k))
            self.dept_group.addButton(button)
            self.dept_buttons[key] = button
            filters.addWidget(button)
        self.dept_buttons[None].setChecked(True)
        filters.addSpacing(12)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search by name or role…")
        self.search.setAccessibleName("Search by name")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.proxy.set_search)
        filters.addWidget(self.search, 1)
        self.summary = QLabel("")
        self.summary.setAccessibleName("Board summary")
        filters.addWidget(self.summary)
        root.addLayout(filters)

        tools = QHBoxLayout()
        tools.addWidget(QLabel("General call:"))
        self.general_edit = QLineEdit()
        self.general_edit.setPlaceholderText("17:00")
        self.general_edit.setMaximumWidth(70)
        self.general_edit.setAccessibleName("General call time")
        self.general_edit.returnPressed.connect(self.apply_general_call)
        tools.addWidget(self.general_edit)
        self.general_set = QPushButton("Set")
        self.general_set.clicked.connect(self.apply_general_call)
        tools.addWidget(self.general_set)
        for minutes in (-15, 15):
            button = QPushButton(f"{minutes:+d} min")
            button.setAccessibleName(f"Move general call {minutes:+d} minutes")
            button.clicked.connect(lambda _=False, m=minutes: self.shift_general_call(m))
            tools.addWidget(button)
        self.general_label = QLabel("")
        tools.addWidget(self.general_label)
        tools.addStretch(1)
        self.talent_button = QPushButton("Talent arrival (scan badges)")
        self.talent_button.setCheckable(True)
        self.talent_button.toggled.connect(self.set_talent_mode)
        tools.addWidget(self.talent_button)
        self.print_button = QPushButton("Print…")
        self.print_button.clicked.connect(self.print_call_sheet)
        self.pdf_button = QPushButton("Save PDF…")
        self.pdf_button.clicked.connect(self.save_call_sheet_pdf)
        self.csv_button = QPushButton("Export CSV…")
        self.csv_button.clicked.connect(self.export_csv)
        self.badges_button = QPushButton("Badges PDF…")
        self.badges_button.clicked.connect(self.save_badges_pdf)
        for button in (self.print_button, self.pdf_button, self.csv_button, self.badges_button):
            tools.addWidget(button)
        root.addLayout(tools)

        # Talent arrival panel: camera preview, badge entry, the last result in big words.
        self.talent_panel = QWidget()
        talent = QHBoxLayout(self.talent_panel)
        talent.setContentsMargins(0, 0, 0, 0)
        from app.ui.door.camera import CameraPreview

        self.preview = CameraPreview()
        self.preview.setMinimumSize(320, 180)
        self.preview.setMaximumSize(420, 240)
        talent.addWidget(self.preview)
        side = QVBoxLayout()
        side.addWidget(QLabel("Scan a badge, or type its code and press Enter:"))
        self.badge_edit = QLineEdit()
        self.badge_edit.setPlaceholderText("Badge code")
        self.badge_edit.setAccessibleName("Badge code")
        self.badge_edit.returnPressed.connect(self._badge_typed)
        side.addWidget(self.badge_edit)
        self.talent_result = QLabel("")
        self.talent_result.setWordWrap(True)
        font = self.talent_result.font()
        font.setPointSize(font.pointSize() + 6)
        font.setBold(True)
        self.talent_result.setFont(font)
        side.addWidget(self.talent_result, 1)
        talent.addLayout(side, 1)
        self.talent_panel.setVisible(False)
        root.addWidget(self.talent_panel)

        self.table = BoardView()
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.setAccessibleName("Call times")
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for col, width in enumerate((200, 90, 140, 110, 200, 120, 140)):
            self.table.setColumnWidth(col, width)
        self.table.doubleClicked.connect(lambda _i: self.mark_selected_arrived())
        self.table.enter_pressed.connect(self.mark_selected_arrived)
        root.addWidget(self.table, 1)

        actions = QHBoxLayout()
        self.arrived_button = QPushButton("&Mark arrived")
        self.arrived_button.setToolTip("Mark the selected people arrived now (Enter)")
        self.arrived_button.clicked.connect(self.mark_selected_arrived)
        self.confirm_button = QPushButton("Con&firmed")
        self.confirm_button.clicked.connect(self.confirm_selected)
        self.noshow_button = QPushButton("&No-show")
        self.noshow_button.clicked.connect(self.no_show_selected)
        self.undo_button = QPushButton("&Undo arrival")
        self.undo_button.clicked.connect(self.undo_arrival_selected)
        self.edit_button = QPushButton("&Edit call…")
        self.edit_button.clicked.connect(self.edit_selected)
        for button in (
            self.arrived_button,
            self.confirm_button,
            self.noshow_button,
            self.undo_button,
            self.edit_button,
        ):
            actions.addWidget(button)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.message.setAccessibleName("Last action")
        actions.addWidget(self.message, 1)
        root.addLayout(actions)

    # --- loading ----------------------------------------------------------------------------
    def reload(self) -> None:
        db, event_id = self.ctx.db, self.ctx.event_id

        def load() -> store.Board:
            with db.session() as session:
                return store.load_board(session, event_id)

        run_db(load, self._show_board, self._load_failed)

    def _data_changed(self, tables: set[str]) -> None:
        if tables & WATCHED_TABLES and not self._closed:
            self.reload()

    def _show_board(self, board: store.Board) -> None:
        if self._closed:
            return
        selected = set(self.selected_ids())
        current = self.table.currentIndex()
        current_id = current.data(Qt.ItemDataRole.UserRole + 1) if current.isValid() else None
        scroll = self.table.verticalScrollBar().value()
        first_load = self.board is None
        self.board = board
        self.model.set_board(board)
        self._restore_selection(selected, current_id)
        if first_load:
            self._scroll_pending = True
            if self.isVisible():
                QTimer.singleShot(0, self._scroll_once)
        else:
            self.table.verticalScrollBar().setValue(scroll)
        self._show_general_call()
        self._update_summary()
        self.loaded.emit()

    def _load_failed(self, exc: BaseException) -> None:
        self.show_message(f"The call times cannot be read: {explain(exc)}")

    def _restore_selection(self, ids: set[str], current_id: str | None) -> None:
        selection = self.table.selectionModel()
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, 0)
            call_id = index.data(Qt.ItemDataRole.UserRole + 1)
            if call_id == current_id:
                self.table.setCurrentIndex(index)
            if call_id in ids:
                selection.select(
                    index,
                    selection.SelectionFlag.Select | selection.SelectionFlag.Rows,
                )

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if self._scroll_pending and self.board is not None:
            QTimer.singleShot(0, self._scroll_once)

    def _scroll_once(self) -> None:
        if self._scroll_pending:
            self._scroll_pending = False
            self.scroll_to_now()

    def scroll_to_now(self) -> None:
        """Bring the first person who is late (else the next one due) to the top of the view."""
        S = rules.CallStatus
        target = None
        for wanted in ((S.LATE,), (S.SCHEDULED, S.CONFIRMED)):
            for r in range(self.proxy.rowCount()):
                index = self.proxy.index(r, COL_NAME)
                if index.data(STATUS_ROLE) in wanted:
                    target = index
                    break
            if target is not None:
                break
        if target is not None:
            # Lay the rows out first: right after a load the scroll range may not be known yet,
            # and scrollTo would then clamp to the top.
            self.table.doItemsLayout()
            self.table.scrollTo(target, QAbstractItemView.ScrollHint.PositionAtTop)

    # --- ticking ----------------------------------------------------------------------------
    def tick(self) -> None:
        if self.model.tick():
            self._update_summary()

    def _update_summary(self) -> None:
        counts = self.model.counts()
        S = rules.CallStatus
        parts = [f"{len(self.model.rows)} on the board", f"{counts[S.ARRIVED]} arrived"]
        parts.append(f"{counts[S.LATE]} late")
        if counts[S.NO_SHOW]:
            parts.append(f"{counts[S.NO_SHOW]} no-show")
        if counts[S.UNSCHEDULED]:
            parts.append(f"{counts[S.UNSCHEDULED]} without a call time")
        self.summary.setText(" · ".join(parts))

    def _show_general_call(self) -> None:
        board = self.board
        if board is None or board.general_call_at is None:
            self.general_label.setText("not set — offset calls are unscheduled")
            return
        tz = board.tz
        if not self.general_edit.hasFocus():
            self.general_edit.setText(rules.format_clock(board.general_call_at, tz))
        self.general_label.setText(f"on {rules.format_day(board.general_call_at, tz)}")

    # --- filters ----------------------------------------------------------------------------
    def set_department(self, department: str | None) -> None:
        self.proxy.set_department(department)
        self.dept_buttons[department].setChecked(True)

    def visible_names(self) -> list[str]:
        return [self.proxy.index(r, COL_NAME).data() for r in range(self.proxy.rowCount())]

    def row_text(self, name: str) -> dict[str, str]:
        """The displayed cells of ``name``'s row (for tests and screen readers)."""
        from app.ui.calltimes.board_model import COLUMNS

        for r in range(self.model.rowCount()):
            if self.model.index(r, COL_NAME).data() == name:
                return {c: self.model.index(r, i).data() for i, c in enumerate(COLUMNS)}
        raise KeyError(name)

    # --- selection --------------------------------------------------------------------------
    def selected_ids(self) -> list[str]:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        ids = [index.data(Qt.ItemDataRole.UserRole + 1) for index in rows]
        if not ids and self.table.currentIndex().isValid():
            ids = [self.table.currentIndex().data(Qt.ItemDataRole.UserRole + 1)]
        return [i for i in ids if i]

    def select_name(self, name: str) -> bool:
        for r in range(self.proxy.rowCount()):
            index = self.proxy.index(r, COL_NAME)
            if index.data() == name:
                self.table.selectRow(r)
                self.table.setCurrentIndex(index)
                return True
        return False

    def _need_selection(self) -> list[str]:
        ids = self.selected_ids()
        if not ids:
            self.show_message("Select someone on the board first.")
        return ids

    # --- writes -----------------------------------------------------------------------------
    def _write(self, work: Callable[[Any], Any], done: Callable[[Any], None]) -> None:
        db = self.ctx.db

        def run() -> Any:
            with db.session() as session:
                return work(session)

        run_db(run, done, lambda exc: self.show_message(explain(exc)))

    def _changed(self, *tables: str) -> None:
        self.ctx.notify(*(tables or ("call_times",)))

    def mark_selected_arrived(self) -> None:
        ids = self._need_selection()
        if not ids:
            return
        now = self.clock()

        def work(session):
            return [store.mark_arrived(session, i, now) for i in ids]

        self._write(work, self._arrivals_done)

    def arrive_badge(self, code: str) -> None:
        """Mark arrived whoever's badge reads ``code`` (scanned, wedge-typed or typed)."""
        event_id, now = self.ctx.event_id, self.clock()
        self._write(lambda s: [store.arrive_by_badge(s, event_id, code, now)], self._arrivals_done)

    def _arrivals_done(self, results: list[store.ArrivalResult]) -> None:
        for result in results:
            self.arrival_recorded.emit(result)
        text = " ".join(r.message for r in results)
        self.show_message(text)
        if self.talent_panel.isVisible() and results:
            last = results[-1]
            colour = "#1b5e20" if last.ok else "#b00020"
            self.talent_result.setStyleSheet(f"color: {colour};")
            self.talent_result.setText(("✓ " if last.ok else "✗ ") + last.message)
        if any(r.ok for r in results):
            self._changed("call_times")

    def confirm_selected(self) -> None:
        ids = self._need_selection()
        if ids:
            now = self.clock()
            self._write(
                lambda s: [store.mark_confirmed(s, i, now) for i in ids],
                lambda _r: (self.show_message(f"Confirmed: {len(ids)}."), self._changed()),
            )

    def no_show_selected(self) -> None:
        ids = self._need_selection()
        if ids:
            self._write(
                lambda s: [store.set_no_show(s, i, True) for i in ids],
                lambda _r: (self.show_message(f"Marked no-show: {len(ids)}."), self._changed()),
            )

    def undo_arrival_selected(self) -> None:
        ids = self._need_selection()
        if ids:
            self._write(
                lambda s: [store.clear_arrival(s, i) for i in ids],
                lambda _r: (self.show_message("Arrival undone."), self._changed()),
            )

    def edit_selected(self) -> None:
        ids = self._need_selection()
        if not ids or self.board is None:
            return
        row = self.model.rows[self.model.row_of(ids[0])]
        dialog = EditCallDialog(row, self.board, self)
        if dialog.exec() != dialog.DialogCode.Accepted or dialog.result_input is None:
            return
        parsed, location = dialog.result_input, dialog.location

        def work(session):
            return store.edit_call(
                session,
                row.call_time_id,
                call_at=parsed.call_at,
                offset_minutes=parsed.offset_minutes,
                location=location or None,
            )

        self._write(
            work, lambda _c: (self.show_message(f"{row.name}'s call changed."), self._changed())
        )

    # --- general call -----------------------------------------------------------------------
    def apply_general_call(self) -> None:
        board = self.board
        if board is None:
            return
        try:
            at = rules.parse_clock_on_day(
                self.general_edit.text(), board.event_day_anchor, board.tz
            )
        except ValueError as exc:
            self.show_message(str(exc))
            return
        self._set_general_call(at)

    def shift_general_call(self, minutes: int) -> None:
        board = self.board
        if board is None:
            return
        if board.general_call_at is None:
            self.show_message("Set the general call first (type a time like 17:00).")
            return
        self._set_general_call(board.general_call_at + timedelta(minutes=minutes))

    def _set_general_call(self, at: datetime) -> None:
        event_id = self.ctx.event_id
        tz = self.board.tz if self.board else UTC
        self.general_edit.clearFocus()
        self._write(
            lambda s: store.set_general_call(s, event_id, at),
            lambda _r: (
                self.show_message(
                    f"General call moved to {rules.format_clock(at, tz)}; offset calls moved with it."
                ),
                self._changed("events", "call_times"),
            ),
        )

    # --- talent arrival (badge scanning) ----------------------------------------------------
    def set_talent_mode(self, on: bool) -> None:
        if self.talent_button.isChecked() != on:
            self.talent_button.setChecked(on)  # re-enters through toggled
            return
        self.talent_panel.setVisible(on)
        if on:
            self.talent_result.setText("")
            self._start_camera()
            self._start_wedge()
            self.badge_edit.setFocus()
        else:
            self._stop_scanning()

    @property
    def talent_mode(self) -> bool:
        return self.talent_button.isChecked()

    def _start_camera(self) -> None:
        from app.ui.door.camera import CameraFeed

        self.preview.set_banner("Starting the camera…")
        self.feed = CameraFeed(
            self.source_factory,
            self.decoder_factory,
            getattr(self.ctx.config, "debounce_seconds", 3.0),
        )
        self.feed.frame_ready.connect(self._show_frame)
        self.feed.code_read.connect(lambda code, _t0: self.arrive_badge(code))
        self.feed.problem.connect(self._camera_problem)
        self.feed.running.connect(lambda _name: self.preview.set_banner(""))
        self.feed.start()

    def _start_wedge(self) -> None:
        try:
            from app.ui.door.wedge_filter import WedgeFilter
        except ImportError:
            return  # typed codes in the badge field still work
        # Installed after the door's filter, so it sees a burst first and keeps it here.
        self.wedge = WedgeFilter(self)
        self.wedge.scanned.connect(lambda code, _t0: self.arrive_badge(code))
        self.wedge.install()

    def _show_frame(self, image: Any) -> None:
        self.preview.set_image(image)

    def _camera_problem(self, message: str) -> None:
        from app.ui.door import camera

        if message.startswith(camera.NO_CAMERA) or message.startswith(camera.CAMERA_OFF):
            message = NO_CAMERA
        self.preview.set_banner(message)
        self.show_message(message)

    def _badge_typed(self) -> None:
        code = self.badge_edit.text()
        self.badge_edit.clear()
        if code.strip():
            self.arrive_badge(code)

    def _stop_scanning(self) -> None:
        feed, self.feed = self.feed, None
        if feed is not None:
            feed.stop()
        wedge, self.wedge = self.wedge, None
        if wedge is not None:
            wedge.uninstall()

    def _default_source(self) -> Any:
        from app.scan.sources import CameraSource

        if not getattr(self.ctx.config, "camera_enabled", True):
            from app.scan.sources import CameraUnavailable

            raise CameraUnavailable("Camera turned off in settings")
        return CameraSource(self.ctx.config.camera)

    def _default_decoder(self) -> Any:
        from app.scan.decoders import build_chain

        return build_chain(getattr(self.ctx.config, "decoders", "auto"))

    # --- alerts -----------------------------------------------------------------------------
    def show_alerts(self, alerts: list[rules.Alert]) -> None:
        if self._closed or not is_alive(self):
            return
        for alert in alerts:
            level = "late" if alert.kind == rules.ALERT_DUE else "warning"
            self.alert_stack.show_alert(alert.title, alert.message, level)

    # --- paper ------------------------------------------------------------------------------
    # The data of every printout and export is read on the DB worker; the main thread only
    # asks where to save and lays the document out (app.ui.printing).

    def _call_sheet_paper(self) -> Any:
        from app.ui.printing import call_sheet_paper

        return call_sheet_paper(self.ctx.db, self.ctx.event_id, self.clock())

    def print_call_sheet(self, printer=None) -> None:
        from app.ui.printing import print_paper

        def done(printed: bool) -> None:
            if printed:
                self.show_message("Call sheet sent to the printer.")

        print_paper(
            self._call_sheet_paper(),
            self,
            done,
            lambda exc: self.show_message(f"Could not print: {explain(exc)}"),
            printer,
        )

    def save_call_sheet_pdf(self) -> None:
        from app.ui.printing import save_pdf_dialog

        save_pdf_dialog(
            self,
            "call-sheet.pdf",
            self._call_sheet_paper(),
            lambda path: self.show_message(f"Call sheet saved to {path}."),
        )

    def export_csv(self) -> None:
        from app.store.exports import export_calltimes_csv

        path, _ = QFileDialog.getSaveFileName(
            self, "Export call times", "call-times.csv", "CSV (*.csv)"
        )
        if not path:
            return
        db, event_id, clock = self.ctx.db, self.ctx.event_id, self.clock
        run_db(
            lambda: export_calltimes_csv(db, event_id, path, clock=clock),
            lambda written: self.show_message(f"Call times exported to {written}."),
            lambda exc: QMessageBox.warning(self, "Could not export", explain(exc)),
        )

    def save_badges_pdf(self) -> None:
        from app.store.badges import badge_infos, write_badge_sheet
        from app.ui.tasks import run_task

        path, _ = QFileDialog.getSaveFileName(
            self, "Save badges", "badges.pdf", "PDF files (*.pdf)"
        )
        if not path:
            return
        db, event_id = self.ctx.db, self.ctx.event_id

        def failed(exc: BaseException) -> None:
            QMessageBox.warning(self, "Could not save the badges", explain(exc))

        def saved(result: tuple[Any, int]) -> None:
            self.show_message(f"{result[1]} badges saved to {path}.")

        def render(infos: list[Any]) -> None:
            # Drawing eight badges a page is slow: the task pool, not the DB worker.
            run_task(lambda: write_badge_sheet(infos, path), saved, failed)

        run_db(lambda: badge_infos(db, event_id), render, failed)

    # --- misc -------------------------------------------------------------------------------
    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message_shown.emit(text)

    def countdown_column(self) -> int:
        return COL_COUNTDOWN

    def shutdown(self) -> None:
        """Stop the timers, the camera and the alert scheduler (at exit; in tests)."""
        if self._closed:
            return
        self._closed = True
        self.ticker.stop()
        self._stop_scanning()
        self.alerts.stop()
        self.alert_stack.clear()
        try:
            self.ctx.events.changed.disconnect(self._data_changed)
        except (RuntimeError, TypeError):
            pass
