"""The whole window once the server removed this kiosk: what happened and what to do."""

from __future__ import annotations

from app.sync.revocation import Retirement
from app.ui.qt import QLabel, Qt, QVBoxLayout, QWidget


class RevokedScreen(QWidget):
    """White on deep red, readable from across a room; nothing to click."""

    def __init__(self, retirement: Retirement, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("revokedScreen")
        self.setAutoFillBackground(True)
        self.setStyleSheet(
            "#revokedScreen { background: #8b0000; }"
            " QLabel { color: #ffffff; background: transparent; }"
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(64, 64, 64, 64)
        layout.addStretch(1)
        self.headline = QLabel(retirement.message)
        self.headline.setWordWrap(True)
        self.headline.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.headline.setStyleSheet("font-size: 44px; font-weight: bold;")
        self.advice = QLabel(
            retirement.advice()
            + "\n\nThis kiosk no longer syncs, and the event's guest list was erased from it."
        )
        self.advice.setWordWrap(True)
        self.advice.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.advice.setStyleSheet("font-size: 28px;")
        self.advice.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.headline)
        layout.addSpacing(32)
        layout.addWidget(self.advice)
        layout.addStretch(2)
        self.setAccessibleName("Kiosk removed")
        self.setAccessibleDescription(f"{retirement.message} {retirement.advice()}")
