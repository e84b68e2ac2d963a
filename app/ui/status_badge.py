"""The big online/offline badge: readable from across the door, in words and colour.

ONLINE (green), VENUE HUB (green: no internet, but the doors share one list through the
hub), CONNECTING (amber), OFFLINE (red), SYNC PROBLEM (red) or OFFLINE ONLY (slate: no sync
server set up), with the number of changes waiting and the age of the last
sync underneath. It shows QueueWatch's status, so it counts exactly what the status bar and
the Sync tab count.
"""

from __future__ import annotations

from datetime import datetime

from app.store.types import utcnow
from app.sync.status import SyncStatus, ago, plural
from app.ui.qt import QFrame, QHBoxLayout, QLabel, Qt

# state: (background, headline); white text on each background is over 4.5:1.
LOOKS = {
    "ok": ("#0b6e2f", "● ONLINE"),
    "working": ("#8a5300", "◌ CONNECTING"),
    "offline": ("#b00020", "✕ OFFLINE"),
    "problem": ("#b00020", "⚠ SYNC PROBLEM"),
    "local": ("#3b4654", "✕ OFFLINE ONLY"),
    # joined to a venue hub, no internet: the doors still share one list (green: go on)
    "hub": ("#0b6e2f", "● VENUE HUB"),
}


def badge_words(status: SyncStatus, now: datetime) -> tuple[str, str, str]:
    """(state, headline, detail) of ``status``: the detail is the queue and the last sync."""
    state = status.level
    if state == "working" and status.online:
        state = "ok"  # connected, a change on its way up: still online
    if state == "problem" and status.online is False:
        state = "offline"  # the first thing a door needs to know
    if status.backend is None:
        queue = plural(status.pending, "local change") if status.pending else "no local changes"
        return state, LOOKS[state][1], queue
    queue = f"{status.pending} waiting" if status.pending else "nothing waiting"
    last = status.last_sync_at
    synced = f"synced {ago(last, now)}" if last is not None else "never synced"
    routes = status.routes
    if routes is not None and routes.hub and not routes.internet and state in ("ok", "working"):
        return "hub", LOOKS["hub"][1], f"no internet · {queue} · {synced}"
    return state, LOOKS[state][1], f"{queue} · {synced}"


class StatusBadge(QFrame):
    """Shows a QueueWatch on one line: a large state word, then the queue and the last sync."""

    def __init__(self, watch: object | None = None) -> None:
        super().__init__()
        self.setObjectName("statusBadge")
        self.setAccessibleName("connection and upload queue")
        self.state = ""
        self.status: SyncStatus | None = None
        self.headline = QLabel("…")
        self.headline.setObjectName("badgeHeadline")
        self.detail = QLabel("reading the upload queue")
        self.detail.setObjectName("badgeDetail")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(14, 2, 14, 2)
        layout.setSpacing(12)
        layout.addWidget(self.headline, 0, Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(self.detail, 0, Qt.AlignmentFlag.AlignVCenter)
        self._paint("local")
        if watch is not None:
            watch.changed.connect(self.show_status)
            watch.tick.connect(self._tick)
            if watch.status is not None:
                self.show_status(watch.status)

    def show_status(self, status: SyncStatus) -> None:
        self.status = status
        self._render()

    def _tick(self) -> None:
        if self.status is not None:
            self._render()

    def _render(self) -> None:
        state, headline, detail = badge_words(self.status, utcnow())
        self.headline.setText(headline)
        self.detail.setText(detail)
        if self.status.backend is None:
            self.setToolTip(f"No sync server is set up: {detail}, kept on this computer")
        else:
            self.setToolTip(self.status.summary())  # the status bar's words, in full
        if state != self.state:
            self._paint(state)

    def _paint(self, state: str) -> None:
        self.state = state
        background = LOOKS[state][0]
        self.setStyleSheet(
            f"#statusBadge {{ background: {background}; border-radius: 10px; }}"
            "#badgeHeadline { color: #ffffff; font-size: 24px; font-weight: bold; }"
            "#badgeDetail { color: #ffffff; font-size: 18px; font-weight: bold; }"
        )
