"""Kiosk mode: fullscreen, no frame, closing refused; leaving needs the kiosk PIN or a staff
badge + PIN of an organizer or admin.

Who may say yes at a kiosk (``KioskAuthority``, every check on the DB worker):

- the kiosk PIN: ``kiosk_pin`` from the settings, else the one a person chose at the first
  lock, kept as an Argon2id hash in ``local_meta`` (``KIOSK_PIN_META``), never in the file;
- a staff member's badge + PIN from the replica (``app.store.staff.sign_in``, with its
  lockout in ``local_meta``).

A kiosk with neither asks a person to choose a PIN at its first lock (``ChoosePinDialog``).
A PIN asked for one action (``KioskLock.authorize``: the gate, undo, the event) runs that
action only; the kiosk stays locked. Only ``KioskLock.ask_pin`` (leave kiosk mode) unlocks.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.ui.qt import (
    QDialog,
    QDialogButtonBox,
    QEvent,
    QGuiApplication,
    QLabel,
    QLineEdit,
    QObject,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from app.ui.styles import dialog_sheet
from app.ui.tasks import run_db

log = logging.getLogger(__name__)

KIOSK_PIN_META = "kiosk.pin_hash"
# Leaving kiosk mode with a badge: these roles only (a door volunteer changes the gate or
# undoes an admission, but does not take the kiosk out of kiosk mode).
LEAVE_ROLES = frozenset({"organizer", "admin"})


@dataclass(frozen=True)
class Answer:
    """What the DB worker said about one entry: ``ok``; ``staff`` (``SignedIn``) when a badge
    was used, None for the kiosk PIN; ``message`` the sentence to show."""

    ok: bool
    message: str
    staff: Any = None


@dataclass(frozen=True)
class KioskState:
    has_kiosk_pin: bool
    has_staff: bool  # staff with a PIN in the replica, not disabled

    @property
    def anyone(self) -> bool:
        return self.has_kiosk_pin or self.has_staff


class KioskAuthority:
    """The kiosk PIN and the replica's staff. Every method runs on the DB worker."""

    def __init__(
        self,
        db: Any,
        event_id: str | None,
        settings_pin: str | None,
        secrets: Callable[[], Any] | None = None,
    ) -> None:
        self.db = db
        self.event_id = event_id
        self.settings_pin = settings_pin or None
        self._secrets = secrets  # the secret store, made on first use (default: the user's)

    def configured_pin(self) -> str | None:
        """The kiosk PIN an admin set: ``SHOWDESK_KIOSK_PIN`` for this process, else the one
        moved from the settings file into the secret store (app.config, SECRET_SETTINGS)."""
        if self.settings_pin:
            return self.settings_pin
        from app.secrets import KIOSK_PIN, SecretStore, SecretsUnavailable

        try:
            store = self._secrets() if self._secrets is not None else SecretStore.default()
            return store.get(KIOSK_PIN) or None
        except SecretsUnavailable as exc:
            log.warning("kiosk PIN: the secret store is not readable (%s)", exc)
            return None

    def state(self) -> KioskState:
        from sqlalchemy import select

        from app.store.db import get_meta
        from app.store.models import Staff
        from app.store.types import utcnow

        now = utcnow()
        with self.db.session() as session:
            stored = get_meta(session, KIOSK_PIN_META)
            staff = session.scalars(
                select(Staff.disabled_at).where(Staff.pin_hash.is_not(None))
            ).all()
        usable = any(at is None or at > now for at in staff)
        return KioskState(bool(stored or self.configured_pin()), usable)

    def choose_pin(self, pin: str) -> None:
        """Keep ``pin`` as this kiosk's PIN (hashed); raises ``PinProblem`` (a sentence)."""
        from app.store.db import set_meta
        from app.store.staff import hash_pin

        hashed = hash_pin(pin)
        with self.db.session() as session:
            set_meta(session, KIOSK_PIN_META, hashed)

    def check(
        self, badge: str, pin: str, *, roles: frozenset[str] | None, kiosk_pin: bool
    ) -> Answer:
        """A badge + PIN (a staff member of ``roles``, any role when None), or with no badge
        the kiosk PIN when ``kiosk_pin`` allows it."""
        from app.store.db import get_meta
        from app.store.staff import check_kiosk_pin, sign_in, verify_pin

        configured = self.configured_pin() if not badge.strip() and kiosk_pin else None
        with self.db.session() as session:
            if badge.strip():
                result = sign_in(session, badge, pin, event_id=self.event_id)
                if not result.ok:
                    return Answer(False, result.message)
                if roles is not None and result.staff.role not in roles:
                    return Answer(
                        False, f"{result.staff.name} ({result.staff.role}) cannot do this here"
                    )
                return Answer(True, result.message, result.staff)
            if not kiosk_pin:
                return Answer(False, "Scan or type your staff badge, then your PIN")
            if configured:

                def right(entered: str) -> bool:
                    return hmac.compare_digest(entered.encode(), configured.encode())
            else:
                stored = get_meta(session, KIOSK_PIN_META)

                def right(entered: str) -> bool:
                    return verify_pin(stored, entered)

            refused = check_kiosk_pin(session, right, pin)
        if refused is not None:
            return Answer(False, refused.message)
        return Answer(True, "Kiosk PIN accepted")


