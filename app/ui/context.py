"""What every screen gets: settings, the open database, the event, and a change feed."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.config import Config
from app.store.db import Database
from app.ui.qt import QObject, Signal


class DataEvents(QObject):
    """Views refresh selectively: ``changed`` carries the set of table names that changed."""

    changed = Signal(object)  # set[str]


@dataclass
class AppContext:
    config: Config
    db: Database
    event_id: str
    device_id: str
    events: DataEvents = field(default_factory=DataEvents)
    # Background services started by the app (sync engine, alert scheduler); stopped at exit.
    services: list = field(default_factory=list)

    def notify(self, *tables: str) -> None:
        """Tell every view that rows in ``tables`` changed (call on the UI thread)."""
        self.events.changed.emit(set(tables))
