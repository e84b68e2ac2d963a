"""Show mode's big-screen display: NOW / ON DECK / NEXT 3, clock, over/under, quick changes.

A separate top-level window that owns the show's run state (``ShowRunner``) and its own
timer, so the show keeps running when the control window is closed. It opens fullscreen on
a screen other than the control window's when there is one, moves to a remaining screen when
its screen is unplugged, and closes only on its own Esc + confirm (or when the app quits).
Space / PageDown / Right send the next look out (marked walked, saved via the outbox);
Backspace / PageUp / Left take it back. Presentation clickers send PageDown / PageUp.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.domain.lineup import (
    Appearance,
    Lineup,
    RunSnapshot,
    ShowRun,
    format_clock,
    format_delta,
    title_without_number,
)
from app.store import lineup_store
from app.ui.context import AppContext
from app.ui.lineup.thumbs import picture
from app.ui.qt import (
    QApplication,
    QEvent,
    QFontMetrics,
    QFrame,
    QGridLayout,
    QGuiApplication,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QObject,
    QPixmap,
    QSizePolicy,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from app.ui.tasks import run_db

ADVANCE_KEYS = {Qt.Key.Key_Space, Qt.Key.Key_PageDown, Qt.Key.Key_Right}
BACK_KEYS = {Qt.Key.Key_Backspace, Qt.Key.Key_PageUp, Qt.Key.Key_Left}

AHEAD = "#2E7D32"  # green
BEHIND_A_BIT = "#FFB300"  # amber
BEHIND_A_LOT = "#C62828"  # red
LATE_THRESHOLD_S = 60
# Text on each timing colour (WCAG AA on its background: white on amber is 1.8:1).
TEXT_ON = {AHEAD: "#FFFFFF", BEHIND_A_BIT: "#1A1200", BEHIND_A_LOT: "#FFFFFF"}


def utc_now() -> datetime:
    return datetime.now(UTC)


class ShowRunner(QObject):
    """The live show: wraps the domain ``ShowRun`` and saves each advance through the outbox."""

    changed = Signal()
    message = Signal(str)

    def __init__(
        self,
        ctx: AppContext,
        lineup: Lineup,
        clock: Callable[[], datetime] = utc_now,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.clock = clock
        self.run = ShowRun(lineup)
        self.own_notify = False

    @property
    def show_id(self) -> str:
        return self.run.lineup.show.id

    def set_lineup(self, lineup: Lineup) -> None:
        self.run.set_lineup(lineup)
        self.changed.emit()

    def snapshot(self) -> RunSnapshot:
        return self.run.snapshot(self.clock())

    def advance(self) -> Appearance | None:
        now = self.clock()
        first = self.run.started_at is None
        walked = self.run.advance(now)
        if walked is None:
            self.message.emit("That was the last look: the show is finished.")
            return None
        show_id = self.show_id
        db = self.ctx.db

        def save() -> None:
            if first:
                lineup_store.save_show_started(db, show_id, now)
            lineup_store.save_status(db, walked.id, "walked", now)

        run_db(save, self._saved, self._failed)
        self.changed.emit()
        return walked

    def back(self) -> Appearance | None:
        restored = self.run.back(self.clock())
        if restored is None:
            return None
        show_id = self.show_id
        db = self.ctx.db
        unstarted = self.run.started_at is None

        def save() -> None:
            lineup_store.save_status(db, restored.id, restored.status, restored.walked_at)
            if unstarted:
                lineup_store.save_show_started(db, show_id, None)

        run_db(save, self._saved, self._failed)
        self.changed.emit()
        return restored

    def _saved(self, _result=None) -> None:
        # The board reloads to show the walked look; this display already shows it.
        self.own_notify = True
        try:
            self.ctx.notify("runway_appearances", "runway_shows")
        finally:
            self.own_notify = False

    def _failed(self, exc: BaseException) -> None:
        from app.errors import explain

        self.message.emit(f"Could not save the show's progress: {explain(exc)}")


def pick_screen(screens: list, control_screen) -> object | None:
    """A screen other than the control window's (preferring one that does not overlap it,
    i.e. not a mirror of it), else the control window's own (or the first one)."""
    others = [s for s in screens if s is not control_screen]
    if control_screen is not None:
        apart = [s for s in others if not s.geometry().intersects(control_screen.geometry())]
        if apart:
            return apart[0]
    if others:
        return others[0]
    return control_screen if control_screen in screens else (screens[0] if screens else None)


