"""Starting the app: settings, database (demo on first start), the main window."""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.config import Config, is_default_setup, load_config
from app.resources import resource_path
from app.ui.qt import (
    QApplication,
    QKeySequence,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QShortcut,
    Qt,
    QTabWidget,
    QTimer,
    QWidget,
)

if TYPE_CHECKING:
    from app.ui.context import AppContext

# The database layer (SQLAlchemy, models, Alembic) is imported after the splash is up: it is
# most of the start-up time.
log = logging.getLogger(__name__)

APP_STYLESHEET = resource_path("style", "app.qss")


# What each device role sees (``device_role``, set by enrolment). No role: the desktop and
# the demo, every screen. A door kiosk: the door and its own counters, never backstage names
# or call-time alerts. A producer: lineup (and its show display) and call times. An
# organizer: everything, reports, the audit trail and the venue hub included. An admin: everything, and
# enrolling devices on the Sync screen. Sync's status is on every window's status bar either way.
ALL_SCREENS = ("door", "lineup", "calltimes", "organizer", "audit", "hub", "sync")
ROLE_SCREENS: dict[str, tuple[str, ...]] = {
    "door": ("door",),
    "producer": ("lineup", "calltimes", "sync"),
    "organizer": ALL_SCREENS,
    "admin": ALL_SCREENS,
}
ENROLS_DEVICES = frozenset({"", "admin"})  # who keeps "Enrol a kiosk…" on the Sync screen


def device_role(config: Config) -> str:
    """The configured role, lower case; "" for none (every screen)."""
    return (getattr(config, "device_role", None) or "").strip().lower()


def role_screens(config: Config) -> tuple[str, ...]:
    """The screens of this device's role, in tab order. An unknown role gets the door only
    (the least a device may show), and a warning in the log."""
    role = device_role(config)
    if not role:
        return ALL_SCREENS
    if role not in ROLE_SCREENS:
        log.warning("unknown device_role %r: the door only", role)
        return ROLE_SCREENS["door"]
    return ROLE_SCREENS[role]


def _screen_factories(ctx: AppContext) -> list[tuple[str, str, Callable[[], QWidget]]]:
    """The screens after the door that this device's role may see: (attribute, tab label,
    builder), in tab order."""

    def lineup() -> QWidget:
        from app.ui.lineup import LineupTab

        return LineupTab(ctx)

    def calltimes() -> QWidget:
        from app.ui.calltimes import CallTimesTab

        return CallTimesTab(ctx)

    def organizer() -> QWidget:
        from app.ui.organizer import OrganizerTab

        return OrganizerTab(ctx)  # charts drawn (and read) only when shown

    def audit() -> QWidget:
        from app.ui.organizer.audit_tab import AuditTab

        return AuditTab(ctx)  # read only when shown

    def hub() -> QWidget:
        from app.ui.hub_tab import VenueHubTab

        tab = VenueHubTab(ctx)
        ctx.services.append(tab.service)  # a running hub stops with the app
        return tab

    def sync() -> QWidget:
        from app.ui.sync_panel import SyncTab

        return SyncTab(ctx)

    shown = role_screens(ctx.config)
    return [
        screen
        for screen in (
            ("lineup", "&Lineup", lineup),
            ("calltimes", "&Call times", calltimes),
            ("organizer", "&Organizer", organizer),
            ("audit", "&Audit trail", audit),
            ("hub", "Venue &hub", hub),
            ("sync", "S&ync", sync),
        )
        if screen[0] in shown
    ]


