"""The event at the top of the door: its name and date, and a picker when the replica holds
several events (a kiosk provisioned for a whole season, say)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from app.ui.door.widgets import ElidedLabel
from app.ui.qt import (
    QComboBox,
    QFontMetrics,
    QHBoxLayout,
    QSize,
    QSizePolicy,
    QStyle,
    QStyleOptionComboBox,
    QStylePainter,
    Qt,
    QWidget,
    Signal,
)

STYLE = """
#eventName { font-size: 24px; font-weight: bold; color: #ffffff; }
#eventWhen { font-size: 18px; color: #c8d0da; }
#staffOnDuty { font-size: 18px; font-weight: bold; color: #ffffff; }
#eventPicker {
    background: #1f252d;
    color: #ffffff;
    border: 2px solid #3a434f;
    border-radius: 6px;
    padding: 0px 8px;
    font-size: 20px;
    font-weight: bold;
}
#eventPicker:focus { border: 3px solid #ffbf00; }
#eventPicker QAbstractItemView {
    background: #1f252d;
    color: #ffffff;
    font-size: 20px;
    selection-background-color: #2f6fcf;
    selection-color: #ffffff;
}
"""


@dataclass(frozen=True)
class EventFacts:
    id: str
    name: str
    starts_at: datetime | None
    ends_at: datetime | None
    timezone: str
    venue: str | None

    def when(self) -> str:
        """'Wed 2 Dec 2026 · 20:00', in the event's timezone."""
        if self.starts_at is None:
            return ""
        start = self.starts_at.astimezone(self._tz())
        return f"{start:%a} {start.day} {start:%b %Y}  ·  {start:%H:%M}"

    def details(self) -> str:
        """The tooltip: name, start to end, venue."""
        lines = [self.name]
        if self.starts_at is not None:
            tz = self._tz()
            span = f"{self.starts_at.astimezone(tz):%a %d %b %Y %H:%M}"
            if self.ends_at is not None:
                span += f" – {self.ends_at.astimezone(tz):%a %d %b %H:%M} ({self.timezone})"
            lines.append(span)
        if self.venue:
            lines.append(self.venue)
        return "\n".join(lines)

    def _tz(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.timezone or "UTC")
        except (KeyError, ValueError):
            return ZoneInfo("UTC")

    def choice(self) -> str:
        """One line of the picker: name, day and time (the picker stands for both labels)."""
        return f"{self.name}  ·  {self.when()}" if self.starts_at is not None else self.name


def load_events(session: Any) -> list[EventFacts]:
    """Every event in the replica, soonest first (DB worker)."""
    from sqlalchemy import select

    from app.store.models import Event, Venue

    rows = session.execute(
        select(Event, Venue.name, Venue.city)
        .outerjoin(Venue, Venue.id == Event.venue_id)
        .order_by(Event.starts_at, Event.name)
    ).all()
    return [
        EventFacts(
            id=event.id,
            name=event.name,
            starts_at=event.starts_at,
            ends_at=event.ends_at,
            timezone=event.timezone or "UTC",
            venue=", ".join(p for p in (venue, city) if p) or None,
        )
        for event, venue, city in rows
    ]


class HeaderLabel(ElidedLabel):
    """As wide as its text when there is room, ending in "…" when there is not."""

    def __init__(self) -> None:
        super().__init__()
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)

    def setText(self, text: str) -> None:  # noqa: N802
        super().setText(text)
        self.updateGeometry()  # a new width wanted: the layout asks sizeHint() again

    def sizeHint(self) -> QSize:  # noqa: N802
        width = QFontMetrics(self.font()).horizontalAdvance(self.text()) + 4
        return QSize(width, super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(min(self.sizeHint().width(), 60), super().minimumSizeHint().height())


class ElidedCombo(QComboBox):
    """A combo box whose closed face ends in "…" when narrower than its text (Qt clips it)."""

    def paintEvent(self, _event) -> None:  # noqa: N802
        painter = QStylePainter(self)
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, option)
        field = self.style().subControlRect(
            QStyle.ComplexControl.CC_ComboBox,
            option,
            QStyle.SubControl.SC_ComboBoxEditField,
            self,
        )
        option.currentText = QFontMetrics(self.font()).elidedText(
            option.currentText, Qt.TextElideMode.ElideRight, max(field.width() - 8, 0)
        )
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, option)


class EventHeader(QWidget):
    """Name and date of the current event, on one line; ``event_chosen(id)`` when a person
    picks another. With several events in the replica the name itself is the picker."""

    event_chosen = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.setStyleSheet(STYLE)
        self.event_id: str | None = None
        self.name = HeaderLabel()
        self.name.setObjectName("eventName")
        self.name.setAccessibleName("event")
        self.when = HeaderLabel()
        self.when.setObjectName("eventWhen")
        self.picker = ElidedCombo()
        self.picker.setObjectName("eventPicker")
        self.picker.setAccessibleName("choose the event")
        self.picker.setToolTip("This replica holds several events: choose the one at this door")
        # As wide as the header allows, up to its longest line (set in show_events); a long
        # name ends in "…". The open list is as wide as its longest line.
        self.picker.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.picker.setMinimumContentsLength(16)
        self.picker.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.picker.hide()
        self.picker.activated.connect(self._picked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(18)
        layout.addWidget(self.name)
        layout.addWidget(self.picker, 1)
        layout.addWidget(self.when, 1)
        self.staff = HeaderLabel()
        self.staff.setObjectName("staffOnDuty")
        self.staff.setAccessibleName("staff signed in")
        self.staff.hide()
        layout.addWidget(self.staff)

    def show_staff(self, text: str) -> None:
        """Who is signed in at this door ("Staff: Camille Dubois (door)"), or "" for nobody."""
        self.staff.setText(text)
        self.staff.setVisible(bool(text))

    def show_events(self, events: list[EventFacts], current_id: str) -> None:
        self.event_id = current_id
        current = next((e for e in events if e.id == current_id), None)
        self.name.setText(current.name if current else "Unknown event")
        self.when.setText(current.when() if current else "")
        self.setToolTip(current.details() if current else "")
        self.picker.blockSignals(True)
        self.picker.clear()
        for event in events:
            self.picker.addItem(event.choice(), event.id)
        index = self.picker.findData(current_id)
        self.picker.setCurrentIndex(max(index, 0))
        self.picker.blockSignals(False)
        several = len(events) > 1
        self.picker.setVisible(several)
        self.name.setVisible(not several)
        self.when.setVisible(not several)
        if several:
            metrics = QFontMetrics(self.picker.font())
            widest = max(metrics.horizontalAdvance(e.choice()) for e in events)
            self.picker.setMaximumWidth(widest + 56)  # the text, its padding and the arrow

    def keep_current(self) -> None:
        """Show the current event in the picker again (a change waits for the PIN, or the
        window reopening on the chosen event)."""
        self.picker.blockSignals(True)
        self.picker.setCurrentIndex(max(self.picker.findData(self.event_id), 0))
        self.picker.blockSignals(False)

    def _picked(self, index: int) -> None:
        event_id = self.picker.itemData(index)
        if event_id and event_id != self.event_id:
            self.event_chosen.emit(event_id)
