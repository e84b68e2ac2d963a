"""The organizer's privacy control: how long kiosks keep this event's guests' personal data.

One number of days after the event ends (0 to 365), or "each kiosk's setting". Saving changes
the event and queues it for upload (``app.store.retention.set_event_days``, on the DB worker);
every kiosk of the event gets it with its next pull and forgets names, emails and phones that
long after the event (counts and the check-in log stay).
"""

from __future__ import annotations

import logging
from typing import Any

from app.errors import explain
from app.ui.qt import QHBoxLayout, QLabel, QPushButton, QSpinBox, QWidget, Signal
from app.ui.tasks import run_db

log = logging.getLogger(__name__)

KIOSK_SETTING = -1  # the spin box's lowest value, shown as words: the event sets no number


class RetentionBox(QWidget):
    saved = Signal(object)  # the days saved (None: each kiosk's setting)
    said = Signal(str)  # a sentence for the screen's status line

    def __init__(self, ctx: Any) -> None:
        super().__init__()
        self.ctx = ctx
        self.label = QLabel("&Forget guests' details")
        self.label.setObjectName("orgRetention")
        self.days = QSpinBox()
        self.days.setRange(KIOSK_SETTING, 365)
        self.days.setSpecialValueText("as each kiosk is set")
        self.days.setSuffix(" days after the event")
        self.days.setAccessibleName("days after the event that kiosks forget guests' details")
        self.days.setToolTip(
            "Every kiosk of this event forgets the guests' names, emails and phones this many "
            "days after the event ends (counts and the check-in log stay). Reaches the kiosks "
            "with their next sync."
        )
        self.label.setBuddy(self.days)
        self.save_button = QPushButton("Save")
        self.save_button.setAccessibleName("save how long guests' details are kept")
        self.save_button.clicked.connect(self.save)
        self.days.setEnabled(False)  # until the event's number is read
        self.save_button.setEnabled(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.days)
        layout.addWidget(self.save_button)

    def load(self) -> None:
        """Read the event's number on the DB worker."""
        db, event_id = self.ctx.db, self.ctx.event_id

        def read() -> int | None:
            from app.store.models import Event

            with db.session() as session:
                event = session.get(Event, event_id)
                return event.retention_days if event is not None else None

        run_db(read, self._show, lambda exc: log.warning("retention days: %r", exc))

    def chosen(self) -> int | None:
        value = self.days.value()
        return None if value == KIOSK_SETTING else value

    def _show(self, days: int | None) -> None:
        self.days.setValue(KIOSK_SETTING if days is None else days)
        self.days.setEnabled(True)
        self.save_button.setEnabled(True)

    def save(self) -> None:
        db, event_id, days = self.ctx.db, self.ctx.event_id, self.chosen()

        def write() -> bool:
            from app.store.models import Event
            from app.store.retention import set_event_days

            with db.session() as session:
                event = session.get(Event, event_id)
                if event is None:
                    raise LookupError("The event is not in this device's data.")
                return set_event_days(session, event, days)

        self.save_button.setEnabled(False)
        run_db(write, lambda changed: self._saved(days, changed), self._not_saved)

    def _saved(self, days: int | None, changed: bool) -> None:
        self.save_button.setEnabled(True)
        if changed:
            self.ctx.notify("events", "outbox")  # the sync runner uploads it at once
        words = "as each kiosk is set" if days is None else f"{days} days after the event"
        self.said.emit(
            f"Saved: kiosks forget guests' details {words} (they get it with their next sync)."
            if changed
            else f"Already so: kiosks forget guests' details {words}."
        )
        self.saved.emit(days)

    def _not_saved(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        log.warning("retention days not saved: %r", exc)
        self.said.emit(f"Not saved: {explain(exc)}")
