"""The verdict panel: the big answer a guest and the door staff read from two metres."""

from __future__ import annotations

from typing import Any

from app.ui.door.verdict_style import READY, STYLES, VerdictStyle, style_for
from app.ui.door.widgets import FitLabel, VerdictIcon
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


class VerdictPanel(QFrame):
    """Shows one ScanResult (headline, icon, colour, name, tier, order, notes, detail);
    goes back to "Ready — show your ticket" after ``seconds``."""

    cleared = Signal()

    def __init__(self, seconds: float = 4.0) -> None:
        super().__init__()
        self.setObjectName("verdictPanel")
        self.seconds = seconds
        self.result: Any = None
        self.icon = VerdictIcon(150)
        self.headline = FitLabel(READY.headline, max_px=104, min_px=28)
        self.headline.setObjectName("verdictHeadline")
        self.name = FitLabel("", max_px=60, min_px=20)
        self.name.setObjectName("verdictName")
        self.ticket_line = FitLabel("", max_px=36, min_px=16, bold=False)
        self.ticket_line.setObjectName("verdictTicket")
        self.notes = QLabel()
        self.notes.setObjectName("verdictNotes")
        self.notes.setWordWrap(True)
        self.detail = QLabel()
        self.detail.setObjectName("verdictDetail")
        self.detail.setWordWrap(True)
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

    def show_result(self, result: Any) -> None:
        """Show a ScanResult (app.domain.verdicts' dataclass) until the timer clears it."""
        self.result = result
        style = style_for(result.verdict)
        # Our words for each verdict (one vocabulary on every screen); the core's headline
        # only for a verdict this screen does not know.
        known = str(result.verdict) in STYLES
        self._paint(style, style.headline if known else (result.headline or style.headline))
        self.name.setText(result.attendee_name or "")
        self.ticket_line.setText(ticket_line(result))
        self.name.setVisible(bool(self.name.text()))
        self.ticket_line.setVisible(bool(self.ticket_line.text()))
        self.notes.setText(f"⚠  {result.notes}" if result.notes else "")
        self.notes.setVisible(bool(result.notes))
        detail = result.detail or ""
        if result.notes and result.notes in detail:
            detail = ""  # the highlighted note already says it
        self.detail.setText(detail)
        self.offline.setVisible(bool(result.offline))
        self.setAccessibleName(
            f"{style.headline}. {result.attendee_name or ''}. {result.detail or ''}"
        )
        if self.seconds > 0:
            self._timer.start(int(self.seconds * 1000))

    def show_message(self, headline: str, detail: str = "", verdict: str = "unreadable") -> None:
        """A verdict-like message that is not a scan (e.g. "Check-in failed")."""
        self.result = None
        self._paint(style_for(verdict), headline)
        for label in (self.name, self.ticket_line):
            label.setText("")
            label.setVisible(False)
        self.notes.setVisible(False)
        self.detail.setText(detail)
        self.offline.setVisible(False)
        self._timer.start(int(max(self.seconds, 2.0) * 1000))

    def clear(self) -> None:
        self._timer.stop()
        self.result = None
        self._paint(READY, READY.headline)
        for label in (self.name, self.ticket_line):
            label.setText("")
            label.setVisible(False)
        self.notes.setText("")
        self.notes.setVisible(False)
        self.detail.setText(
            "Hold the QR code in the frame, scan it with the scanner, or press F2 to search by name."
        )
        self.offline.setVisible(False)
        self.setAccessibleName(READY.headline)
        self.cleared.emit()

    def _paint(self, style: VerdictStyle, headline: str) -> None:
        self.headline.setText(headline)
        self.icon.set_shape(style.icon, style.foreground)
        self.setStyleSheet(
            f"#verdictPanel {{ background: {style.background}; border-radius: 14px; }}"
            f"#verdictPanel QLabel {{ color: {style.foreground}; background: transparent; }}"
            "#verdictDetail { font-size: 28px; }"
            "#verdictPanel QLabel#verdictNotes { font-size: 30px; font-weight: bold; background: #fff3b0;"
            " color: #111111; border-radius: 8px; padding: 8px 12px; }"
            f"#offlineMarker {{ font-size: 20px; font-weight: bold; border: 3px solid {style.foreground};"
            " border-radius: 6px; padding: 4px 10px; }"
        )
