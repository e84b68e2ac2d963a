"""Enrolling a kiosk on screen (app/sync/enrolment.py has the rules of the code).

- :class:`EnrolmentScreen`: what a new kiosk (``--kiosk``, no sync set up) shows first, and
  what "Enrol this device…" on the Sync tab opens. It reads the organizer's QR with the camera
  (the door's camera feed and decoders) or a USB scanner (which types into the focused field
  and presses Enter), or takes the typed code; the exchange runs on a background task.
- :class:`EnrolKioskDialog`: the organizer's side, on the Sync tab: creates the enrolment and
  shows its QR, its typed code and a countdown to its expiry, with "Withdraw".
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from app.config import Config
from app.ui.qt import (
    QComboBox,
    QDialog,
    QFormLayout,
    QGuiApplication,
    QHBoxLayout,
    QKeySequence,
    QLabel,
    QLineEdit,
    QPixmap,
    QPushButton,
    QShortcut,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from app.ui.tasks import run_db, run_task

log = logging.getLogger(__name__)

RED = "#b00020"  # 7.6:1 on white
GREEN = "#0b6b2b"
INSTRUCTIONS = (
    "On the organizer's Showdesk, open Sync › Enrol a kiosk. Hold its QR code up to the "
    "camera, scan it with the USB scanner, or type the code below."
)
DEMO_KEY = "F2"


def problem_sentence(exc: BaseException) -> str:
    """The sentence for a failed exchange: the enrolment's own, else a plain one."""
    from app.secrets import SecretsUnavailable
    from app.sync.enrolment import EnrolmentProblem

    if isinstance(exc, EnrolmentProblem):
        return str(exc)
    if isinstance(exc, SecretsUnavailable):
        return f"{exc} This kiosk was not enrolled; the code was not used."
    from app.errors import explain

    return f"The enrolment did not go through: {explain(exc)}"