class PinDialog(QDialog):
    """Asks for a staff badge (when the replica has staff) and a PIN; the check runs on the DB
    worker. Wrong entries say so; five wrong PINs in a row (badge or kiosk PIN) pause every PIN
    on this kiosk for 60 s, across restarts (``app.store.staff``).

    ``authorized`` carries the ``SignedIn`` of a badge, or None for the kiosk PIN."""

    authorized = Signal(object)

    def __init__(
        self,
        authority: KioskAuthority,
        purpose: str = "leave kiosk mode",
        parent: QWidget | None = None,
        *,
        ask_badge: bool = False,
        roles: frozenset[str] | None = None,
        kiosk_pin: bool = True,
    ) -> None:
        super().__init__(parent)
        self.authority = authority
        self.roles = roles
        self.kiosk_pin = kiosk_pin
        self.purpose = purpose
        self._busy = False
        self.setObjectName("pinDialog")
        self.setStyleSheet(dialog_sheet())
        self.setWindowTitle("Staff PIN")
        if ask_badge and kiosk_pin:
            words = f"Scan your staff badge and enter your PIN (or the kiosk PIN) to {purpose}."
        elif ask_badge:
            words = f"Scan your staff badge and enter your PIN to {purpose}."
        else:
            words = f"Enter the staff PIN to {purpose}."
        self.prompt = QLabel(words)
        self.prompt.setWordWrap(True)
        self.badge_field = QLineEdit()
        self.badge_field.setObjectName("badgeField")
        self.badge_field.setPlaceholderText("Staff badge (scan it, or type its code)")
        self.badge_field.setAccessibleName("staff badge")
        # Half of a staff member's credential: not shown on a screen the queue can read.
        self.badge_field.setEchoMode(QLineEdit.EchoMode.Password)
        self.badge_field.setVisible(ask_badge)
        self.field = QLineEdit()
        self.field.setObjectName("pinField")
        self.field.setEchoMode(QLineEdit.EchoMode.Password)
        self.field.setAccessibleName("staff PIN")
        self.field.setMaxLength(6)
        self.message = QLabel("")
        self.message.setObjectName("dialogError")
        self.message.setWordWrap(True)
        font = self.message.font()
        font.setPointSize(font.pointSize() + 6)
        font.setBold(True)
        self.message.setFont(font)
        self.badge_field.returnPressed.connect(self.field.setFocus)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.try_pin)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.prompt)
        layout.addWidget(self.badge_field)
        layout.addWidget(self.field)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.resize(560, 280)
        (self.badge_field if ask_badge else self.field).setFocus()

    def try_pin(self) -> None:
        """Hand the entry to the DB worker; the answer comes back to ``_answered``."""
        if self._busy:
            return
        badge = self.badge_field.text() if self.badge_field.isVisibleTo(self) else ""
        entered = self.field.text()
        if not entered and self.kiosk_pin and badge.strip().isdigit() and len(badge.strip()) <= 6:
            entered, badge = badge.strip(), ""  # the kiosk PIN, typed where the badge goes
            self.badge_field.clear()
        if self.badge_field.isVisibleTo(self) and not badge.strip() and not self.kiosk_pin:
            self.badge_field.setFocus()  # Enter before the badge: nothing to check yet
            return
        if not entered:  # Enter after the badge (a scanner ends with one): now the PIN
            self.field.setFocus()
            return
        self.field.clear()
        self._busy = True
        self.message.setText("Checking…")
        authority, roles, kiosk_pin = self.authority, self.roles, self.kiosk_pin
        run_db(
            lambda: authority.check(badge, entered, roles=roles, kiosk_pin=kiosk_pin),
            self._answered,
            lambda exc: self._answered(Answer(False, f"The PIN could not be checked: {exc}")),
        )

    def _answered(self, answer: Answer) -> None:
        self._busy = False
        if answer.ok:
            log.info("kiosk authorized for %r (%s)", self.purpose, _who(answer.staff))
            self.message.setText(answer.message)
            # Closed first: the window takes the keyboard back, then the action runs (a gate
            # list opened before that would be closed again by the window's activation).
            self.accept()
            self.authorized.emit(answer.staff)
            return
        # "Wrong PIN — 3 tries left", "Too many wrong PINs — try again in 52 s" (the count and
        # the pause are kept in the replica: closing the dialog or restarting resets neither)
        self.message.setText(answer.message)


