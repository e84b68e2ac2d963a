"""The verdict panel: the big answer a guest and the door staff read from two metres."""

from __future__ import annotations

import time
from typing import Any

from app.ui.door.verdict_style import FAILURE, READY, STYLES, VerdictStyle, style_for
from app.ui.door.widgets import FitLabel, VerdictIcon, WrapLabel
from app.ui.qt import QFrame, QHBoxLayout, QLabel, Qt, QTimer, QVBoxLayout, Signal


def _join(*parts: str | None) -> str:
    return "  ·  ".join(p for p in parts if p)


def ticket_line(result: Any) -> str:
    """ "VIP · Backstage pass · Order A-1002 · Ticket T-0042" (type left out when it repeats the tier)."""
    tier = (result.tier or "").strip()
    kind = (result.ticket_type or "").strip()
    if kind and tier and kind.lower().startswith(tier.lower()):
        kind = ""
    return _join(
        tier.upper() or None,
        kind or None,
        f"Order {result.order_number}" if result.order_number else None,
        f"Ticket {result.ticket_number}" if result.ticket_number else None,
    )


# Every line of a verdict is read from two metres: nothing on the panel is smaller than this
# (in pixels, on a 1080p kiosk screen).
DETAIL_PX = 28
BLOCKED_HEADLINE = "CANNOT RECORD SCANS"
# A "go" verdict (admitted, exit) stays at least this long once the guest has moved on: long
# enough to read from the queue, short enough that the next guest sees "Ready" (at 2 s a guest
# the full timer would still be showing the last guest's name).
READ_SECONDS = 1.5


