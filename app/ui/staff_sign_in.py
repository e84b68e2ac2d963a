"""Staff sign-in at a locked kiosk, and the idle lock.

``StaffSignInDialog``: a badge (a USB scanner's burst, or the code typed) and a PIN, checked
by ``app.store.staff.sign_in`` on the DB worker; its sentences ("Wrong PIN — 3 tries left",
"Too many wrong PINs — try again in 42 s", "Signed in: …") are shown large. A replica with no
staff at all takes the kiosk PIN instead (no badge). During a lockout the dialog counts down.

``IdleWatch``: a QTimer of ``idle_lock_seconds``, restarted by every key press, mouse press
or touch anywhere in the application (an event filter); when it runs out it emits ``idle``.
"""

from __future__ import annotations

from typing import Any

from app.ui.kiosk_lock import KioskAuthority, PinDialog
from app.ui.qt import QApplication, QEvent, QObject, QTimer, QWidget, Signal

ACTIVITY = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.TouchBegin,
        QEvent.Type.Wheel,
    }
)


class StaffSignInDialog(PinDialog):
    """Badge + PIN (or, with no staff in the replica, the kiosk PIN). ``authorized`` carries
    the ``SignedIn`` (None for the kiosk PIN)."""

    def __init__(
        self, authority: KioskAuthority, has_staff: bool, parent: QWidget | None = None
    ) -> None:
        super().__init__(
            authority,
            "sign in at this door",
            parent,
            ask_badge=has_staff,
            roles=None,
            kiosk_pin=not has_staff,
        )
        self.setObjectName("staffSignIn")
        self.setWindowTitle("Staff sign-in")
        self._countdown = QTimer(self)
        self._countdown.setInterval(1000)
        self._countdown.timeout.connect(self._tick)
        self._left = 0

    def _answered(self, answer: Any) -> None:
        super()._answered(answer)
        text = answer.message
        if not answer.ok and text.startswith("Too many wrong PINs — try again in "):
            try:
                self._left = int(text.rsplit(" ", 2)[1])
            except ValueError:
                return
            self._countdown.start()

    def _tick(self) -> None:
        self._left -= 1
        if self._left <= 0:
            self._countdown.stop()
            self.message.setText("Try again: scan your badge and enter your PIN.")
        else:
            self.message.setText(f"Too many wrong PINs — try again in {self._left} s")


class IdleWatch(QObject):
    """Emits ``idle`` after ``seconds`` with no key, mouse or touch (None or 0: never)."""

    idle = Signal()

    def __init__(self, seconds: float | None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.seconds = seconds or 0
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.idle)
        if self.seconds > 0:
            self.timer.setInterval(int(self.seconds * 1000))
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def start(self) -> None:
        if self.seconds > 0:
            self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)

    def eventFilter(self, _obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() in ACTIVITY and self.timer.isActive():
            self.timer.start()  # restart: the person is still here
        return False