def _label(
    size_role: str, bold: bool = False, colour: str = "#FFFFFF", wrap: bool = True
) -> QLabel:
    label = QLabel()
    label.setProperty("sizeRole", size_role)
    label.setProperty("bold", bold)
    label.setStyleSheet(f"color: {colour};")
    label.setWordWrap(wrap)
    if not wrap:
        # One-line labels take the width the layout gives them (fit_text/elide_text fill it)
        # instead of widening the window to their full text.
        label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        label.setMinimumWidth(1)
    return label


def fit_text(label: QLabel, text: str, width: int) -> None:
    """Show ``text`` on one line: the label's size, shrunk until it fits ``width`` px."""
    font = label.font()
    px = int(label.property("basePx") or font.pixelSize() or 24)
    font.setPixelSize(px)
    while px > 14 and QFontMetrics(font).horizontalAdvance(text) > width:
        px = int(px * 0.92)
        font.setPixelSize(px)
    label.setFont(font)
    label.setText(text)


def elide_text(label: QLabel, text: str, width: int) -> None:
    label.setText(
        QFontMetrics(label.font()).elidedText(text, Qt.TextElideMode.ElideRight, max(40, width))
    )


class _Panel(QFrame):
    """NOW or ON DECK: heading, photo, look number, model name, designer and look."""

    def __init__(self, heading: str, accent: str) -> None:
        super().__init__()
        self.setObjectName("panel")
        self.setStyleSheet(
            f"#panel {{ background: #1C1C1C; border: 3px solid {accent}; border-radius: 14px; }}"
        )
        self.heading = _label("heading", True, accent)
        self.heading.setText(heading)
        self.photo = QLabel()
        self.photo.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.number = _label("number", True, wrap=False)
        self.model = _label("name", True, wrap=False)
        self.detail = _label("detail", False, "#CFCFCF")
        self.alert = _label("alert", True, "#1A1200")
        self.alert.hide()
        text = QVBoxLayout()
        for w in (self.heading, self.number, self.detail):
            text.addWidget(w)
        text.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.photo)
        row.addLayout(text, 1)
        outer = QVBoxLayout(self)
        outer.addLayout(row)
        outer.addWidget(self.model)  # the name gets the panel's full width
        outer.addStretch(1)
        outer.addWidget(self.alert)
        self.photo_size = 160

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        beside_photo = max(120, self.width() - self.photo_size - 60)
        for label, width in ((self.number, beside_photo), (self.model, self.width() - 40)):
            text = label.property("fullText")
            if text is not None:
                fit_text(label, text, max(120, width))

    def show_appearance(self, a: Appearance | None, lineup: Lineup, empty: str) -> None:
        if a is None:
            self.number.setProperty("fullText", "")
            self.model.setProperty("fullText", empty)
            self._fit()
            self.detail.setText("")
            self.photo.setPixmap(QPixmap())
            return
        pin = " · OPENING" if a.is_opening else (" · CLOSING" if a.is_closing else "")
        self.number.setProperty("fullText", f"LOOK {lineup.number_of(a.id)}{pin}")
        self.model.setProperty("fullText", a.model_label)
        self._fit()
        # The look's own title without any number typed into it: the number shown is the
        # current walk order ("LOOK 3"), which a reorder changes and a title does not.
        title = title_without_number(a.look_title)
        self.detail.setText(" — ".join(p for p in (a.designer or "No designer", title) if p))
        key = a.model_id or a.look_id
        self.photo.setPixmap(picture(key, a.model_photo_path, a.model_label, self.photo_size))


