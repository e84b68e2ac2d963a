"""Starting the app: settings, database (demo on first start), the main window."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from app.config import Config, is_default_setup, load_config
from app.resources import resource_path
from app.ui.qt import (
    QApplication,
    QColor,
    QMainWindow,
    QMessageBox,
    QPixmap,
    QSplashScreen,
    Qt,
    QTabWidget,
)

if TYPE_CHECKING:
    from app.ui.context import AppContext

# The database layer (SQLAlchemy, models, Alembic) is imported after the splash is up: it is
# most of the start-up time.
log = logging.getLogger(__name__)

APP_STYLESHEET = resource_path("style", "app.qss")


class MainWindow(QMainWindow):
    """Tabs: Door, Lineup, Call times, Organizer, Sync; a sync indicator on every screen."""

    def __init__(self, ctx: AppContext, door_options: dict | None = None) -> None:
        """``door_options`` go to DoorTab (a frame source for demos and screenshots)."""
        super().__init__()
        self.door_options = door_options or {}
        self.setWindowTitle("Showdesk")
        self.kiosk_locked = False
        self._build(ctx)
        self.resize(1280, 800)
        self.door.setFocus()

    def _build(self, ctx: AppContext) -> None:
        """Every screen, on ``ctx``'s event (again when a person picks another event)."""
        from app.ui.calltimes import CallTimesTab
        from app.ui.door import DoorTab
        from app.ui.lineup import LineupTab
        from app.ui.organizer import OrganizerTab
        from app.ui.sync_panel import SyncIndicator, SyncTab

        self.ctx = ctx
        self.tabs = QTabWidget()
        self.door = DoorTab(ctx, **self.door_options)
        self.lineup = LineupTab(ctx)
        self.calltimes = CallTimesTab(ctx)
        self.sync = SyncTab(ctx)
        self.organizer = OrganizerTab(ctx)  # charts drawn (and read) only when shown
        self.tabs.addTab(self.door, "&Door")
        self.tabs.addTab(self.lineup, "&Lineup")
        self.tabs.addTab(self.calltimes, "&Call times")
        self.tabs.addTab(self.organizer, "&Organizer")
        self.tabs.addTab(self.sync, "S&ync")
        self.setCentralWidget(self.tabs)
        self.sync_indicator = SyncIndicator(ctx)
        self.statusBar().addPermanentWidget(self.sync_indicator, 1)
        # A scan from the camera or the USB scanner brings the door screen forward.
        self.door.scan_captured.connect(lambda: self.tabs.setCurrentWidget(self.door))
        self.door.event_chosen.connect(self.switch_event)
        # A locked kiosk shows the door only; the other screens come back with the staff PIN.
        self.door.kiosk_changed.connect(self._kiosk_changed)
        self.tabs.currentChanged.connect(self._keep_door_in_kiosk)
        from app.ui.door.wedge_filter import WedgeFilter

        self.badge_wedge = WedgeFilter(self)
        self.badge_wedge.enabled = False
        self.badge_wedge.scanned.connect(lambda code, _t0: self.calltimes.arrive_badge(code))
        self.badge_wedge.install()
        self.tabs.currentChanged.connect(self._route_scanner)
        from app.ui.sync_panel import sync_service

        service = sync_service(ctx)
        service.bridge.status.connect(self._show_if_removed)
        if service.last is not None:  # removed on an earlier run: said at once
            self._show_if_removed(service.last)

    def switch_event(self, event_id: str) -> None:
        """Reopen every screen on another event of the replica; remembered for the next start.

        The old screens' services stop first; the old widgets go once the DB worker has
        answered everything they asked (its queue is served in order)."""
        from app.store.db import set_meta
        from app.ui import tasks
        from app.ui.context import AppContext

        old = self.ctx
        if event_id == old.event_id:
            return
        log.info("state event %s -> %s", old.event_id, event_id)
        if old.config.event_id:  # pinned by the settings: this run follows the person's pick
            old.config.event_id = event_id

        def remember() -> None:
            with old.db.session() as session:
                set_meta(session, "event_id", event_id)

        tasks.run_db(remember)
        kiosk = self.door.kiosk
        for service in old.services:
            service.stop()
        self.badge_wedge.uninstall()
        screens = [self.takeCentralWidget(), self.sync_indicator, self.badge_wedge]
        self.statusBar().removeWidget(self.sync_indicator)
        self.tabs.hide()
        ctx = AppContext(config=old.config, db=old.db, event_id=event_id, device_id=old.device_id)
        self._build(ctx)
        if kiosk is not None:
            kiosk.deleteLater()  # a new KioskLock comes with the next "Kiosk mode"
        tasks.run_db(lambda: None, lambda _none: [w.deleteLater() for w in screens])
        self.door.setFocus()

    def _show_if_removed(self, status) -> None:
        """The server removed this kiosk: the whole window says so; nothing else works."""
        if status.revoked is None or getattr(self, "revoked_screen", None) is not None:
            return
        from app.ui.revoked_screen import RevokedScreen

        self.door.wedge.enabled = False
        self.badge_wedge.enabled = False
        for service in self.ctx.services:
            service.stop()
        self._retired_tabs = self.takeCentralWidget()
        self._retired_tabs.hide()
        self._retired_tabs.setEnabled(False)
        self.revoked_screen = RevokedScreen(status.revoked)
        self.setCentralWidget(self.revoked_screen)
        self.statusBar().hide()

    def _kiosk_changed(self, locked: bool) -> None:
        self.kiosk_locked = locked
        self.tabs.tabBar().setVisible(not locked)
        if locked:
            self.tabs.setCurrentWidget(self.door)

    def _route_scanner(self, _index: int) -> None:
        """A USB-scanner burst belongs to the screen in front: badges on the call-time board
        mark arrivals; anywhere else a code is a ticket and brings the door forward."""
        on_board = self.tabs.currentWidget() is self.calltimes
        self.door.wedge.enabled = not on_board
        self.badge_wedge.enabled = on_board
        if self.calltimes.wedge is not None:  # talent-arrival mode's own scanner listener
            self.calltimes.wedge.enabled = on_board

    def _keep_door_in_kiosk(self, _index: int) -> None:
        if self.kiosk_locked and self.tabs.currentWidget() is not self.door:
            self.tabs.setCurrentWidget(self.door)


