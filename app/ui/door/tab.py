"""The door screen: camera, verdict panel, last scans, counters, gate, direction, search."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from app.domain.verdicts import Verdict, headline_for
from app.errors import explain
from app.resources import resource_path
from app.ui.door.camera import CAMERA_LOST, CAMERA_OFF, CameraFeed, CameraPreview
from app.ui.door.dialogs import AnnulDialog, AttendeeCard, load_details
from app.ui.door.event_header import EventHeader, load_events
from app.ui.door.gate_picker import GatePicker
from app.ui.door.search_panel import SearchPanel
from app.ui.door.verdict_panel import VerdictPanel
from app.ui.door.verdict_style import STYLES, list_colour, sound_for
from app.ui.door.widgets import ElidedLabel
from app.ui.qt import (
    QColor,
    QHBoxLayout,
    QKeySequence,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QShortcut,
    QSplitter,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from app.ui.queue_watch import queue_watch
from app.ui.sounds import SoundPlayer
from app.ui.status_badge import StatusBadge
from app.ui.tasks import run_db

log = logging.getLogger(__name__)
HUB_QR_PREFIX = "showdesk-hub:"  # app.sync.hub.server.QR_SCHEME (no sync import on the door)

STYLESHEET = resource_path("style", "door.qss")
RECENT_LIMIT = 12
SCAN_ROLE = Qt.ItemDataRole.UserRole


def _load_stylesheet() -> str:
    try:
        return STYLESHEET.read_text(encoding="utf-8")
    except OSError:
        log.warning("door stylesheet %s missing; using Qt's default look", STYLESHEET)
        return ""


def counters_text(counters: Any) -> tuple[str, str]:
    """("Admitted 412/2000", "Inside 398  ·  GENERAL 300/1500  ·  VIP 40/60  ·  ...")."""
    main = f"Admitted {counters.admitted}/{counters.expected}"
    parts = [f"Inside {counters.inside}"]
    parts += [f"{t.tier.upper()} {t.admitted}/{t.expected}" for t in counters.per_tier]
    tiers = "  ·  ".join(parts)
    return main, tiers


def _short(code: str, keep: int = 18) -> str:
    return code if len(code) <= keep else code[:keep] + "…"


def recent_text(scan: Any, tz: ZoneInfo) -> str:
    when = scan.scanned_at.astimezone(tz).strftime("%H:%M:%S")
    who = scan.attendee_name or (
        f"#{scan.ticket_number}" if scan.ticket_number else _short(scan.raw_code or "—")
    )
    arrow = "OUT" if scan.direction == "out" else "IN"
    undone = "  (undone)" if scan.annulled else ""
    headline = STYLES[scan.verdict].headline if scan.verdict in STYLES else scan.headline
    return f"{when}  {arrow}  {headline}  —  {who[:40]}{undone}"


def _no_sideways_scroll(view: QListWidget) -> None:
    """Long lines end in "…" instead of a horizontal scroll bar (or a clipped edge)."""
    from app.ui.door.widgets import elide_rows

    elide_rows(view)
    view.setUniformItemSizes(True)


class DoorTab(QWidget):
    """The kiosk's door screen. All database work runs on the DB worker (``run_db``).

    ``source_factory``/``decoder_factory`` build the FrameSource and Decoder (defaults: the
    configured camera and decoder chain); tests and demos pass their own.
    """

    verdict_shown = Signal(object)  # ScanResult, after the panel shows it
    ready = Signal()  # counters loaded and the camera started (or known to be missing)
    scan_captured = Signal()  # a scan arrived (camera or USB scanner): the window may switch here
    kiosk_changed = Signal(bool)  # locked as a kiosk (True) or unlocked by the staff PIN
    event_chosen = Signal(str)  # a person picked another event: the window reopens on it

    def __init__(
        self,
        ctx: Any,
        source_factory: Callable[[], Any] | None = None,
        decoder_factory: Callable[[], Any] | None = None,
        sound_player: SoundPlayer | None = None,
        start_camera: bool = True,
    ) -> None:
        super().__init__()
        self.setObjectName("doorTab")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)  # paint the dark backdrop
        self.ctx = ctx
        self.config = ctx.config
        self._service: Any = None  # CheckinService, touched only on the DB worker
        self.tz = ZoneInfo("UTC")
        self.last_result: Any = None
        self.kiosk: Any = None
        self.staff: Any = None  # SignedIn of the staff member at this door (a locked kiosk)
        self.staff_on_duty = False  # someone signed in (a badge, or the kiosk PIN)
        self.has_staff = True  # the replica has staff with PINs (read at the kiosk's lock)
        self.sign_in_dialog: Any = None
        self.idle: Any = None
        self.card: AttendeeCard | None = None
        self.annul_dialog: AnnulDialog | None = None
        self.timings: list[tuple[float, float]] = []  # (code handed over, verdict painted)
        self.history: list[Any] = []  # every ScanResult shown, oldest first
        self.ready_at: float | None = None
        self._loaded = False
        self._camera_settled = False
        self._counters_due = False
        self.sounds = sound_player or SoundPlayer(enabled=self.config.sound)

        self._build_widgets()
        self._build_shortcuts()
        self.setStyleSheet(_load_stylesheet())

        from app.ui.door.wedge_filter import TicketCodes, WedgeFilter

        self.codes = TicketCodes()  # legacy codes arrive from the DB worker (_load_codes)
        self.wedge = WedgeFilter(self, is_code=self.codes)
        self.wedge.scanned.connect(lambda code, t0: self.scan_code(code, "qr", t0))
        self.wedge.install()
        self.wedge.watch_paste(self.search.box)

        self.feed = CameraFeed(
            source_factory or self._default_source,
            decoder_factory or self._default_decoder,
            self.config.debounce_seconds,
        )
        self.feed.frame_ready.connect(self._show_frame)
        self.feed.code_read.connect(lambda code, t0: self.scan_code(code, "qr", t0))
        self.feed.problem.connect(self._camera_problem)
        self.feed.running.connect(self._camera_running)
        self.feed.recovered.connect(lambda: self.preview.set_banner(""))
        self.feed.code_gone.connect(lambda: self.panel.guest_moved_on())

        self._counter_timer = QTimer(self)
        self._counter_timer.setSingleShot(True)
        self._counter_timer.setInterval(250)  # let a following scan go first on the DB worker
        self._counter_timer.timeout.connect(self.refresh_counts)
        ctx.events.changed.connect(self._data_changed)
        ctx.services.append(self)

        # Window first, then the slow parts in the background.
        run_db(self._open_service, self._service_opened, self._service_failed)
        self.check_storage()  # a read-only or full database says so before the first guest
        self._load_codes()
        if start_camera and self.config.camera_enabled:
            self.preview.set_banner("Starting the camera…")
            QTimer.singleShot(0, self.feed.start)
        else:
            self.preview.set_banner(CAMERA_OFF)
            self._camera_settled = True

    # --- layout ---------------------------------------------------------------------------
    def _build_widgets(self) -> None:
        self.event_header = EventHeader()
        self.event_header.event_chosen.connect(self._event_picked)
        self.badge = StatusBadge(queue_watch(self.ctx))
        self.gate = GatePicker(self.config.gate)
        self.gate.gate_chosen.connect(self._gate_chosen)
        self.gate.unlock_wanted.connect(self.edit_gate)
        gate_label = QLabel("&Gate (F4)")
        gate_label.setBuddy(self.gate)
        self.direction = QPushButton()
        self.direction.setObjectName("directionButton")
        self.direction.setCheckable(True)
        self.direction.setToolTip("Entry or exit scanning (F3)")
        self.direction.setAccessibleName("scanning direction")
        self.direction.toggled.connect(self._direction_toggled)
        # Elided, never wider than what is left beside the buttons: on a narrow kiosk screen
        # the counters shrink (whole text in the tooltip) instead of covering the buttons.
        self.counters = ElidedLabel("Loading counters…")
        self.counters.setObjectName("counters")
        self.tiers = ElidedLabel("")
        self.tiers.setObjectName("tierCounters")
        self.staff_button = QPushButton("Kiosk mode")
        self.staff_button.setObjectName("staffButton")
        self.staff_button.setToolTip(
            "Lock this screen as a kiosk; the staff PIN unlocks it (Ctrl+Shift+K)"
        )
        self.staff_button.clicked.connect(self.staff_unlock)
        self.sign_in_button = QPushButton("Staff sign-in (F9)")
        self.sign_in_button.setObjectName("signInButton")
        self.sign_in_button.setToolTip(
            "Sign in with your staff badge and PIN to search guests and admit them by hand"
        )
        self.sign_in_button.clicked.connect(self.sign_in_or_out)
        self.sign_in_button.hide()  # a locked kiosk only

        top = QHBoxLayout()
        top.addWidget(gate_label)
        top.addWidget(self.gate)
        top.addWidget(self.direction)
        counts = QVBoxLayout()
        counts.addWidget(self.counters)
        counts.addWidget(self.tiers)
        top.addLayout(counts, 1)
        top.addWidget(self.sign_in_button)
        top.addWidget(self.staff_button)

        self.preview = CameraPreview()
        self.search = SearchPanel(self.ctx.db, self.ctx.event_id)
        self.search.chosen.connect(self.open_card)
        _no_sideways_scroll(self.search.results)
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.preview)
        left.addWidget(self.search)
        left.setStretchFactor(0, 3)
        left.setStretchFactor(1, 2)

        self.panel = VerdictPanel(self.config.verdict_seconds)
        self.recent = QListWidget()
        self.recent.setObjectName("recentScans")
        self.recent.setAccessibleName("last scans")
        _no_sideways_scroll(self.recent)
        self.undo_button = QPushButton("Undo admission (Ctrl+Z)")
        self.undo_button.setObjectName("undoButton")
        self.undo_button.clicked.connect(self.undo_admission)
        recent_head = QHBoxLayout()
        title = QLabel("Last scans")
        title.setObjectName("sectionTitle")
        recent_head.addWidget(title, 1)
        # strict offline policy: a held guest is admitted only by a signed-in staff member
        self.admit_held_button = QPushButton("Admit held guest (F6)")
        self.admit_held_button.setObjectName("admitHeldButton")
        self.admit_held_button.clicked.connect(self.admit_held)
        self.admit_held_button.hide()
        recent_head.addWidget(self.admit_held_button)
        recent_head.addWidget(self.undo_button)
        right = QVBoxLayout()
        right.addWidget(self.panel, 3)
        right.addLayout(recent_head)
        right.addWidget(self.recent, 1)
        right_box = QWidget()
        right_box.setLayout(right)

        body = QSplitter(Qt.Orientation.Horizontal)
        body.addWidget(left)
        body.addWidget(right_box)
        body.setStretchFactor(0, 2)
        body.setStretchFactor(1, 3)
        body.setSizes([470, 790])
        left.setSizes([300, 400])
        head = QHBoxLayout()
        head.addWidget(self.event_header, 1)
        head.addWidget(self.badge)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.addLayout(head)
        layout.addLayout(top)
        layout.addWidget(body, 1)
        self._direction_toggled(False)

        self.setTabOrder(self.search.box, self.search.results)
        self.setTabOrder(self.search.results, self.recent)
        self.setTabOrder(self.recent, self.undo_button)
        self.setTabOrder(self.undo_button, self.gate)
        self.setTabOrder(self.gate, self.direction)
        self.setFocusProxy(self.search.box)

    def _build_shortcuts(self) -> None:
        context = Qt.ShortcutContext.WidgetWithChildrenShortcut
        for keys, action in (
            ("F2", self.focus_search),
            ("F3", self.toggle_direction),
            ("F4", self.edit_gate),
            ("Ctrl+Z", self.undo_admission),
            ("F6", self.admit_held),
            ("Escape", self.clear),
            ("Ctrl+Shift+K", self.staff_unlock),
            ("F9", self.sign_in_or_out),
        ):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(context)
            shortcut.activated.connect(action)

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if self.focusWidget() is None or self.focusWidget() is self.gate:
            self.search.box.setFocus()  # ready for a name (or a scanner burst) at once

    # --- startup --------------------------------------------------------------------------
    def _open_service(self) -> tuple[Any, Any, list[Any], str, tuple[list[str], str, list[Any]]]:
        """On the DB worker: the CheckinService, first counters, last scans, event timezone,
        and (the event's gates, this device's gate, the replica's events)."""
        from app.store.checkin_service import CheckinService
        from app.store.gates import door_gate
        from app.store.models import Event

        with self.ctx.db.session() as session:
            gates, gate = door_gate(session, self.ctx.event_id, self.config.gate)
            events = load_events(session)
        self._service = CheckinService(
            self.ctx.db,
            self.ctx.event_id,
            self.ctx.device_id,
            gate=gate,
            direction="in",
            staff_name=self.config.device_name,
            online=self._sync_online,
        )
        with self.ctx.db.session() as session:
            event = session.get(Event, self.ctx.event_id)
            timezone = event.timezone if event is not None and event.timezone else "UTC"
        service = self._service
        door = (gates, gate, events)
        return service, service.counters(), service.recent(RECENT_LIMIT), timezone, door

    def _sync_online(self) -> bool:
        """Whether the sync engine last reached the server (its status, read from any thread)."""
        for service in list(self.ctx.services):
            status = getattr(service, "last", None)
            if status is not None and getattr(status, "online", None) is not None:
                return bool(status.online)
        return False

    def _service_opened(self, loaded: tuple[Any, Any, list[Any], str, Any]) -> None:
        _service, counters, recent, timezone, (gates, gate, events) = loaded
        self.config.gate = gate
        self.gate.set_gates(gates, gate)
        self.event_header.show_events(events, self.ctx.event_id)
        try:
            self.tz = ZoneInfo(timezone)
        except (KeyError, ValueError):
            self.tz = ZoneInfo("UTC")
        self._show_counters(counters)
        self._show_recent(recent)
        self._loaded = True
        self._maybe_ready()

    def _service_failed(self, exc: BaseException) -> None:
        self.counters.setText("Check-in is not available")
        self.panel.set_blocked(f"The door cannot read its data: {explain(exc)}", "service")
        self._loaded = True
        self._maybe_ready()

    def _maybe_ready(self) -> None:
        if self._loaded and self._camera_settled and self.ready_at is None:
            self.ready_at = time.perf_counter()
            self.ready.emit()

    @property
    def is_ready(self) -> bool:
        return self.ready_at is not None

    def _default_source(self) -> Any:
        from app.scan.sources import CameraSource

        return CameraSource(self.config.camera)

    def _default_decoder(self) -> Any:
        from app.scan.decoders import build_chain

        return build_chain(self.config.decoders)

    # --- camera ---------------------------------------------------------------------------
    def _show_frame(self, image: Any) -> None:
        self.preview.set_image(image)
        if self.preview.banner in (CAMERA_LOST, "Starting the camera…"):
            self.preview.set_banner("")

    def _camera_problem(self, message: str) -> None:
        self.preview.set_banner(message)
        self._camera_settled = True
        self._maybe_ready()

    def _camera_running(self, _name: str) -> None:
        if self.preview.banner == "Starting the camera…":
            self.preview.set_banner("")
        self._camera_settled = True
        self._maybe_ready()

    # --- scanning -------------------------------------------------------------------------
    def scan_code(self, code: str, method: str = "qr", t0: float | None = None) -> None:
        """Decide a code on the DB worker; show the verdict when it comes back. The venue
        hub's join QR is not a ticket: it opens the join (after the PIN on a locked kiosk)."""
        if isinstance(code, str) and code.startswith(HUB_QR_PREFIX):
            if not self._needs_pin("join the venue hub", lambda: self.join_hub(code)):
                self.join_hub(code)
            return
        started = t0 if t0 is not None else time.perf_counter()
        self.scan_captured.emit()
        run_db(
            lambda: self._require_service().scan(code, method),
            lambda result: self._show_result(result, started, method),
            self._scan_failed,
        )

    def check_in_ticket(self, ticket_id: str) -> None:
        if not self.may_search():
            self._staff_only()
            return
        started = time.perf_counter()
        run_db(
            lambda: self._require_service().checkin_ticket(ticket_id, "manual"),
            lambda result: self._show_result(result, started, "manual"),
            self._scan_failed,
        )

    def _require_service(self) -> Any:
        """The CheckinService (DB worker only); a plain sentence if it could not be opened."""
        if self._service is None:
            raise RuntimeError(
                "The door's check-in data could not be opened; see the message above."
            )
        return self._service

    def _show_result(self, result: Any, started: float, method: str = "qr") -> None:
        self.last_result = result
        self.admit_held_button.setVisible(result.verdict == Verdict.OFFLINE_HOLD)
        self.history.append(result)
        self.panel.show_result(result)
        self.panel.repaint()  # on screen now, not at the next idle moment
        shown = time.perf_counter()
        self.timings.append((started, shown))
        self._log_scan(result, method, (shown - started) * 1000)
        if self.panel.blocked:
            self.check_storage()  # this one was stored: the disk may have been freed
        self.sounds.play(sound_for(result.verdict, result.notes))
        self.verdict_shown.emit(result)
        self.ctx.notify("checkins")

    def _log_scan(self, result: Any, method: str, ms: float) -> None:
        """One line per verdict: ids, gate and device only; never the guest's name, email or
        phone."""
        service = self._service
        log.info(
            "scan verdict=%s words=%r ticket=%s checkin=%s gate=%r device=%r "
            "direction=%s method=%s offline=%s ms=%.0f",
            getattr(result.verdict, "value", result.verdict),
            headline_for(result.verdict),  # the screen's, the sound's and the CLI's words
            result.ticket_id or "-",
            result.checkin_id or "-",
            getattr(service, "gate", None) or self.config.gate,
            self.config.device_name,
            getattr(service, "direction", "in"),
            method,
            "yes" if result.offline else "no",
            ms,
        )

    def _scan_failed(self, exc: BaseException) -> None:
        log.error("scan failed: %s", exc, exc_info=exc)
        self.sounds.play("refusal")
        self.panel.show_message(
            "NOT RECORDED",
            f"This scan could not be saved: {explain(exc)} Do not admit on this screen.",
            verdict="failure",
        )
        self.check_storage()

    def check_storage(self) -> None:
        """Can this replica store scans? If not, the panel stays red instead of "Ready"."""
        from app.store.db import storage_problem

        db = self.ctx.db
        run_db(lambda: storage_problem(db), self.panel.set_blocked, lambda _exc: None)

    # --- counters and last scans ----------------------------------------------------------
    def _load_codes(self) -> None:
        """The replica's legacy codes, for telling a slow scanner's code from a typed name."""
        from app.ui.door.wedge_filter import load_legacy_codes

        db = self.ctx.db

        def work() -> frozenset[str]:
            with db.session() as session:
                return load_legacy_codes(session)

        run_db(work, lambda codes: setattr(self.codes, "legacy", codes))

    def _data_changed(self, tables: set[str]) -> None:
        if "tickets" in tables:
            self._load_codes()
        if tables & {"checkins", "tickets", "ticket_types", "attendees"}:
            self._counter_timer.start()
        if tables & {"tickets", "attendees"}:
            self.search.refresh()
        if "staff" in tables:
            self._check_staff_still_allowed()

    def refresh_counts(self) -> None:
        if self._counters_due:
            return
        self._counters_due = True

        def work() -> tuple[Any, list[Any]]:
            return self._service.counters(), self._service.recent(RECENT_LIMIT)

        def done(loaded: tuple[Any, list[Any]]) -> None:
            self._counters_due = False
            self._show_counters(loaded[0])
            self._show_recent(loaded[1])

        def failed(exc: BaseException) -> None:
            self._counters_due = False
            self.counters.setText(f"Counters unavailable: {explain(exc)}")

        run_db(work, done, failed)

    def _show_counters(self, counters: Any) -> None:
        main, tiers = counters_text(counters)
        self.counters.setText(main)
        self.tiers.setText(tiers)

    def _show_recent(self, scans: list[Any]) -> None:
        selected = self._selected_scan()
        self.recent.clear()
        for scan in scans:
            item = QListWidgetItem(recent_text(scan, self.tz))
            item.setData(SCAN_ROLE, scan)
            item.setForeground(QColor(list_colour(scan.verdict)))
            self.recent.addItem(item)
            if selected is not None and scan.checkin_id == selected.checkin_id:
                self.recent.setCurrentItem(item)

    def _selected_scan(self) -> Any:
        item = self.recent.currentItem()
        return item.data(SCAN_ROLE) if item is not None else None

    # --- manual check-in ------------------------------------------------------------------
    def open_card(self, hit: Any) -> None:
        if not self.may_search():
            self._staff_only()
            return
        db = self.ctx.db

        def work() -> Any:
            with db.session() as session:
                return load_details(session, hit)

        run_db(
            work,
            self._show_card,
            lambda exc: self.search.status.setText(f"Cannot open this guest: {explain(exc)}"),
        )

    def _show_card(self, details: Any) -> None:
        self.card = AttendeeCard(details, "out" if self.direction.isChecked() else "in", self)
        self.card.check_in.connect(self.check_in_ticket)
        self.card.finished.connect(self._back_to_search)
        self.card.open()
        self.card.check_in_button.setFocus()

    def _back_to_search(self, _result: int = 0) -> None:
        """After a dialog: keys go to the door again (some window managers forget)."""
        self.window().activateWindow()
        self.search.box.setFocus()

    # --- joining the venue hub ------------------------------------------------------------
    def join_hub(self, payload: str) -> None:
        from app.ui.hub_join import JoinHubDialog

        self.join_dialog = JoinHubDialog(self.ctx, payload, self)
        self.join_dialog.joined.connect(
            lambda c: self.panel.show_message(
                "JOINED THE VENUE HUB",
                f"This door now shares check-ins with the other doors through the hub at "
                f"{c.addresses[0]}. Keep scanning.",
                verdict="exit_recorded",
            )
        )
        self.join_dialog.open()
        self.join_dialog.join()  # the QR says everything: join at once, the dialog shows how

    # --- a guest held with no connection (strict offline policy) ---------------------------
    def admit_held(self) -> None:
        """F6: the signed-in staff member admits the guest the door just held."""
        held = self.last_result
        if held is None or held.verdict != Verdict.OFFLINE_HOLD or not held.checkin_id:
            self.panel.show_message(
                "NOTHING HELD",
                "F6 admits a guest this door held because it has no connection (strict mode). "
                "Scan the guest first.",
            )
            return
        service = self._service
        if service is None or not service.staff_id:
            self.panel.show_message(
                "STAFF SIGN-IN NEEDED",
                "Only a signed-in staff member can admit a held guest: press F9, scan your "
                "badge and enter your PIN, then press F6.",
                verdict="offline_hold",
            )
            return
        started = time.perf_counter()
        run_db(
            lambda: service.admit_on_hold(held.checkin_id),
            lambda result: self._show_result(result, started, "override"),
            lambda exc: self.panel.show_message("COULD NOT ADMIT", explain(exc)),
        )

    # --- undo -----------------------------------------------------------------------------
    def undo_target(self) -> tuple[str, str] | None:
        """(checkin_id, who) of the selected scan, else of the last verdict, if it admitted."""
        scan = self._selected_scan()
        if scan is not None and scan.ok and not scan.annulled:
            return scan.checkin_id, scan.attendee_name or f"ticket #{scan.ticket_number}"
        last = self.last_result
        if last is not None and last.ok and last.checkin_id:
            return last.checkin_id, last.attendee_name or f"ticket #{last.ticket_number}"
        return None

    def undo_admission(self) -> None:
        if self._needs_pin("undo an admission", self._undo_now):
            return
        self._undo_now()

    def _undo_now(self) -> None:
        target = self.undo_target()
        if target is None:
            self.panel.show_message(
                "NOTHING TO UNDO", "Select an admitted scan in the list (or scan one) first."
            )
            return
        self.annul_dialog = AnnulDialog(target[0], target[1], self)
        self.annul_dialog.confirmed.connect(self._annul)
        self.annul_dialog.finished.connect(self._back_to_search)
        self.annul_dialog.open()

    def _annul(self, checkin_id: str, reason: str) -> None:
        def done(_none: None) -> None:
            self.panel.show_message(
                "ADMISSION UNDONE", f"Reason: {reason}", verdict="exit_recorded"
            )
            self.ctx.notify("checkins")

        run_db(
            lambda: self._service.annul(checkin_id, reason),
            done,
            lambda exc: self.panel.show_message("COULD NOT UNDO", explain(exc)),
        )

    # --- gate, direction, search ----------------------------------------------------------
    def focus_search(self) -> None:
        self.search.box.setFocus()
        self.search.box.selectAll()

    def toggle_direction(self) -> None:
        self.direction.toggle()

    def _direction_toggled(self, out: bool) -> None:
        self.direction.setText("Scanning OUT (F3)" if out else "Scanning IN (F3)")
        self.direction.setProperty("out", out)
        self.direction.style().unpolish(self.direction)
        self.direction.style().polish(self.direction)
        value = "out" if out else "in"
        run_db(lambda: setattr(self._service, "direction", value) if self._service else None)

    def edit_gate(self) -> None:
        """F4: the list of the event's gates (arrows, Enter); the staff PIN first in a kiosk."""
        if self._needs_pin("change the gate", self._open_gate_once):
            return
        self.gate.open_list()

    def _open_gate_once(self) -> None:
        """The gate list, once, after the PIN: the kiosk (and the picker) stay locked."""
        locked = self.gate.isReadOnly()
        self.gate.setReadOnly(False)
        try:
            self.gate.open_list()
        finally:
            self.gate.setReadOnly(locked)

    def _gate_chosen(self, name: str) -> None:
        log.info("state gate %r", name)
        self.config.gate = name
        ctx = self.ctx

        def work() -> None:
            from app.store.gates import remember_gate

            if self._service is not None:
                self._service.gate = name
            with ctx.db.session() as session:
                remember_gate(session, ctx.event_id, name)

        run_db(work)
        self.search.box.setFocus()  # back to scanning

    def _event_picked(self, event_id: str) -> None:
        self.event_header.keep_current()  # until the window has reopened on the new one
        if self._needs_pin("change the event", lambda: self.event_chosen.emit(event_id)):
            return
        self.event_chosen.emit(event_id)

    def clear(self) -> None:
        """Esc: back to "Ready", search emptied, focus to search."""
        self.panel.clear()
        self.search.clear()
        self.search.box.setFocus()

    # --- kiosk ----------------------------------------------------------------------------
    def enter_kiosk_mode(self, window: QWidget) -> None:
        """Fullscreen, frameless, closing refused; the kiosk PIN or an organizer's badge
        unlocks (called by main.py). Search and manual check-in wait for a staff sign-in."""
        from app.ui.kiosk_lock import KioskAuthority, KioskLock
        from app.ui.staff_sign_in import IdleWatch

        authority = KioskAuthority(self.ctx.db, self.ctx.event_id, self.config.kiosk_pin)
        self.kiosk = KioskLock(window, authority)
        self.kiosk.locked_changed.connect(self._kiosk_changed)
        self.kiosk.state_known.connect(self._kiosk_state)
        self.kiosk.on_dialog = self._quiet_wedge
        if self.idle is None:
            self.idle = IdleWatch(self.config.idle_lock_seconds, self)
            self.idle.idle.connect(self._idle)
        self.kiosk.lock()
        self.idle.start()

    def _kiosk_state(self, state: Any) -> None:
        self.has_staff = state.has_staff

    def _kiosk_changed(self, locked: bool) -> None:
        log.info("state kiosk %s", "locked" if locked else "unlocked")
        self.staff_button.setText("Staff…" if locked else "Kiosk mode")
        self.gate.setReadOnly(locked)
        if locked:
            self.sign_out()  # whoever was at the desk signs in again
        self.sign_in_button.setVisible(locked and not self.config.self_service)
        self.apply_access()
        self.kiosk_changed.emit(locked)

    def may_search(self) -> bool:
        """Search and manual check-in: always on an unlocked screen; in a locked kiosk only
        with a staff member signed in, and never on a self-service kiosk."""
        if self.kiosk is None or not self.kiosk.locked:
            return True
        return self.staff_on_duty and not self.config.self_service

    def apply_access(self) -> None:
        """Show, hide or switch off the search panel for the kiosk's state."""
        locked = self.kiosk is not None and self.kiosk.locked
        hidden = locked and bool(self.config.self_service)
        self.search.setVisible(not hidden)
        self.search.set_allowed(self.may_search(), "Staff sign-in needed to search guests (F9)")
        if hidden:  # the door itself keeps the keyboard (shortcuts, the USB scanner)
            self.setFocusProxy(None)
            self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            self.setFocus()
        else:
            self.setFocusProxy(self.search.box)
        if not self.may_search():
            for dialog in (self.card,):
                if dialog is not None and dialog.isVisible():
                    dialog.reject()
        self.event_header.show_staff(self._staff_words())

    def _staff_words(self) -> str:
        if not self.staff_on_duty:
            return ""
        if self.staff is None:
            return "Staff: kiosk PIN"
        return f"Staff: {self.staff.name} ({self.staff.role})"

    def _staff_only(self) -> None:
        words = (
            "This is a self-service kiosk: guests scan their ticket."
            if self.config.self_service
            else "A staff member signs in first (F9): badge, then PIN."
        )
        self.panel.show_message("STAFF ONLY", words)

    def sign_in_or_out(self) -> None:
        """F9 / the sign-in button: a staff member signs in at a locked kiosk, or out."""
        if self.kiosk is None or not self.kiosk.locked or self.config.self_service:
            return
        if self.staff_on_duty:
            self.sign_out()
            return
        from app.ui.staff_sign_in import StaffSignInDialog

        self.sign_in_dialog = StaffSignInDialog(self.kiosk.authority, self.has_staff, self)
        self.sign_in_dialog.authorized.connect(self._signed_in)
        self._quiet_wedge(self.sign_in_dialog)
        self.sign_in_dialog.finished.connect(self._sign_in_closed)
        self.sign_in_dialog.open()

    def _quiet_wedge(self, dialog: QWidget) -> None:
        """While a PIN or badge dialog is open, a scanner's burst is typed into it: the
        door's ticket scanner listens again once it closes."""
        was = self.wedge.enabled
        self.wedge.enabled = False
        dialog.finished.connect(lambda _result: setattr(self.wedge, "enabled", was))

    def _sign_in_closed(self, _result: int) -> None:
        if self.kiosk is not None:
            self.kiosk.give_keys_back()
        self._back_to_search()

    def _signed_in(self, staff: Any) -> None:
        self.staff = staff
        self.staff_on_duty = True
        self.sign_in_button.setText("Sign out (F9)")
        log.info("state staff signed in %s", staff.staff_id if staff is not None else "kiosk PIN")
        self._set_service_staff(staff.staff_id if staff is not None else None)
        self.apply_access()

    def sign_out(self) -> None:
        """Nobody at the desk: search off again, scans no longer carry the member's id."""
        was = self.staff_on_duty
        self.staff = None
        self.staff_on_duty = False
        self.sign_in_button.setText("Staff sign-in (F9)")
        if was:
            log.info("state staff signed out")
            self._set_service_staff(None)
        self.apply_access()

    def _set_service_staff(self, staff_id: str | None) -> None:
        def work() -> None:
            if self._service is not None:
                self._service.staff_id = staff_id

        run_db(work)

    def _idle(self) -> None:
        """Nobody touched the kiosk for ``idle_lock_seconds``: the staff member is signed out;
        an unlocked kiosk locks again."""
        if self.kiosk is not None:
            if self.kiosk.locked and self.staff_on_duty:
                log.info("state idle: staff signed out")
                self.sign_out()
            elif not self.kiosk.locked:
                log.info("state idle: kiosk locked again")
                self.kiosk.lock()
        if self.idle is not None:
            self.idle.start()

    def _check_staff_still_allowed(self) -> None:
        """After a pull that touched staff: a member disabled meanwhile is signed out."""
        signed = self.staff
        if signed is None:
            return
        db = self.ctx.db

        def work() -> bool:
            from app.store.staff import still_allowed

            with db.session() as session:
                return still_allowed(session, signed)

        def done(allowed: bool) -> None:
            if not allowed and self.staff is signed:
                self.sign_out()
                self.panel.show_message("SIGNED OUT", "This badge was disabled.")

        run_db(work, done, lambda _exc: None)

    def _needs_pin(self, purpose: str, then: Callable[[], None]) -> bool:
        """In a locked kiosk, ask for the PIN first and run ``then`` once it is given; the
        kiosk stays locked."""
        if self.kiosk is None or not self.kiosk.locked:
            return False
        self.kiosk.authorize(purpose, then)
        return True

    def staff_unlock(self) -> None:
        """Ctrl+Shift+K / the staff button: PIN to unlock a kiosk, or lock the screen as one."""
        if self.kiosk is None:
            self.enter_kiosk_mode(self.window())
        elif self.kiosk.locked:
            self.kiosk.ask_pin()
        else:
            self.kiosk.lock()

    # --- shutdown -------------------------------------------------------------------------
    def stop(self) -> None:
        """Stop the camera, the scanner filter and the counters' refresh (at exit, or when the
        window reopens on another event)."""
        self.feed.stop()
        self.wedge.uninstall()
        self._counter_timer.stop()
        if self.idle is not None:
            self.idle.stop()