def _who(staff: Any) -> str:
    return "kiosk PIN" if staff is None else f"staff {staff.staff_id}"


class ChoosePinDialog(QDialog):
    """A kiosk with no PIN and no staff: a person chooses its PIN (4 to 6 digits, twice)."""

    chosen = Signal()

    def __init__(self, authority: KioskAuthority, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.authority = authority
        self.setObjectName("choosePinDialog")
        self.setStyleSheet(dialog_sheet())
        self.setWindowTitle("Choose the kiosk PIN")
        prompt = QLabel(
            "This kiosk has no PIN and no staff with PINs yet. Choose a PIN of 4 to 6 digits: "
            "it unlocks this kiosk and authorizes the gate and undo. Keep it to the staff."
        )
        prompt.setWordWrap(True)
        self.first = QLineEdit()
        self.first.setObjectName("newPinField")
        self.first.setAccessibleName("new kiosk PIN")
        self.second = QLineEdit()
        self.second.setObjectName("repeatPinField")
        self.second.setAccessibleName("the new kiosk PIN again")
        for field in (self.first, self.second):
            field.setEchoMode(QLineEdit.EchoMode.Password)
            field.setMaxLength(6)
        self.first.setPlaceholderText("New PIN")
        self.second.setPlaceholderText("The same PIN again")
        self.message = QLabel("")
        self.message.setObjectName("dialogError")
        self.message.setWordWrap(True)
        self.first.returnPressed.connect(self.second.setFocus)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.try_choose)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (prompt, self.first, self.second, self.message, buttons):
            layout.addWidget(widget)
        self.resize(560, 300)
        self.first.setFocus()

    def try_choose(self) -> None:
        from app.store.staff import pin_problem

        pin, again = self.first.text(), self.second.text()
        problem = pin_problem(pin)
        if problem is None and pin != again:
            problem = "The two PINs differ: type the same PIN twice."
        if problem is not None:
            self.message.setText(problem)
            self.second.clear()
            return
        self.message.setText("Saving…")
        self.first.clear()
        self.second.clear()
        authority = self.authority
        run_db(
            lambda: authority.choose_pin(pin),
            lambda _none: self._saved(),
            lambda exc: self.message.setText(f"The PIN could not be kept: {exc}"),
        )

    def _saved(self) -> None:
        log.info("kiosk PIN chosen")
        self.chosen.emit()
        self.accept()