class ShowDisplay(QWidget):
    """The backstage TV. Owns its ShowRunner and its clock timer."""

    closed = Signal()

    def __init__(
        self,
        ctx: AppContext,
        lineup: Lineup,
        control: QWidget | None = None,
        clock: Callable[[], datetime] = utc_now,
        timezone: str = "UTC",
    ) -> None:
        super().__init__(None)  # top-level: never a child of the control window
        self.setWindowTitle(f"Showdesk — show display — {lineup.show.name}")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        # Keeps the application alive while the display is up, even with the control closed.
        self.setAttribute(Qt.WidgetAttribute.WA_QuitOnClose, True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setStyleSheet("ShowDisplay { background: #0B0B0B; }")
        self.setAutoFillBackground(True)
        self.ctx = ctx
        self.control = control
        try:
            self.tz = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            self.tz = ZoneInfo("UTC")
        self.runner = ShowRunner(ctx, lineup, clock, parent=self)
        self.runner.changed.connect(self.refresh)
        self.runner.message.connect(self._show_message)
        self._close_allowed = False
        self._placed_screen = None
        self.last_paint_end = 0.0
        self.confirm_close: Callable[[], bool] = self._ask_close
        self._build()
        self.timer = QTimer(self)
        self.timer.setInterval(250)
        self.timer.timeout.connect(self.refresh_clock)
        self.timer.start()
        ctx.events.changed.connect(self._on_data_changed)
        app = QApplication.instance()
        app.aboutToQuit.connect(self._allow_close)
        QGuiApplication.instance().screenRemoved.connect(self._on_screen_removed)
        self.refresh()

    # --- layout -------------------------------------------------------------------------

    def _build(self) -> None:
        self.show_name = _label("detail", True, "#BDBDBD")
        self.segment = _label("detail", True, "#FFFFFF")
        self.clock_label = _label("clock", True)
        self.clock_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.elapsed = _label("detail", True)
        self.delta = _label("delta", True)
        self.finish = _label("detail", False, "#CFCFCF")
        self.message = _label("small", False, "#FFCC80")
        self.now_panel = _Panel("NOW", "#FFFFFF")
        self.deck_panel = _Panel("ON DECK", "#FFB300")
        self.next_heading = _label("heading", True, "#90CAF9")
        self.next_heading.setText("NEXT")
        self.next_rows = [_label("next", True, wrap=False) for _ in range(3)]

        top = QGridLayout()
        top.addWidget(self.show_name, 0, 0)
        top.addWidget(self.segment, 1, 0)
        top.addWidget(self.clock_label, 0, 1, 2, 1)
        timing = QHBoxLayout()
        timing.addWidget(self.elapsed)
        timing.addWidget(self.delta)
        timing.addWidget(self.finish)
        timing.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(self.deck_panel, 3)
        right.addWidget(self.next_heading)
        for row in self.next_rows:
            right.addWidget(row)
        right.addStretch(1)
        middle = QHBoxLayout()
        middle.addWidget(self.now_panel, 11)
        middle.addLayout(right, 9)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(28, 20, 28, 20)
        outer.addLayout(top)
        outer.addLayout(timing)
        outer.addLayout(middle, 1)
        outer.addWidget(self.message)
        self._apply_sizes()

    SIZES = {
        "clock": 0.085, "heading": 0.040, "number": 0.060, "name": 0.085, "detail": 0.034,
        "delta": 0.045, "alert": 0.036, "next": 0.038, "small": 0.026,
    }  # fmt: skip

    def _apply_sizes(self) -> None:
        height = max(400, self.height())
        for label in self.findChildren(QLabel):
            role = label.property("sizeRole")
            if not role:
                continue
            font = label.font()
            panel_scale = {self.deck_panel: 0.8, self.now_panel: 1.3}.get(label.parent(), 1.0)
            scale = self.SIZES[role] * panel_scale
            font.setPixelSize(max(12, int(height * scale)))
            label.setProperty("basePx", font.pixelSize())
            font.setBold(bool(label.property("bold")))
            label.setFont(font)
        self.now_panel.photo_size = max(96, int(height * 0.30))
        self.deck_panel.photo_size = max(64, int(height * 0.20))

    def resizeEvent(self, event) -> None:
        self._apply_sizes()
        super().resizeEvent(event)
        QTimer.singleShot(0, self.refresh)  # after the layout has sized the panels

    # --- content ------------------------------------------------------------------------

    def refresh(self) -> None:
        lineup = self.runner.run.lineup
        snap = self.runner.snapshot()
        self.show_name.setText(lineup.show.name)
        on_stage = snap.now or snap.on_deck
        seg = lineup.segment_of(on_stage) if on_stage else None
        if seg is not None:
            cue = f" — music: {seg.music_cue}" if seg.music_cue else ""
            self.segment.setText(f"{seg.name}{cue}")
        else:
            self.segment.setText("")
        if lineup.is_empty:
            empty_now = lineup.empty_message or ""
        elif snap.current_index < 0:
            empty_now = "Not started — press Space to send look 1"
        else:
            empty_now = ""
        self.now_panel.show_appearance(snap.now, lineup, empty_now)
        deck_empty = "Show finished" if snap.finished else "—"
        self.deck_panel.show_appearance(snap.on_deck, lineup, deck_empty)
        q = snap.on_deck_quick_change
        if q is not None:
            self.deck_panel.alert.setText(
                f"QUICK CHANGE — {q.model_name}: {q.looks_between} look"
                f"{'s' if q.looks_between != 1 else ''} since look {q.first_number}, {q.seconds} s"
            )
            self.deck_panel.alert.setStyleSheet(
                f"background: {BEHIND_A_BIT}; color: #1A1200; padding: 6px; border-radius: 8px;"
            )
            self.deck_panel.alert.show()
        else:
            self.deck_panel.alert.hide()
        for row, a in zip(self.next_rows, [*snap.next_up, None, None, None], strict=False):
            if a is None:
                row.setText("")
            else:
                text = f"{lineup.number_of(a.id)}  {a.model_label} — {a.designer or ''}"
                elide_text(row, text, self.deck_panel.width())
        self.refresh_clock()

    def refresh_clock(self) -> None:
        now = self.runner.clock()
        self.clock_label.setText(now.astimezone(self.tz).strftime("%H:%M:%S"))
        run = self.runner.run
        if run.started_at is None:
            self.elapsed.setText("Elapsed 0:00")
            self.delta.setText("Not started")
            self.delta.setStyleSheet("color: #BDBDBD;")
        else:
            self.elapsed.setText(f"Elapsed {format_clock(run.elapsed(now))}")
            delta = run.delta(now)
            colour = (
                AHEAD
                if delta < 0
                else (BEHIND_A_LOT if delta >= LATE_THRESHOLD_S else BEHIND_A_BIT)
            )
            if round(delta) == 0:
                colour = AHEAD
            self.delta.setText(f"  {format_delta(delta)}  ")
            self.delta.setStyleSheet(
                f"background: {colour}; color: {TEXT_ON[colour]}; border-radius: 8px;"
            )
        finish = run.estimated_finish(now)
        self.finish.setText(
            f"Est. finish {finish.astimezone(self.tz).strftime('%H:%M')}" if finish else ""
        )

    def _show_message(self, text: str) -> None:
        self.message.setText(text)

    def _on_data_changed(self, tables: set) -> None:
        if self.runner.own_notify or not tables & lineup_store.RUNWAY_TABLES:
            return
        db, show_id = self.ctx.db, self.runner.show_id
        run_db(
            lambda: lineup_store.load_lineup(db, show_id), self.runner.set_lineup, lambda _e: None
        )

    # --- keys ---------------------------------------------------------------------------

    def keyPressEvent(self, event) -> None:
        key = event.key()
        if key in ADVANCE_KEYS:
            self.runner.advance()
        elif key in BACK_KEYS:
            self.runner.back()
        elif key == Qt.Key.Key_Escape:
            if self.confirm_close():
                self.close_confirmed()
        else:
            super().keyPressEvent(event)

    def event(self, event) -> bool:
        handled = super().event(event)
        if event.type() == QEvent.Type.UpdateRequest:
            # The window and all its labels have been painted (for the latency bench).
            self.last_paint_end = time.perf_counter()
        return handled

    # --- screens and closing ------------------------------------------------------------

    def place(self, screen=None) -> None:
        """Fullscreen on ``screen`` (default: another screen than the control window's)."""
        if screen is None:
            control_screen = self.control.screen() if self.control is not None else None
            screen = pick_screen(QGuiApplication.screens(), control_screen)
        self._placed_screen = screen
        if screen is not None:
            if self.isFullScreen():
                self.showNormal()
            self.winId()  # create the native window so it can be put on that screen
            self.windowHandle().setScreen(screen)
            self.setGeometry(screen.geometry())
        self.showFullScreen()

    def _on_screen_removed(self, screen) -> None:
        # Qt may already have moved the window to another screen: compare with the screen we
        # placed it on, so it goes fullscreen again on a real remaining screen.
        if screen is not self._placed_screen and screen is not self.screen():
            return
        remaining = [s for s in QGuiApplication.screens() if s is not screen]
        target = pick_screen(remaining, None)
        if target is not None:
            self.place(target)
            self._show_message("The display's screen was unplugged: moved to this screen.")

    def _ask_close(self) -> bool:
        answer = QMessageBox.question(
            self,
            "Close the show display?",
            "Close the show display? The show's progress is saved; you can open it again.",
        )
        return answer == QMessageBox.StandardButton.Yes

    def _allow_close(self) -> None:
        self._close_allowed = True

    def close_confirmed(self) -> None:
        self._close_allowed = True
        self.close()

    def closeEvent(self, event) -> None:
        if not self._close_allowed:
            event.ignore()  # only Esc + confirm, or quitting the app, closes the display
            return
        global _display
        self.timer.stop()
        if _display is self:
            _display = None
        self.closed.emit()
        super().closeEvent(event)


_display: ShowDisplay | None = None


def current_display() -> ShowDisplay | None:
    return _display


def open_show_display(
    ctx: AppContext,
    lineup: Lineup,
    control: QWidget | None = None,
    clock: Callable[[], datetime] = utc_now,
    timezone: str = "UTC",
) -> ShowDisplay:
    """Open the display, or bring the one already open to the front (never a second one)."""
    global _display
    if _display is not None:
        if _display.runner.show_id != lineup.show.id:
            _display.runner.run = ShowRun(lineup)
            _display.refresh()
        _display.show()
        _display.raise_()
        _display.activateWindow()
        return _display
    _display = ShowDisplay(ctx, lineup, control, clock, timezone)
    _display.place()
    _display.raise_()
    _display.activateWindow()
    return _display