def open_context(config: Config) -> AppContext:
    """Open the database (seeding the demo event when nothing is configured)."""
    from app.store.db import DatabaseProblem, current_event_id, device_id, open_database
    from app.ui.context import AppContext

    db = open_database(config.db)
    with db.session() as session:
        event_id = config.event_id or current_event_id(session)
    if event_id is None:
        if not is_default_setup(config) and config.backend != "none":
            raise DatabaseProblem(
                f"The database {config.db} has no event yet. Run 'showdesk sync --once' "
                "with the network connected, or 'showdesk demo' to try the demo event."
            )
        from app.store.demo import seed_demo

        seed_demo(db)
        with db.session() as session:
            event_id = current_event_id(session)
    with db.session() as session:
        dev = device_id(session)
    return AppContext(config=config, db=db, event_id=event_id, device_id=dev)


def startup_error_message(exc: BaseException) -> tuple[str, str]:
    """(title, text) of the message shown when the app cannot start: plain words, no trace."""
    from app.errors import explain
    from app.store.db import DatabaseProblem

    if isinstance(exc, DatabaseProblem):
        return "Showdesk cannot open its database", str(exc)
    return (
        "Showdesk cannot start",
        f"{explain(exc)}\n\nNothing was changed. Run 'showdesk doctor' to check this computer.",
    )


def apply_style(app: QApplication) -> None:
    """The app-wide stylesheet (visible keyboard focus, readable sizes)."""
    try:
        app.setStyleSheet(APP_STYLESHEET.read_text(encoding="utf-8"))
    except OSError:
        log.warning("stylesheet %s missing; using Qt's default look", APP_STYLESHEET)


def show_splash(app: QApplication) -> QSplashScreen:
    """Something on screen at once, while the database opens and the screens are built."""
    pixmap = QPixmap(520, 160)
    pixmap.fill(QColor("#1d232b"))
    splash = QSplashScreen(pixmap)
    font = splash.font()
    font.setPixelSize(26)
    splash.setFont(font)
    splash.showMessage(
        "Showdesk — opening the event…", Qt.AlignmentFlag.AlignCenter, QColor("#f2f2f2")
    )
    splash.show()
    app.processEvents()
    return splash


def run_app(
    args: argparse.Namespace | None = None,
    on_window: Callable[[MainWindow], None] | None = None,
) -> int:
    """Open the app. ``on_window`` (benchmarks, screenshots) gets the window once it is built."""
    from app.logs import start

    start("app")  # log file and crash file first: a windowed build has no stderr
    if QApplication.instance() is None:
        from app.ui.display_check import display_problem

        problem = display_problem()
        if problem is not None:  # before Qt, which would abort with a misleading message
            log.error("cannot start: %s", problem)
            print(f"showdesk: {problem}", file=sys.stderr)
            return 2
    config = load_config()
    if args is not None and getattr(args, "db", None):
        config.db = args.db
    if args is not None and getattr(args, "kiosk", False):
        config.kiosk = True
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("Showdesk")
    apply_style(app)
    splash = show_splash(app)
    try:
        ctx = open_context(config)
    except Exception as exc:  # a damaged file, a full disk: a sentence, never a traceback
        log.error("cannot start: %r", exc)
        splash.close()
        title, text = startup_error_message(exc)
        QMessageBox.critical(None, title, text)
        return 2
    window = MainWindow(ctx)
    for problem in config.problems:
        window.statusBar().showMessage(problem, 15000)
    if config.kiosk:
        window.door.enter_kiosk_mode(window)
    else:
        window.show()
    splash.finish(window)
    if on_window is not None:
        on_window(window)
    code = app.exec()
    for service in window.ctx.services:  # the event picked last, if a person switched
        service.stop()
    from app.ui import tasks

    tasks.shutdown(wait=False)
    ctx.db.close()
    return code