class EnrolmentScreen(QWidget):
    """The whole window of a kiosk that has no server yet: enrol it, or open the demo.

    ``source_factory`` gives the camera's frame source (default: the configured camera; None
    to run without one, as the desktop dialog does when the camera is off in the settings).
    """

    enrolled = Signal(object)  # Enrolled, once kept; the app continues on its event
    demo_requested = Signal()

    def __init__(
        self,
        config: Config,
        *,
        source_factory: Callable[[], Any] | None | bool = True,
        offer_demo: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.config = config
        self.busy = False
        self.result: Any = None
        self.last_problem: Any = None
        self.setObjectName("enrolmentScreen")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)  # white inside a dialog
        self.setStyleSheet(
            "#enrolmentScreen { background: #ffffff; }"
            " QLabel { color: #111111; background: transparent; }"
            " QLineEdit { font-size: 26px; padding: 8px; color: #111111; background: #ffffff;"
            " border: 2px solid #444444; border-radius: 6px; }"
            " QLineEdit:focus { border: 3px solid #0b57d0; }"
            " QPushButton { font-size: 24px; padding: 12px 22px; color: #ffffff;"
            " background: #1d4ed8; border-radius: 8px; }"
            " QPushButton:disabled { background: #5b6470; color: #ffffff; }"
            " QPushButton#demoButton { background: #111111; font-size: 28px; font-weight: bold; }"
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(48, 32, 48, 32)
        layout.setSpacing(16)
        title = QLabel("Enrol this kiosk")
        title.setObjectName("enrolTitle")
        title.setStyleSheet("font-size: 44px; font-weight: bold;")
        layout.addWidget(title)
        self.instructions = QLabel(INSTRUCTIONS)
        self.instructions.setWordWrap(True)
        self.instructions.setStyleSheet("font-size: 28px;")
        layout.addWidget(self.instructions)

        row = QHBoxLayout()
        row.setSpacing(32)
        self.preview: Any = None
        self.feed: Any = None
        if source_factory is not None and source_factory is not False:
            from app.ui.door.camera import CameraPreview

            self.preview = CameraPreview()
            self.preview.setMinimumSize(420, 300)
            row.addWidget(self.preview, 3)
        fields = QVBoxLayout()
        fields.setSpacing(10)
        scan_label = QLabel("Scanned QR code (USB scanner, or paste):")
        scan_label.setStyleSheet("font-size: 22px;")
        self.scan_field = QLineEdit()
        self.scan_field.setObjectName("enrolScanField")
        self.scan_field.setPlaceholderText("SDE1:…")
        self.scan_field.setAccessibleName("scanned enrolment QR code")
        self.scan_field.returnPressed.connect(lambda: self.submit(self.scan_field.text()))
        code_label = QLabel("Or type the code (7 groups of 4):")
        code_label.setStyleSheet("font-size: 22px;")
        self.code_field = QLineEdit()
        self.code_field.setObjectName("enrolCodeField")
        self.code_field.setPlaceholderText("XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX")
        self.code_field.setAccessibleName("typed enrolment code")
        self.code_field.setStyleSheet("font-family: monospace; font-size: 28px;")
        self.code_field.setMaxLength(64)
        self.code_field.textEdited.connect(self._group_code)
        self.code_field.returnPressed.connect(lambda: self.submit(self.code_field.text()))
        self.enrol_button = QPushButton("Enrol")
        self.enrol_button.clicked.connect(self._enrol_clicked)
        for widget in (scan_label, self.scan_field, code_label, self.code_field):
            fields.addWidget(widget)
        fields.addWidget(self.enrol_button, 0, Qt.AlignmentFlag.AlignLeft)
        fields.addStretch(1)
        row.addLayout(fields, 4)
        layout.addLayout(row, 1)

        self.message = QLabel("")
        self.message.setObjectName("enrolMessage")
        self.message.setWordWrap(True)
        self.message.setMinimumHeight(90)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.message)

        self.demo_button = QPushButton(f"Open the demo event instead  ({DEMO_KEY})")
        self.demo_button.setObjectName("demoButton")
        self.demo_button.setVisible(offer_demo)
        self.demo_button.clicked.connect(self.demo_requested.emit)
        if offer_demo:
            shortcut = QShortcut(QKeySequence(DEMO_KEY), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(self.demo_requested.emit)
        layout.addWidget(self.demo_button, 0, Qt.AlignmentFlag.AlignHCenter)
        self.setAccessibleName("Enrol this kiosk")
        self.setAccessibleDescription(INSTRUCTIONS)

        if self.preview is not None:
            self._start_camera(source_factory)
        self.scan_field.setFocus()

    # --- camera ---------------------------------------------------------------------------

    def _start_camera(self, source_factory: Any) -> None:
        from app.ui.door.camera import CameraFeed

        config = self.config
        if source_factory is True:
            if not config.camera_enabled:
                self.preview.set_banner("The camera is off in the settings: use the fields.")
                return

            def source_factory() -> Any:
                from app.scan.sources import CameraSource

                return CameraSource(config.camera)

        def decoder_factory() -> Any:
            from app.scan.decoders import build_chain

            return build_chain(config.decoders)

        self.feed = CameraFeed(source_factory, decoder_factory, config.debounce_seconds)
        self.feed.frame_ready.connect(self.preview.set_image)
        self.feed.problem.connect(self.preview.set_banner)
        self.feed.code_read.connect(lambda text, _t: self._camera_read(text))
        self.feed.start()

    def _camera_read(self, text: str) -> None:
        if not self.busy and self.result is None:
            self.submit(text)

    def stop(self) -> None:
        if self.feed is not None:
            self.feed.stop()
            self.feed = None

    # --- the exchange ---------------------------------------------------------------------

    def _group_code(self, text: str) -> None:
        """Typed text in upper-case groups of 4, as on the organizer's screen."""
        symbols = "".join(ch for ch in text.upper() if ch.isalnum())
        if len(symbols) > 28 or ":" in text:
            return  # a pasted QR text: left alone
        grouped = "-".join(symbols[i : i + 4] for i in range(0, len(symbols), 4))
        if grouped != text:
            self.code_field.setText(grouped)

    def _enrol_clicked(self) -> None:
        text = self.code_field.text().strip() or self.scan_field.text().strip()
        self.submit(text)

    def submit(self, text: str) -> None:
        """Exchange ``text`` on a background task; the answer comes back to the screen."""
        if self.busy or self.result is not None:
            return
        self.busy = True
        self._set_enabled(False)
        self._say("Enrolling this kiosk…", "#111111")
        config = self.config
        from app.sync.enrolment import join

        run_task(lambda: join(text, config), self._done, self._failed)

    def _done(self, enrolled: Any) -> None:
        from app.sync.enrolment import enrolled_sentence

        self.busy = False
        self.result = enrolled
        self.stop()
        self._say(enrolled_sentence(enrolled), GREEN)
        log.info("state enrolled as %s (%s)", enrolled.device_id, enrolled.role)
        # a moment to read the sentence; a timer of the screen's own, gone with it
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.timeout.connect(lambda: self.enrolled.emit(enrolled))
        timer.start(1500)

    def _failed(self, exc: BaseException) -> None:
        self.busy = False
        self.last_problem = exc
        log.info("enrolment refused: %s", getattr(exc, "kind", type(exc).__name__))
        self._set_enabled(True)
        self.scan_field.clear()
        self._say(problem_sentence(exc), RED)
        self.scan_field.setFocus()

    def _set_enabled(self, enabled: bool) -> None:
        for widget in (self.scan_field, self.code_field, self.enrol_button):
            widget.setEnabled(enabled)

    def _say(self, text: str, colour: str) -> None:
        self.message.setStyleSheet(f"font-size: 32px; font-weight: bold; color: {colour};")
        self.message.setText(text)
        self.message.setAccessibleDescription(text)


class _FirstStart(QDialog):
    """The new kiosk's whole screen, with a local event loop of its own (``exec``), so
    run_app goes on once a choice is made; Escape does not close it."""

    def __init__(self, view: EnrolmentScreen) -> None:
        super().__init__()
        self.setObjectName("firstStart")
        self.setWindowTitle("Showdesk — enrol this kiosk")
        self.setWindowFlag(Qt.WindowType.FramelessWindowHint)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(view)
        self.view = view
        self.choice: list[Any] = []
        view.enrolled.connect(self._chose)
        view.demo_requested.connect(lambda: self._chose(None))

    def _chose(self, value: Any) -> None:
        if not self.choice:
            self.choice.append(value)
            self.accept()

    def reject(self) -> None:  # Escape: a kiosk's screen stays
        if self.choice:
            super().reject()


def enrol_first(config: Config, **screen: Any) -> Config | None:
    """A new kiosk's start (run_app): the enrolment screen, fullscreen, until the kiosk is
    enrolled (the settings it now has), the demo is chosen (``config`` as it was: the demo
    event is seeded) or the screen is closed (None: quit)."""
    from app.config import load_config

    holder = _FirstStart(EnrolmentScreen(config, **screen))
    # "fullscreen" is only a request to the window manager; a kiosk may have none
    where = QGuiApplication.primaryScreen()
    if where is not None:
        holder.setGeometry(where.geometry())
    holder.setWindowState(Qt.WindowState.WindowFullScreen)
    # with no window manager nothing activates it, and the keys (F2, a USB scanner) would
    # go nowhere: the kiosk lock does the same (app/ui/kiosk_lock.py)
    QTimer.singleShot(0, lambda: (holder.raise_(), holder.activateWindow()))
    holder.exec()
    holder.view.stop()
    choice = holder.choice
    holder.deleteLater()
    if not choice:
        return None
    if choice[0] is None:
        log.info("state enrolment screen -> demo")
        return config
    enrolled = load_config()
    enrolled.db, enrolled.kiosk = config.db, True
    return enrolled


class EnrolDeviceDialog(QDialog):
    """The desktop's "Enrol this device…": the enrolment screen in a dialog, no demo."""

    def __init__(self, config: Config, parent: QWidget | None = None, **screen: Any) -> None:
        super().__init__(parent)
        self.setWindowTitle("Enrol this device")
        self.screen = EnrolmentScreen(config, offer_demo=False, **screen)
        QVBoxLayout(self).addWidget(self.screen)
        self.screen.enrolled.connect(self._enrolled)
        self.resize(1100, 700)

    def _enrolled(self, enrolled: Any) -> None:
        from app.sync.enrolment import enrolled_sentence

        self.screen._say(
            f"{enrolled_sentence(enrolled)} Restart Showdesk to sync as this device.", GREEN
        )

    def done(self, result: int) -> None:  # noqa: D401 - Qt's name
        self.screen.stop()
        super().done(result)


# --- the organizer's side -------------------------------------------------------------------


def qr_pixmap(text: str, box_size: int = 6) -> QPixmap:
    """The QR code of ``text`` as a pixmap (drawn with ``qrcode``, on white)."""
    from app.store.ticket_qr import render_qr_png

    pixmap = QPixmap()
    pixmap.loadFromData(render_qr_png(text, box_size=box_size), "PNG")
    return pixmap


def _load_events(ctx: Any) -> list[tuple[str, str, list[str]]]:
    """DB worker: (id, name, gates) of the replica's events, the current one first."""
    from sqlalchemy import select

    from app.store.gates import event_gates
    from app.store.models import Event

    with ctx.db.session() as session:
        rows = session.execute(select(Event.id, Event.name).order_by(Event.starts_at)).all()
        events = [(str(i), str(n), event_gates(session, str(i))) for i, n in rows]
    events.sort(key=lambda e: e[0] != ctx.event_id)
    return events


def create_invitation(config: Config, device_id: str | None, **what: Any) -> Any:
    """Off the UI thread: create an enrolment with this device's signed-in backend."""
    from app.sync.enrolment import EnrolmentProblem, EnrolmentServer, server_of_dsn
    from app.sync.runner import build_backend

    backend = build_backend(config, device_id)
    if backend is None:
        raise EnrolmentProblem(
            "This device has no sync server set up, so it cannot create enrolment codes.",
            "refused",
        )
    if config.backend == "postgres":
        server = server_of_dsn(config.postgres_dsn or "")
    else:
        server = EnrolmentServer(
            "supabase", (config.supabase_url or "").rstrip("/"), config.supabase_key
        )
    from app.sync.enrolment import create_enrolment

    try:
        return create_enrolment(backend, server, **what)
    finally:
        backend.close()


def withdraw_invitation(config: Config, device_id: str | None, enrolment_id: str) -> str:
    from app.sync.enrolment import revoke_enrolment
    from app.sync.runner import build_backend

    backend = build_backend(config, device_id)
    try:
        return revoke_enrolment(backend, enrolment_id)
    finally:
        backend.close()


class EnrolKioskDialog(QDialog):
    """Sync tab › "Enrol a kiosk…": event, role, gate, name → the QR, the code, a countdown."""

    created = Signal(object)  # Invitation
    withdrawn = Signal(str)

    def __init__(self, ctx: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.invitation: Any = None
        self.expires: datetime | None = None
        self.events: list[tuple[str, str, list[str]]] = []
        self.setWindowTitle("Enrol a kiosk")
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.event_box = QComboBox()
        self.role_box = QComboBox()
        self.role_box.addItems(["door", "producer", "organizer", "admin"])
        self.gate_box = QComboBox()
        self.gate_box.setEditable(True)
        self.name_field = QLineEdit()
        self.name_field.setPlaceholderText("Kiosk 3")
        form.addRow("Event:", self.event_box)
        form.addRow("Role:", self.role_box)
        form.addRow("Gate:", self.gate_box)
        form.addRow("Device name:", self.name_field)
        layout.addLayout(form)
        buttons = QHBoxLayout()
        self.create_button = QPushButton("Create code")
        self.create_button.clicked.connect(self.create)
        self.withdraw_button = QPushButton("Withdraw")
        self.withdraw_button.setEnabled(False)
        self.withdraw_button.clicked.connect(self.withdraw)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons.addWidget(self.create_button)
        buttons.addWidget(self.withdraw_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout.addLayout(buttons)
        self.qr = QLabel("")
        self.qr.setObjectName("enrolQr")
        self.qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.qr.setStyleSheet("background: #ffffff;")
        self.qr.setMinimumSize(320, 320)
        layout.addWidget(self.qr, 1)
        self.code = QLabel("")
        self.code.setObjectName("enrolCode")
        self.code.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.code.setStyleSheet("font-family: monospace; font-size: 28px; font-weight: bold;")
        self.code.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.code)
        self.countdown = QLabel("")
        self.countdown.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.countdown.setStyleSheet("font-size: 18px;")
        layout.addWidget(self.countdown)
        self.message = QLabel("Pick the event, role, gate and a name, then Create code.")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        self.timer = QTimer(self)
        self.timer.setInterval(1000)
        self.timer.timeout.connect(self._tick)
        self.event_box.currentIndexChanged.connect(self._event_changed)
        run_db(lambda: _load_events(ctx), self._show_events, self._failed)
        self.resize(560, 720)

    def _show_events(self, events: list[tuple[str, str, list[str]]]) -> None:
        self.events = events
        self.event_box.blockSignals(True)
        for event_id, name, _gates in events:
            self.event_box.addItem(name, event_id)
        self.event_box.blockSignals(False)
        self._event_changed(0)

    def _event_changed(self, index: int) -> None:
        self.gate_box.clear()
        if 0 <= index < len(self.events):
            self.gate_box.addItems(self.events[index][2])

    def create(self) -> None:
        name = self.name_field.text().strip()
        event_id = self.event_box.currentData()
        if not name or not event_id:
            self._say("Give the kiosk a name (and pick an event) first.", RED)
            return
        what = {
            "event_id": str(event_id),
            "role": self.role_box.currentText(),
            "gate": self.gate_box.currentText().strip() or None,
            "device_name": name,
        }
        self.create_button.setEnabled(False)
        self._say("Creating the code…", "#111111")
        config, device = self.ctx.config, self.ctx.device_id
        run_task(lambda: create_invitation(config, device, **what), self._created, self._failed)

    def _created(self, invitation: Any) -> None:
        self.invitation = invitation
        self.expires = datetime.fromisoformat(invitation.expires_at.replace("Z", "+00:00"))
        if self.expires.tzinfo is None:
            self.expires = self.expires.replace(tzinfo=UTC)
        self.qr.setPixmap(qr_pixmap(invitation.qr))
        self.code.setText(invitation.code)
        self.withdraw_button.setEnabled(True)
        self.create_button.setEnabled(True)
        where = f" at {invitation.gate}" if invitation.gate else ""
        self._say(
            f"Show this to the new kiosk ({invitation.device_name}, {invitation.role}{where}): "
            "scan the QR, or type the code. It works once.",
            "#111111",
        )
        self.timer.start()
        self._tick()
        self.created.emit(invitation)

    def _tick(self) -> None:
        if self.expires is None:
            return
        left = int((self.expires - datetime.now(UTC)).total_seconds())
        if left <= 0:
            self.timer.stop()
            self.countdown.setText("Expired: create a new code.")
            self.qr.clear()
            self.withdraw_button.setEnabled(False)
            return
        self.countdown.setText(f"Expires in {left // 60}:{left % 60:02d}")

    def withdraw(self) -> None:
        if self.invitation is None:
            return
        enrolment_id = self.invitation.enrolment_id
        self.withdraw_button.setEnabled(False)
        config, device = self.ctx.config, self.ctx.device_id
        run_task(
            lambda: withdraw_invitation(config, device, enrolment_id),
            lambda _when: self._withdrawn(enrolment_id),
            self._failed,
        )

    def _withdrawn(self, enrolment_id: str) -> None:
        self.timer.stop()
        self.expires = None
        self.qr.clear()
        self.code.setText("")
        self.countdown.setText("Withdrawn: this code no longer works.")
        self.invitation = None
        self.withdrawn.emit(enrolment_id)

    def _failed(self, exc: BaseException) -> None:
        self.create_button.setEnabled(True)
        self.withdraw_button.setEnabled(self.invitation is not None)
        self._say(problem_sentence(exc), RED)

    def _say(self, text: str, colour: str) -> None:
        self.message.setStyleSheet(f"font-size: 16px; color: {colour};")
        self.message.setText(text)

    def done(self, result: int) -> None:  # noqa: D401 - Qt's name
        self.timer.stop()
        super().done(result)