class MainWindow(QMainWindow):
    """Tabs: Door, Lineup, Call times, Organizer, Audit trail, Sync (as the role allows); a
    sync indicator on every screen."""

    def __init__(self, ctx: AppContext, door_options: dict | None = None) -> None:
        """``door_options`` go to DoorTab (a frame source for demos and screenshots)."""
        super().__init__()
        self.door_options = door_options or {}
        self.setWindowTitle("Showdesk")
        self.kiosk_locked = False
        self.kiosk: Any = None  # the window's own lock, on a device without a door
        self._build(ctx)
        self.resize(1280, 800)
        if self.door is not None:
            self.door.setFocus()

    def _build(self, ctx: AppContext) -> None:
        """Every screen, on ``ctx``'s event (again when a person picks another event).

        The door is built at once; the other screens are placeholders in the tab bar, each
        built when first shown or asked for (``window.lineup`` etc.), and in the background
        one per event-loop turn once the door is ready to scan: start-up waits for the door
        alone.
        """
        from app.ui.door import DoorTab
        from app.ui.sync_panel import SyncIndicator

        self.ctx = ctx
        self.tabs = QTabWidget()
        self.door: Any = None  # a producer's window has no door
        if "door" in role_screens(ctx.config):
            self.door = DoorTab(ctx, **self.door_options)
            self.tabs.addTab(self.door, "&Door")
        self._built: dict[str, QWidget] = {}
        self._pending: dict[str, tuple[QWidget, Callable[[], QWidget]]] = {}
        for name, label, factory in _screen_factories(ctx):
            placeholder = QWidget()
            placeholder.setObjectName(f"{name}Placeholder")
            self._pending[name] = (placeholder, factory)
            self.tabs.addTab(placeholder, label)
        self.tabs.currentChanged.connect(self._build_shown)
        self.tabs.currentChanged.connect(self._hold_alerts)
        self.setCentralWidget(self.tabs)
        self.sync_indicator = SyncIndicator(ctx)
        self.statusBar().addPermanentWidget(self.sync_indicator, 1)
        if self.door is not None:
            self.door.ready.connect(lambda: QTimer.singleShot(0, self._build_next))
            # A scan from the camera or the USB scanner brings the door screen forward.
            self.door.scan_captured.connect(lambda: self.tabs.setCurrentWidget(self.door))
            self.door.event_chosen.connect(self.switch_event)
            # A locked kiosk shows the door only; the other screens come back with the PIN.
            self.door.kiosk_changed.connect(self._kiosk_changed)
            self.tabs.currentChanged.connect(self._keep_door_in_kiosk)
        from app.ui.door.wedge_filter import WedgeFilter

        self.badge_wedge = WedgeFilter(self)
        self.badge_wedge.enabled = False
        self.badge_wedge.scanned.connect(self._badge_scanned)
        self.badge_wedge.install()
        self.tabs.currentChanged.connect(self._route_scanner)
        self._route_scanner(self.tabs.currentIndex())
        if self.door is None:  # the first screen now, the others in the background
            self._build_shown(self.tabs.currentIndex())
            QTimer.singleShot(0, self._build_next)
        from app.ui.sync_panel import sync_service

        service = sync_service(ctx)
        service.bridge.status.connect(self._show_if_removed)
        if service.last is not None:  # removed on an earlier run: said at once
            self._show_if_removed(service.last)

    @property
    def lineup(self) -> Any:
        return self._screen("lineup")

    @property
    def calltimes(self) -> Any:
        return self._screen("calltimes")

    @property
    def organizer(self) -> Any:
        return self._screen("organizer")

    @property
    def audit(self) -> Any:
        return self._screen("audit")

    @property
    def hub(self) -> Any:
        return self._screen("hub")

    @property
    def sync(self) -> Any:
        return self._screen("sync")

    def _screen(self, name: str) -> QWidget:
        """The screen ``name``, built now if it is still a placeholder (its tab keeps its
        place, its label and the current selection)."""
        built = self._built.get(name)
        if built is not None:
            return built
        placeholder, factory = self._pending.pop(name)
        screen = factory()
        self._built[name] = screen
        index = self.tabs.indexOf(placeholder)
        current = self.tabs.currentIndex()
        label = self.tabs.tabText(index)
        focused = QApplication.focusWidget()  # swapping a tab page may move the focus
        self.tabs.blockSignals(True)
        try:
            self.tabs.removeTab(index)
            self.tabs.insertTab(index, screen, label)
            self.tabs.setCurrentIndex(current)
        finally:
            self.tabs.blockSignals(False)
        if focused is not None and focused is not QApplication.focusWidget():
            if index != current and focused.isVisible():  # built in the background
                focused.setFocus()
        placeholder.deleteLater()
        self._fit_to_role(name, screen)
        return screen

    def _fit_to_role(self, name: str, screen: QWidget) -> None:
        """What a screen offers beyond its role: enrolling other devices is an admin's;
        call-time toasts never show over the door."""
        if name == "sync" and device_role(self.ctx.config) not in ENROLS_DEVICES:
            button = getattr(screen, "enrol_kiosk_button", None)
            if button is not None:
                button.hide()
        if name == "calltimes":
            self._hold_alerts(self.tabs.currentIndex())

    def _hold_alerts(self, _index: int) -> None:
        """Call-time toasts are held (hidden, silent) while the door is in front: nothing may
        cover a verdict, and a kiosk's sounds are the verdicts'."""
        board = self._built.get("calltimes")
        stack = getattr(board, "alert_stack", None)
        if stack is not None:
            on_door = self.door is not None and self.tabs.currentWidget() is self.door
            stack.set_held(on_door or self.kiosk_locked)

    def _badge_scanned(self, code: str, _t0: float) -> None:
        if "calltimes" in self._built or "calltimes" in self._pending:
            self.calltimes.arrive_badge(code)

    def _build_shown(self, _index: int) -> None:
        for name, (placeholder, _factory) in list(self._pending.items()):
            if self.tabs.currentWidget() is placeholder:
                self._screen(name)
                self._route_scanner(self.tabs.currentIndex())

    def _build_next(self) -> None:
        """One waiting screen per event-loop turn: a scan arriving meanwhile waits for one
        screen's build at most."""
        if self._pending:
            self._screen(next(iter(self._pending)))
            QTimer.singleShot(0, self._build_next)

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
        kiosk = self.door.kiosk if self.door is not None else None
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
        if self.door is not None:
            self.door.setFocus()

    def _show_if_removed(self, status) -> None:
        """The server removed this kiosk: the whole window says so; nothing else works."""
        if status.revoked is None or getattr(self, "revoked_screen", None) is not None:
            return
        from app.ui.revoked_screen import RevokedScreen

        if self.door is not None:
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

    def enter_kiosk_mode(self) -> None:
        """Fullscreen, frameless and closing refused (``--kiosk``). With a door, the door's
        lock (staff sign-in for search, one-action PINs). Without one (a producer's tablet at
        the lineup board) the window's own: every screen of the role stays usable, and
        leaving kiosk mode takes the kiosk PIN or an organizer's or admin's badge + PIN
        (the status bar's button, Ctrl+Shift+K)."""
        if self.door is not None:
            self.door.enter_kiosk_mode(self)
            return
        if self.kiosk is None:
            from app.ui.kiosk_lock import KioskAuthority, KioskLock

            authority = KioskAuthority(self.ctx.db, self.ctx.event_id, self.ctx.config.kiosk_pin)
            self.kiosk = KioskLock(self, authority)
            self.kiosk_button = QPushButton()
            self.kiosk_button.setObjectName("kioskButton")
            self.kiosk_button.clicked.connect(self._kiosk_button_pressed)
            self.statusBar().addPermanentWidget(self.kiosk_button)
            shortcut = QShortcut(QKeySequence("Ctrl+Shift+K"), self)
            shortcut.activated.connect(self._kiosk_button_pressed)
            self.kiosk.locked_changed.connect(self._window_kiosk_changed)
        self.kiosk.lock()

    def _kiosk_button_pressed(self) -> None:
        if self.kiosk is None:
            return
        if self.kiosk.locked:
            self.kiosk.ask_pin()
        else:
            self.kiosk.lock()

    def _window_kiosk_changed(self, locked: bool) -> None:
        log.info("state kiosk %s", "locked" if locked else "unlocked")
        self.kiosk_locked = locked
        self.kiosk_button.setText(
            "Leave kiosk mode… (Ctrl+Shift+K)" if locked else "Kiosk mode (Ctrl+Shift+K)"
        )

    def _kiosk_changed(self, locked: bool) -> None:
        self.kiosk_locked = locked
        self.tabs.tabBar().setVisible(not locked)
        if locked:
            self.tabs.setCurrentWidget(self.door)
        self._hold_alerts(self.tabs.currentIndex())

    def _route_scanner(self, _index: int) -> None:
        """A USB-scanner burst belongs to the screen in front: badges on the call-time board
        mark arrivals; anywhere else a code is a ticket and brings the door forward."""
        board = self._built.get("calltimes")
        on_board = board is not None and self.tabs.currentWidget() is board
        if self.door is not None:
            self.door.wedge.enabled = not on_board
        self.badge_wedge.enabled = on_board
        if board is not None and board.wedge is not None:  # talent-arrival mode's listener
            board.wedge.enabled = on_board

    def _keep_door_in_kiosk(self, _index: int) -> None:
        if self.door is None:
            return
        if self.kiosk_locked and self.tabs.currentWidget() is not self.door:
            self.tabs.setCurrentWidget(self.door)


