"""Non-modal notifications: toast-like cards stacked in the corner of the window, with sound.

A toast never takes the keyboard focus and never blocks: the producer keeps working while
"Ana Silva (Models) is due at 17:30 — not arrived" waits in the corner until dismissed (the
× button or Escape on it) or until it times out. Several stack upwards; the oldest go first
when there are too many. Sounds go through ``app.ui.sounds`` (silent without an audio device).

A stack can be held (``set_held(True)``): the window shows the door, whose verdict panel no
toast may ever cover and whose sounds are the verdicts'. Held toasts are hidden, new ones wait
silently, and all come back (with one sound) when the hold ends.
"""

from __future__ import annotations

import logging

from app.ui.qt import (
    QFrame,
    QGuiApplication,
    QHBoxLayout,
    QLabel,
    QObject,
    QPoint,
    QPushButton,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
    is_alive,
)

log = logging.getLogger(__name__)

LEVEL_STYLES = {
    "late": ("#b00020", "#ffffff"),
    "warning": ("#f9a825", "#111111"),
    "info": ("#1565c0", "#ffffff"),
    "ok": ("#2e7d32", "#ffffff"),
}
LEVEL_SOUNDS = {"late": "attention", "warning": "warning", "info": "ok", "ok": "ok"}


class Toast(QFrame):
    """One notification card: a title, one sentence, and a close button."""

    closed = Signal(object)

    def __init__(
        self, title: str, message: str, level: str = "warning", timeout_ms: int = 0
    ) -> None:
        super().__init__(None)
        self.title = title
        self.message = message
        self.level = level if level in LEVEL_STYLES else "warning"
        self.setObjectName("toast")
        # A tooltip-type window: no window system activates it (a Tool window is activated on
        # some platforms, Qt's offscreen one included, and took the keyboard from the screen
        # a person was typing in); the close button still takes a click.
        self.setWindowFlags(
            Qt.WindowType.ToolTip
            | Qt.WindowType.FramelessWindowHint
            | Qt.WindowType.WindowStaysOnTopHint
            | Qt.WindowType.WindowDoesNotAcceptFocus
        )
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating, True)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.setAccessibleName(f"{title}: {message}")
        back, fore = LEVEL_STYLES[self.level]
        self.setStyleSheet(
            f"QFrame#toast {{ background: {back}; border-radius: 8px; }}"
            f"QLabel {{ color: {fore}; }}"
            f"QPushButton {{ color: {fore}; background: transparent; border: none; font-size: 16pt; }}"
        )
        self.setFixedWidth(380)
        head = QHBoxLayout()
        self.title_label = QLabel(f"<b>{_plain(title)}</b>")
        self.close_button = QPushButton("×")
        self.close_button.setAccessibleName("Dismiss")
        self.close_button.setToolTip("Dismiss")
        self.close_button.setFixedSize(28, 28)
        self.close_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.close_button.clicked.connect(self.close)
        head.addWidget(self.title_label, 1)
        head.addWidget(self.close_button)
        self.message_label = QLabel(message)
        self.message_label.setWordWrap(True)
        font = self.message_label.font()
        font.setPointSize(font.pointSize() + 2)
        self.message_label.setFont(font)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 8, 10, 12)
        layout.addLayout(head)
        layout.addWidget(self.message_label)
        if timeout_ms > 0:
            QTimer.singleShot(timeout_ms, self.close)

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Escape:
            self.close()
        else:
            super().keyPressEvent(event)

    def closeEvent(self, event) -> None:  # noqa: N802
        self.closed.emit(self)
        super().closeEvent(event)


def _plain(text: str) -> str:
    from html import escape

    return escape(text)


class AlertStack(QObject):
    """Shows toasts in the bottom-right corner of ``anchor``'s window (or of the screen)."""

    MARGIN = 16
    SPACING = 8

    def __init__(
        self,
        anchor: QWidget | None = None,
        *,
        sound: bool = True,
        timeout_ms: int = 60_000,
        max_visible: int = 6,
    ) -> None:
        super().__init__(anchor)
        self.anchor = anchor
        self.timeout_ms = timeout_ms
        self.max_visible = max_visible
        self.toasts: list[Toast] = []
        self.held = False
        self._waiting_sound: str | None = None  # the sound of an alert that came while held
        self.player = None
        try:
            from app.ui.sounds import SoundPlayer

            self.player = SoundPlayer(enabled=sound)
        except ImportError:  # sounds are a nicety: no module, no sound
            log.info("app.ui.sounds not available; alerts are silent")

    def show_alert(self, title: str, message: str, level: str = "warning") -> Toast:
        toast = Toast(title, message, level, self.timeout_ms)
        toast.closed.connect(self._forget)
        self.toasts.append(toast)
        while len(self.toasts) > self.max_visible:
            self.toasts[0].close()
        toast.adjustSize()
        sound = LEVEL_SOUNDS.get(level, "warning")
        if self.held:  # the door is in front: nothing over the verdict, no sound over its own
            self._waiting_sound = self._waiting_sound or sound
            return toast
        toast.show()
        self._place()
        if self.player is not None:
            self.player.play(sound)
        return toast

    def set_held(self, held: bool) -> None:
        """Hide every toast and keep new ones back (True), or show them all again (False)."""
        if held == self.held:
            return
        self.held = held
        for toast in self.toasts:
            toast.setVisible(not held)
        if not held:
            self._place()
            sound, self._waiting_sound = self._waiting_sound, None
            if sound and self.player is not None and self.toasts:
                self.player.play(sound)

    def clear(self) -> None:
        for toast in list(self.toasts):
            toast.close()

    def visible_messages(self) -> list[str]:
        return [t.message for t in self.toasts if t.isVisible()]

    def _forget(self, toast: Toast) -> None:
        if not is_alive(self):
            return
        if toast in self.toasts:
            self.toasts.remove(toast)
            self._place()

    def _corner(self) -> QPoint:
        # The anchor may be gone (its tab deleted) while a toast still closes or an alert
        # was already queued for the main thread: fall back to the screen's corner.
        anchor = self.anchor if self.anchor is not None and is_alive(self.anchor) else None
        window = anchor.window() if anchor is not None else None
        if window is not None and window.isVisible():
            geo = window.frameGeometry()
            return QPoint(geo.right() - self.MARGIN, geo.bottom() - self.MARGIN - 24)
        screen = QGuiApplication.primaryScreen()
        geo = screen.availableGeometry()
        return QPoint(geo.right() - self.MARGIN, geo.bottom() - self.MARGIN)

    def _place(self) -> None:
        corner = self._corner()
        y = corner.y()
        for toast in reversed(self.toasts):  # newest at the bottom, older ones above
            size = toast.sizeHint()
            y -= size.height()
            toast.move(corner.x() - toast.width(), y)
            y -= self.SPACING