class KioskLock(QObject):
    """Keeps ``window`` fullscreen and frameless, refusing to close until unlocked.

    ``authority`` (a ``KioskAuthority``) checks PINs and badges; ``state`` says whether the
    kiosk has a PIN or staff (read once at the lock, on the DB worker)."""

    locked_changed = Signal(bool)
    state_known = Signal(object)  # KioskState

    def __init__(self, window: QWidget, authority: KioskAuthority) -> None:
        super().__init__(window)
        self.window = window
        self.authority = authority
        self.locked = False
        self.state: KioskState | None = None
        self.dialog: PinDialog | None = None
        self.choose_dialog: ChoosePinDialog | None = None
        self.refused = 0  # how many close attempts were refused (shown in tests and logs)
        # Called with each dialog opened: the door turns its ticket scanner off meanwhile, so a
        # badge's burst goes into the badge field instead of being scanned as a ticket.
        self.on_dialog: Callable[[QDialog], None] | None = None

    def lock(self) -> None:
        self.locked = True
        # Screens adjust first: a layout change after going fullscreen can drop the state.
        self.locked_changed.emit(True)
        self.window.setWindowFlag(Qt.WindowType.FramelessWindowHint, True)
        self.window.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, True)
        self._fill_screen()
        self.window.installEventFilter(self)
        self.give_keys_back()
        self.refresh_state(first_lock=True)

    def refresh_state(self, first_lock: bool = False) -> None:
        """Read whether the kiosk has a PIN or staff (DB worker); at the first lock of a kiosk
        with neither, ask a person to choose its PIN."""
        authority = self.authority

        def known(state: KioskState) -> None:
            self.state = state
            self.state_known.emit(state)
            if first_lock and self.locked and not state.anyone:
                self.choose_pin()

        run_db(authority.state, known, lambda exc: log.error("kiosk state: %s", exc))

    def choose_pin(self) -> ChoosePinDialog:
        if self.choose_dialog is not None and self.choose_dialog.isVisible():
            return self.choose_dialog
        self.choose_dialog = ChoosePinDialog(self.authority, self.window)
        self.choose_dialog.chosen.connect(self.refresh_state)
        self.choose_dialog.finished.connect(lambda _result: self.give_keys_back())
        self._opened(self.choose_dialog)
        self.choose_dialog.open()
        return self.choose_dialog

    def _opened(self, dialog: QDialog) -> None:
        if self.on_dialog is not None:
            self.on_dialog(dialog)

    def unlock(self) -> None:
        self.locked = False
        self.window.removeEventFilter(self)
        self.window.setWindowFlag(Qt.WindowType.FramelessWindowHint, False)
        self.window.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, False)
        self.window.showNormal()
        self.locked_changed.emit(False)
        self.give_keys_back()  # changing the window flags made a new native window

    def _open(
        self,
        purpose: str,
        roles: frozenset[str] | None,
        kiosk_pin: bool = True,
    ) -> QDialog:
        state = self.state
        if state is not None and not state.anyone:  # nobody can answer yet: choose a PIN
            return self.choose_pin()
        ask_badge = state is None or state.has_staff
        self.dialog = PinDialog(
            self.authority,
            purpose,
            self.window,
            ask_badge=ask_badge,
            roles=roles,
            kiosk_pin=kiosk_pin,
        )
        self.dialog.finished.connect(lambda _result: self.give_keys_back())
        self._opened(self.dialog)
        self.dialog.open()
        return self.dialog

    def ask_pin(self, purpose: str = "leave kiosk mode") -> QDialog:
        """Open the PIN dialog (non-blocking); the kiosk PIN, or an organizer's or admin's
        badge + PIN, unlocks the kiosk."""
        dialog = self._open(purpose, LEAVE_ROLES)
        if isinstance(dialog, PinDialog):
            dialog.authorized.connect(lambda _staff: self.unlock())
        return dialog

    def authorize(self, purpose: str, then: Callable[[], None]) -> QDialog:
        """One action: the kiosk PIN or any staff badge + PIN runs ``then`` once; the kiosk
        stays locked."""
        dialog = self._open(purpose, None)
        if isinstance(dialog, PinDialog):
            dialog.authorized.connect(lambda _staff: then())
        return dialog

    def give_keys_back(self) -> None:
        """Make the kiosk window the one that gets the keyboard again. A window manager does
        this when a dialog closes; with none (a bare X server, a kiosk session) the keys
        would go nowhere and every shortcut and the USB scanner would stop."""
        self.window.raise_()
        self.window.activateWindow()

    def _fill_screen(self) -> None:
        """Fullscreen, and the screen's size set by hand too: "fullscreen" is only a request
        to the window manager, and with none the window keeps its old size."""
        screen = self.window.screen() or QGuiApplication.primaryScreen()
        if screen is not None:
            area = screen.geometry()
            least = self.window.minimumSizeHint().expandedTo(self.window.minimumSize())
            if least.width() <= area.width() and least.height() <= area.height():
                self.window.setGeometry(area)
        self.window.showFullScreen()

    def _refullscreen(self) -> None:
        if self.locked and not self.window.isFullScreen():
            self._fill_screen()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if obj is not self.window or not self.locked:
            return False
        kind = event.type()
        if kind == QEvent.Type.Close:
            event.ignore()
            self.refused += 1
            return True
        if (
            kind == QEvent.Type.KeyPress
            and event.key() == Qt.Key.Key_F4
            and event.modifiers() & Qt.KeyboardModifier.AltModifier
        ):
            self.refused += 1
            return True
        if kind == QEvent.Type.WindowStateChange and not self.window.isFullScreen():
            # A window manager shortcut tried to un-fullscreen us: go back, after this event.
            QTimer.singleShot(0, self._refullscreen)
        return False