def open_context(config: Config) -> AppContext:
    """Open the database (seeding the demo event when nothing is configured)."""
    from app.store.db import (
        DatabaseProblem,
        ReplicaKeyLost,
        current_event_id,
        device_id,
        open_database,
    )
    from app.ui.context import AppContext

    try:
        db = open_database(config.db)
    except ReplicaKeyLost as exc:  # moved aside, a fresh replica in its place: say so, go on
        config.problems.insert(0, str(exc))
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
    _forget_old_personal_data(db, config.retention_days)
    return AppContext(config=config, db=db, event_id=event_id, device_id=dev)


def _forget_old_personal_data(db: Any, days: int) -> None:
    """On the DB worker, after start-up's reads: attendees of events that ended more than
    ``days`` ago are forgotten (the sync runner repeats it hourly with the same number)."""
    from app.store.db import set_meta
    from app.store.retention import META_DAYS, purge_personal_data
    from app.ui import tasks

    def purge() -> Any:
        with db.session() as session:
            set_meta(session, META_DAYS, str(int(days)))
        return purge_personal_data(db, days=days)

    tasks.run_db(purge, None, lambda exc: log.warning("retention: %s", exc))


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


class Splash(QLabel):
    """Something on screen at once, while the database opens and the screens are built.

    A frameless label rather than QSplashScreen: QSplashScreen.show() waits up to a second for
    the window system to confirm the window is exposed, which a kiosk without a window manager
    (and the offscreen platform) never does — a second of every start spent waiting.
    """

    def __init__(self) -> None:
        super().__init__("Showdesk — opening the event…")
        self.setWindowFlags(
            Qt.WindowType.SplashScreen
            | Qt.WindowType.FramelessWindowHint
            | Qt.WindowType.WindowStaysOnTopHint
        )
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setFixedSize(520, 160)
        self.setStyleSheet(
            "QLabel { background: #1d232b; color: #f2f2f2; font-size: 26px; font-weight: 600; }"
        )

    def finish(self, _window: QWidget) -> None:
        self.close()


