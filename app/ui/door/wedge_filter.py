"""Keyboard-wedge USB scanners, and pasted codes: caught wherever the keyboard focus is.

A scanner "types" its code and ends with Enter. An application-wide event filter watches
every key press; at the Enter it decides whether what came before was a scan:

- a fast burst (a key every ≤ 50 ms, as most scanners type) is a scan, whatever it carries:
  the door then says what the code is (unknown, another event's, …);
- at any slower speed (a slow scanner, ≥ 55 ms a key; a code pasted or typed into a text
  field) it is a scan only when it has the shape of a ticket code: our signed-token prefix, or
  an exact legacy code present in the replica. A name never has that shape, so a person's
  typing is never taken for a scan.

A scan's Enter is swallowed, its characters are taken back out of the line edit they landed
in, and ``scanned(code)`` is emitted. A code pasted into a watched field (the door's search
box) is a scan at once, Enter or not.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import shiboken6

from app.ui.qt import QApplication, QEvent, QLineEdit, QObject, Qt, QWidget, Signal

try:  # one predicate for every signed-token shape, old and new
    from app.domain.tokens import looks_like_ticket_code
except ImportError:  # a tokens module without it knows the SD1 shape only
    from app.domain.tokens import looks_like_token as looks_like_ticket_code

ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)
# Keys further apart than this start a new run: a slow scanner stays well under it (120 ms a
# key at most); a person who stops typing for half a second has finished a word.
SLOW_GAP = 0.5
MAX_CODE = 4096


class TicketCodes:
    """``codes(text)``: has ``text`` the shape of a ticket code? Signed tokens by their shape,
    legacy codes by exact match against the replica's (loaded on the DB worker, see
    ``load_legacy_codes``), so the UI thread never waits on the database."""

    def __init__(self, legacy: Iterable[str] = ()) -> None:
        self.legacy: frozenset[str] = frozenset(legacy)

    def __call__(self, text: str) -> bool:
        text = text.strip()
        if not text or len(text) > MAX_CODE:
            return False
        return looks_like_ticket_code(text) or text in self.legacy


def load_legacy_codes(session) -> frozenset[str]:
    """Every ticket code in the replica that is not a signed token (DB worker)."""
    from sqlalchemy import select

    from app.store.models import Ticket

    codes = session.scalars(select(Ticket.qr_code_data).where(Ticket.qr_code_data.is_not(None)))
    return frozenset(
        code.strip() for code in codes if code.strip() and not looks_like_ticket_code(code)
    )


class WedgeFilter(QObject):
    """``is_code`` tells ticket codes from other text; without it, only fast bursts scan."""

    scanned = Signal(str, float)  # code, perf_counter() at the final Enter (or the paste)

    def __init__(
        self, parent: QObject | None = None, is_code: Callable[[str], bool] | None = None
    ) -> None:
        super().__init__(parent)
        from app.scan.wedge import WedgeBuffer

        self.buffer = WedgeBuffer()  # fast bursts
        self.run = WedgeBuffer(max_gap=SLOW_GAP, min_length=1, max_length=MAX_CODE)
        self.is_code = is_code
        self.enabled = True
        self.clock: Callable[[], float] = time.monotonic  # when each key arrived (seconds)
        self._last: tuple[int, int, str] | None = None
        self._watched: dict[QLineEdit, str] = {}

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
        now = self.clock()
        if event.key() in ENTER_KEYS:
            code, typed = self._at_enter(now, focus)
            if code:
                self._take_back(focus, typed)
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
            self.run.feed(text, now)
        return False

    def _at_enter(self, now: float, focus: QWidget | None) -> tuple[str | None, str]:
        """(the code scanned, the characters to take back), or (None, "") for a plain Enter."""
        fast = self.buffer.feed("\n", now)
        run = self.run.feed("\n", now) or ""
        if self._is_code(run):
            return run.strip(), run
        # The run holds every key since the last pause: a signed code may follow a few letters
        # a person typed just before the scanner started. The longest such tail wins; a legacy
        # code counts only whole (the tail of a name could spell one).
        for start in range(1, len(run)):
            tail = run[start:]
            if looks_like_ticket_code(tail) and self._is_code(tail):
                return tail.strip(), tail
        if fast and not any(c.isspace() for c in fast):
            return fast, fast  # a scanner's burst, even of a code we cannot place
        if isinstance(focus, QLineEdit) and not focus.isReadOnly():
            text = focus.text()
            if self._is_code(text):  # pasted, or typed with pauses
                return text.strip(), text
        return None, ""

    def _is_code(self, text: str) -> bool:
        return self.is_code is not None and self.is_code(text)

    @staticmethod
    def _take_back(focus: QWidget | None, typed: str) -> None:
        """Remove the scanned characters from the line edit they were typed into."""
        if (
            isinstance(focus, QLineEdit)
            and not focus.isReadOnly()
            and typed
            and focus.text().endswith(typed)
        ):
            focus.setText(focus.text()[: -len(typed)])

    # --- pasted codes -------------------------------------------------------------------------
    def watch_paste(self, field: QLineEdit) -> None:
        """A ticket code pasted (or dropped) into ``field`` is a scan at once."""
        self._watched[field] = field.text()
        field.textChanged.connect(lambda text, f=field: self._field_changed(f, text))

    def _field_changed(self, field: QLineEdit, text: str) -> None:
        before = self._watched.get(field, "")
        self._watched[field] = text
        if not self.enabled or self.is_code is None or len(text) - len(before) < 2:
            return  # typing adds one character at a time; a paste adds them all at once
        head = 0
        while head < len(before) and before[head] == text[head]:
            head += 1
        tail = 0
        while tail < len(before) - head and before[-1 - tail] == text[-1 - tail]:
            tail += 1
        inserted = text[head : len(text) - tail]
        for candidate, keep in ((text, ""), (inserted, text[:head] + text[len(text) - tail :])):
            if self._is_code(candidate):
                self._watched[field] = keep
                field.setText(keep)
                self.scanned.emit(candidate.strip(), time.perf_counter())
                return