class VerdictPanel(QFrame):
    """Shows one ScanResult (headline, reason, icon, colour, name, tier, order, notes, detail);
    goes back to "Ready — show your ticket" after ``seconds``.

    When the database cannot store scans (``set_blocked``), the panel's resting state is a red
    "CANNOT RECORD SCANS" instead of "Ready": a kiosk never invites a scan it cannot keep.
    """

    cleared = Signal()

    def __init__(self, seconds: float = 4.0) -> None:
        super().__init__()
        self.setObjectName("verdictPanel")
        self.seconds = seconds
        self.result: Any = None
        self._shown_at = 0.0  # time.monotonic() when the current result appeared
        self._problems: dict[str, str] = {}  # why scans cannot be stored, by who found it
        self.style_shown: VerdictStyle = READY
        self.icon = VerdictIcon(150)
        self.headline = FitLabel(READY.headline, max_px=104, min_px=DETAIL_PX, elide=False)
        self.headline.setObjectName("verdictHeadline")
        self.reason = FitLabel("", max_px=48, min_px=DETAIL_PX, bold=False)
        self.reason.setObjectName("verdictReason")
        self.name = FitLabel("", max_px=60, min_px=DETAIL_PX)
        self.name.setObjectName("verdictName")
        self.ticket_line = FitLabel("", max_px=36, min_px=DETAIL_PX, bold=False)
        self.ticket_line.setObjectName("verdictTicket")
        self.notes = WrapLabel()
        self.notes.setObjectName("verdictNotes")
        self.detail = WrapLabel()
        self.detail.setObjectName("verdictDetail")
        self.offline = QLabel("OFFLINE DECISION")
        self.offline.setObjectName("offlineMarker")
        self.offline.setToolTip(
            "Decided on this kiosk without the server (signature and local data)"
        )
        self.offline.setVisible(False)

        top = QHBoxLayout()
        top.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        head = QVBoxLayout()
        head.addWidget(self.headline)
        head.addWidget(self.reason)
        head.addWidget(self.name)
        head.addWidget(self.ticket_line)
        top.addLayout(head, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 18, 24, 18)
        layout.addLayout(top)
        layout.addWidget(self.notes)
        layout.addWidget(self.detail)
        layout.addStretch(1)
        layout.addWidget(self.offline, 0, Qt.AlignmentFlag.AlignLeft)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.clear)
        self.clear()

    @property
    def showing_verdict(self) -> bool:
        return self.result is not None

    def text_lines(self) -> list[QLabel]:
        """The panel's text labels (for the readability tests)."""
        return [
            self.headline,
            self.reason,
            self.name,
            self.ticket_line,
            self.notes,
            self.detail,
            self.offline,
        ]

    def show_result(self, result: Any) -> None:
        """Show a ScanResult (app.domain.verdicts' dataclass) until the timer clears it."""
        self.result = result
        style = style_for(result.verdict)
        # Our words for each verdict (one vocabulary on every screen); the core's headline
        # only for a verdict this screen does not know.
        known = str(result.verdict) in STYLES
        self._paint(style, style.headline if known else (result.headline or style.headline))
        self._set_line(self.reason, getattr(result, "reason", None) or "")
        self._set_line(self.name, result.attendee_name or "")
        self._set_line(self.ticket_line, ticket_line(result))
        self.notes.setText(f"⚠  {result.notes}" if result.notes else "")
        self.notes.setVisible(bool(result.notes))
        detail = result.detail or ""
        if result.notes and result.notes in detail:
            detail = ""  # the highlighted note already says it
        self.detail.setText(detail)
        self.offline.setVisible(bool(result.offline))
        reason = getattr(result, "reason", None)
        self.setAccessibleName(
            _join_sentences(style.headline, reason, result.attendee_name, result.detail)
        )
        self._shown_at = time.monotonic()
        if self.seconds > 0:
            self._timer.start(int(self.seconds * 1000))

    def guest_moved_on(self) -> None:
        """The code has left the camera's view: a plain "go" verdict (admitted or exit, no
        note to read) clears once it has been up ``READ_SECONDS``. Refusals and notes keep the
        full time: the door staff may still be dealing with that guest."""
        result = self.result
        if result is None or result.notes or style_for(result.verdict).sound != "ok":
            return
        remaining = READ_SECONDS - (time.monotonic() - self._shown_at)
        if remaining <= 0:
            self.clear()
        elif not self._timer.isActive() or remaining * 1000 < self._timer.remainingTime():
            self._timer.start(int(remaining * 1000))

    def show_message(self, headline: str, detail: str = "", verdict: str = "unreadable") -> None:
        """A verdict-like message that is not a scan (e.g. "NOT RECORDED", with
        ``verdict="failure"``)."""
        self.result = None
        self._paint(style_for(verdict), headline)
        for label in (self.reason, self.name, self.ticket_line):
            self._set_line(label, "")
        self.notes.setVisible(False)
        self.detail.setText(detail)
        self.offline.setVisible(False)
        self.setAccessibleName(_join_sentences(headline, detail))
        self._timer.start(int(max(self.seconds, 2.0) * 1000))

    @property
    def blocked(self) -> str | None:
        """Why scans cannot be stored now (None: they can)."""
        return " ".join(self._problems.values()) or None

    def set_blocked(self, problem: str | None, source: str = "storage") -> None:
        """Scans cannot be stored (``problem`` says why; None: solved, as far as ``source``
        knows): the panel rests on a red "CANNOT RECORD SCANS" until every source is solved."""
        if problem:
            self._problems[source] = problem
        else:
            self._problems.pop(source, None)
        if self.result is None and not self._timer.isActive():
            self.clear()

    def clear(self) -> None:
        self._timer.stop()
        self.result = None
        for label in (self.reason, self.name, self.ticket_line):
            self._set_line(label, "")
        self.notes.setText("")
        self.notes.setVisible(False)
        self.offline.setVisible(False)
        if self.blocked:
            self._paint(FAILURE, BLOCKED_HEADLINE)
            self.detail.setText(self.blocked)
            self.setAccessibleName(_join_sentences(BLOCKED_HEADLINE, self.blocked))
        else:
            self._paint(READY, READY.headline)
            self.detail.setText(
                "Hold the QR code in the frame, scan it with the scanner, or press F2 to search "
                "by name."
            )
            self.setAccessibleName(READY.headline)
        self.cleared.emit()

    @staticmethod
    def _set_line(label: QLabel, text: str) -> None:
        label.setText(text)
        label.setVisible(bool(text))

    def _paint(self, style: VerdictStyle, headline: str) -> None:
        self.style_shown = style
        self.headline.setText(headline)
        self.icon.set_shape(style.icon, style.foreground)
        self.setStyleSheet(
            f"#verdictPanel {{ background: {style.background}; border-radius: 14px; }}"
            f"#verdictPanel QLabel {{ color: {style.foreground}; background: transparent; }}"
            f"#verdictDetail {{ font-size: {DETAIL_PX}px; }}"
            "#verdictPanel QLabel#verdictNotes { font-size: 30px; font-weight: bold;"
            " background: #fff3b0; color: #111111; border-radius: 8px; padding: 8px 12px; }"
            f"#offlineMarker {{ font-size: {DETAIL_PX}px; font-weight: bold;"
            f" border: 3px solid {style.foreground}; border-radius: 6px; padding: 4px 10px; }}"
        )


def _join_sentences(*parts: str | None) -> str:
    return ". ".join(p.strip().rstrip(".") for p in parts if p and p.strip()) + "."