def show_splash(app: QApplication) -> Splash:
    splash = Splash()
    screen = app.primaryScreen()
    if screen is not None:
        splash.move(screen.availableGeometry().center() - splash.rect().center())
    splash.show()
    app.processEvents()
    return splash


def _exit_when_ready(window: MainWindow) -> None:
    """For start-up timing of any install (wheel, frozen bundle): one JSON line on stdout
    when the door is ready to scan, then quit. Set by ``SHOWDESK_EXIT_WHEN_READY=1``."""
    shown = time.time()

    def ready() -> None:
        print(json.dumps({"shown_wall": shown, "ready_wall": time.time()}), flush=True)
        QTimer.singleShot(0, QApplication.quit)

    if window.door is None or window.door.is_ready:
        ready()
    else:
        window.door.ready.connect(ready)


def _warm_keyring() -> None:
    """keyring finds its backend by scanning installed packages' entry points (~0.2 s); the
    replica's key is read from it when the database opens. Done on a thread now, that scan
    runs while Qt starts and the splash paints, instead of after."""

    def warm() -> None:
        try:
            import keyring

            keyring.get_keyring()
        except Exception:  # the secret store reports its own problems when it is used
            log.debug("keyring warm-up failed", exc_info=True)

    threading.Thread(target=warm, name="keyring-warm-up", daemon=True).start()


def run_app(
    db: Path | None = None,
    kiosk: bool = False,
    on_window: Callable[[MainWindow], None] | None = None,
) -> int:
    """Open the app on ``db`` (default: from settings), fullscreen and locked when ``kiosk``.
    ``on_window`` (benchmarks, screenshots) gets the window once it is built."""
    from app.logs import start

    start("app")  # log file and crash file first: a windowed build has no stderr
    _warm_keyring()
    if QApplication.instance() is None:
        from app.ui.display_check import display_problem

        problem = display_problem()
        if problem is not None:  # before Qt, which would abort with a misleading message
            log.error("cannot start: %s", problem)
            print(f"showdesk: {problem}", file=sys.stderr)
            return 2
    config = load_config()
    if db is not None:
        config.db = Path(db)
    if kiosk:
        config.kiosk = True
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("Showdesk")
    apply_style(app)
    if config.kiosk and (config.backend or "none").strip().lower() == "none":
        if not Path(config.db).exists():  # a new kiosk: enrol it first (the demo one key away)
            from app.ui.enrolment import enrol_first

            enrolled = enrol_first(config)
            if enrolled is None:
                return 0
            config = enrolled
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
    if config.problems:  # all of them: one message would hide the others
        window.statusBar().showMessage("  ·  ".join(config.problems), 30000)
        window.statusBar().setToolTip("\n".join(config.problems))
    if config.kiosk:
        window.enter_kiosk_mode()
    else:
        window.show()
    splash.finish(window)
    if on_window is not None:
        on_window(window)
    if os.environ.get("SHOWDESK_EXIT_WHEN_READY"):
        _exit_when_ready(window)
    code = app.exec()
    for service in window.ctx.services:  # the event picked last, if a person switched
        service.stop()
    from app.ui import tasks

    tasks.shutdown(wait=False)
    ctx.db.close()
    return code
