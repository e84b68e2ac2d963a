"""Editing one person's call: a clock time, an offset from the general call, or nothing."""

from __future__ import annotations

from app.domain import calltimes as rules
from app.store.calltimes_store import Board, BoardRow
from app.ui.qt import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)


class EditCallDialog(QDialog):
    def __init__(self, row: BoardRow, board: Board, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.row = row
        self.board = board
        self.result_input: rules.CallInput | None = None
        self.location = row.location or ""
        self.setWindowTitle(f"Call for {row.name}")
        form = QFormLayout()
        self.call_edit = QLineEdit(self._current_text())
        self.call_edit.setPlaceholderText("17:30, or -90 for 90 min before the general call")
        self.call_edit.setAccessibleName("Call time or offset")
        self.location_edit = QLineEdit(self.location)
        self.location_edit.setAccessibleName("Location")
        form.addRow("&Call:", self.call_edit)
        form.addRow("&Location:", self.location_edit)
        self.error = QLabel("")
        self.error.setStyleSheet("color: #b00020;")
        self.error.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                "Type a clock time (17:30), an offset from the general call "
                "(-90), or leave empty for no call time."
            )
        )
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def _current_text(self) -> str:
        if self.row.call_at is not None:
            return rules.format_clock(self.row.call_at, self.board.tz)
        if self.row.offset_minutes is not None:
            return f"{self.row.offset_minutes:+d}"
        return ""

    def _accept(self) -> None:
        try:
            self.result_input = rules.parse_call_input(
                self.call_edit.text(), self.board.event_day_anchor, self.board.tz
            )
        except ValueError as exc:
            self.error.setText(str(exc))
            return
        self.location = self.location_edit.text().strip()
        self.accept()
