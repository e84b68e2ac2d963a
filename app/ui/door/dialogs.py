"""Door dialogs: the attendee card (manual check-in) and "Undo admission" with a reason.

Both are opened with ``open()`` (window-modal, not a nested event loop), so scans keep flowing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.ui.door.widgets import ElidedLabel, WrapLabel
from app.ui.qt import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from app.ui.styles import dialog_sheet


@dataclass(frozen=True)
class AttendeeDetails:
    ticket_id: str
    name: str
    email: str | None
    phone: str | None
    company: str | None
    tier: str | None
    ticket_type: str | None
    ticket_number: str
    order_number: str | None
    status: str
    notes: str | None
    admitted: bool


def load_details(session: Any, hit: Any) -> AttendeeDetails:
    """Everything the card shows about one search hit (runs on the DB worker)."""
    from app.store.models import Ticket

    ticket = session.scalars(select(Ticket).where(Ticket.id == hit.ticket_id)).first()
    attendee = ticket.attendee if ticket is not None else None
    ticket_type = ticket.ticket_type if ticket is not None else None
    return AttendeeDetails(
        ticket_id=hit.ticket_id,
        name=hit.attendee_name or "(no name)",
        email=hit.email,
        phone=attendee.phone if attendee is not None else None,
        company=hit.company,
        tier=hit.tier,
        ticket_type=ticket_type.name if ticket_type is not None else None,
        ticket_number=hit.ticket_number,
        order_number=hit.order_number,
        status=hit.status,
        notes=attendee.notes if attendee is not None else None,
        admitted=bool(hit.admitted),
    )


class AttendeeCard(QDialog):
    """Name, email, company, tier, status, notes and a big Check in button."""

    check_in = Signal(str)  # ticket_id

    def __init__(
        self, details: AttendeeDetails, direction: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.details = details
        self.setObjectName("attendeeCard")
        self.setStyleSheet(dialog_sheet())
        self.setWindowTitle(f"Guest — {details.name}")
        name = WrapLabel(details.name)
        name.setObjectName("cardName")
        form = QFormLayout()
        status = details.status.upper()
        if details.status == "valid":
            status = "ALREADY ADMITTED" if details.admitted else "Valid, not yet admitted"
        for label, value in (
            ("Email", details.email),
            ("Phone", details.phone),
            ("Company", details.company),
            (
                "Tier",
                (details.tier or "").upper()
                + (f" — {details.ticket_type}" if details.ticket_type else ""),
            ),
            ("Ticket", details.ticket_number),
            ("Order", details.order_number),
            ("Status", status),
        ):
            if value:
                # A long email or company ends in "…" (whole in the tooltip), never widening
                # the card past the screen; an email keeps its domain visible.
                mode = (
                    Qt.TextElideMode.ElideMiddle
                    if label == "Email"
                    else Qt.TextElideMode.ElideRight
                )
                field = ElidedLabel(value, mode)
                field.setObjectName("cardField")
                caption = QLabel(f"{label}:")
                caption.setObjectName("cardFieldName")
                form.addRow(caption, field)
        self.fields = form
        self.notes = WrapLabel(f"⚠  {details.notes}" if details.notes else "")
        self.notes.setObjectName("cardNotes")
        self.notes.setVisible(bool(details.notes))
        verb = "Check out" if direction == "out" else "Check in"
        self.check_in_button = QPushButton(f"{verb}  (Enter)")
        self.check_in_button.setObjectName("checkInButton")
        self.check_in_button.setDefault(True)
        self.check_in_button.setAutoDefault(True)
        self.check_in_button.clicked.connect(self._check_in)
        close = QPushButton("Close  (Esc)")
        close.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(name)
        layout.addLayout(form)
        layout.addWidget(self.notes)
        layout.addWidget(self.check_in_button)
        layout.addWidget(close)
        self.setTabOrder(self.check_in_button, close)
        self.check_in_button.setFocus()
        self.resize(560, 460)

    def _check_in(self) -> None:
        self.check_in.emit(self.details.ticket_id)
        self.accept()


class AnnulDialog(QDialog):
    """Undo an admission: who, and why (the reason goes into the log)."""

    confirmed = Signal(str, str)  # checkin_id, reason

    def __init__(self, checkin_id: str, who: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.checkin_id = checkin_id
        self.setObjectName("annulDialog")
        self.setStyleSheet(dialog_sheet())
        self.setWindowTitle("Undo admission")
        text = WrapLabel(
            f"Undo the admission of {who}? The scan stays in the log, marked as undone."
        )
        self.reason = QLineEdit()
        self.reason.setObjectName("annulReason")
        self.reason.setPlaceholderText("Why? e.g. wrong person, gate did not open")
        self.error = WrapLabel("")
        self.error.setObjectName("dialogError")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Undo admission")
        buttons.accepted.connect(self._confirm)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(self.reason)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.resize(620, 260)
        self.reason.setFocus()

    def _confirm(self) -> None:
        reason = self.reason.text().strip()
        if not reason:
            self.error.setText("Please give a reason — it is kept with the log.")
            return
        self.confirmed.emit(self.checkin_id, reason)
        self.accept()
