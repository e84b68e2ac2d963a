"""Kiosk mode: fullscreen, no frame, closing refused; leaving needs the staff PIN."""

from __future__ import annotations

import hmac
import time

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

MAX_TRIES = 5
LOCKOUT_SECONDS = 30.0


class PinDialog(QDialog):
    """Asks for the staff PIN. Wrong PIN says so; five wrong in a row pause it for 30 s."""

    unlocked = Signal()

    def __init__(
        self, pin: str, purpose: str = "leave kiosk mode", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._pin = str(pin)
        self._tries = 0
        self._locked_until = 0.0
        self.setObjectName("pinDialog")
        self.setStyleSheet(dialog_sheet())
        self.setWindowTitle("Staff PIN")
        prompt = QLabel(f"Enter the staff PIN to {purpose}.")
        prompt.setWordWrap(True)
        self.field = QLineEdit()
        self.field.setObjectName("pinField")
        self.field.setEchoMode(QLineEdit.EchoMode.Password)
        self.field.setAccessibleName("staff PIN")
        self.message = QLabel("")
        self.message.setObjectName("dialogError")
        self.message.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.try_pin)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(prompt)
        layout.addWidget(self.field)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.resize(520, 240)
        self.field.setFocus()

    def try_pin(self) -> bool:
        now = time.monotonic()
        if now < self._locked_until:
            self.message.setText(
                f"Too many wrong PINs — wait {int(self._locked_until - now) + 1} s."
            )
            return False
        entered = self.field.text()
        self.field.clear()
        if self._pin and hmac.compare_digest(entered.encode(), self._pin.encode()):
            self.unlocked.emit()
            self.accept()
            return True
        self._tries += 1
        if self._tries >= MAX_TRIES:
            self._tries = 0
            self._locked_until = now + LOCKOUT_SECONDS
            self.message.setText(f"Wrong PIN. Too many tries — wait {int(LOCKOUT_SECONDS)} s.")
        else:
            self.message.setText("Wrong PIN — try again.")
        return False


class KioskLock(QObject):
    """Keeps ``window`` fullscreen and frameless, refusing to close until unlocked."""

    locked_changed = Signal(bool)

    def __init__(self, window: QWidget, pin: str) -> None:
        super().__init__(window)
        self.window = window
        self.pin = pin
        self.locked = False
        self.dialog: PinDialog | None = None
        self.refused = 0  # how many close attempts were refused (shown in tests and logs)

    def lock(self) -> None:
        self.locked = True
        # Screens adjust first: a layout change after going fullscreen can drop the state.
        self.locked_changed.emit(True)
        self.window.setWindowFlag(Qt.WindowType.FramelessWindowHint, True)
        self.window.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, True)
        self._fill_screen()
        self.window.installEventFilter(self)
        self.give_keys_back()

    def unlock(self) -> None:
        self.locked = False
        self.window.removeEventFilter(self)
        self.window.setWindowFlag(Qt.WindowType.FramelessWindowHint, False)
        self.window.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, False)
        self.window.showNormal()
        self.locked_changed.emit(False)
        self.give_keys_back()  # changing the window flags made a new native window

    def ask_pin(self, purpose: str = "leave kiosk mode") -> PinDialog:
        """Open the PIN dialog (non-blocking); a right PIN unlocks."""
        self.dialog = PinDialog(self.pin, purpose, self.window)
        self.dialog.unlocked.connect(self.unlock)
        self.dialog.finished.connect(lambda _result: self.give_keys_back())
        self.dialog.open()
        return self.dialog

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
