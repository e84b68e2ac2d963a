"""Keyboard-wedge USB scanners: caught wherever the keyboard focus is.

A scanner "types" its code very fast and ends with Enter. An application-wide event filter
feeds every key press to the WedgeBuffer of app.scan; when it recognises a burst, the Enter is
swallowed, the burst's characters are taken back out of the line edit they landed in, and
``scanned(code)`` is emitted. Human typing passes through untouched.
"""

from __future__ import annotations

import time

import shiboken6

from app.ui.qt import QApplication, QEvent, QLineEdit, QObject, Qt, QWidget, Signal

ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class WedgeFilter(QObject):
    scanned = Signal(str, float)  # code, perf_counter() at the final Enter

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        from app.scan.wedge import WedgeBuffer

        self.buffer = WedgeBuffer()
        self.enabled = True
        self._last: tuple[int, int, str] | None = None

    def install(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def uninstall(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        kind = event.type()
        if kind == QEvent.Type.KeyRelease:
            self._last = None
            return False
        if kind != QEvent.Type.KeyPress or not self.enabled or not isinstance(obj, QWidget):
            return False
        focus = QApplication.focusWidget()
        if isinstance(focus, QLineEdit) and focus.echoMode() != QLineEdit.EchoMode.Normal:
            return False  # a PIN or password field: never read as a ticket
        # Qt hands one key press to the focus widget, then to its parents if ignored: the
        # application filter sees each hop. Count it once (a release always separates two
        # real presses, even of the same key).
        ident = (shiboken6.getCppPointer(event)[0], event.key(), event.text())
        if ident == self._last:
            return False
        self._last = ident
        now = time.monotonic()
        if event.key() in ENTER_KEYS:
            code = self.buffer.feed("\n", now)
            if code:
                self._take_back(code)
                self.scanned.emit(code, time.perf_counter())
                return True
            return False
        text = event.text()
        if (
            text
            and text.isprintable()
            and not (
                event.modifiers()
                & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier)
            )
        ):
            self.buffer.feed(text, now)
        return False

    @staticmethod
    def _take_back(code: str) -> None:
        """Remove the scanned characters from the line edit they were typed into."""
        widget = QApplication.focusWidget()
        if (
            isinstance(widget, QLineEdit)
            and not widget.isReadOnly()
            and widget.text().endswith(code)
        ):
            widget.setText(widget.text()[: -len(code)])
