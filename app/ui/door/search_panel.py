"""Find a guest by name, email, company, order or ticket number, as you type.

Queries run on the DB worker, debounced; only the answer to the latest query is shown.
"""

from __future__ import annotations

from typing import Any

from app.ui.door.widgets import ElidedLabel
from app.ui.qt import (
    QEvent,
    QKeyEvent,
    QKeySequence,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from app.ui.tasks import run_db

DEBOUNCE_MS = 120
TICKET_ROLE = Qt.ItemDataRole.UserRole


def hit_marker(hit: Any) -> str:
    """ "ADMITTED", "CANCELLED", "REFUNDED"... or "" for a valid ticket not yet used."""
    if hit.status and hit.status != "valid":
        return hit.status.upper()
    return "ADMITTED" if hit.admitted else ""


def describe_hit(hit: Any) -> str:
    """One line per result: the marker first (a long name or company is cut at the end of the
    line, never the marker), then name, company, tier, ticket number."""
    parts = [hit_marker(hit), hit.attendee_name or "(no name)"]
    if getattr(hit, "company", None):
        parts.append(hit.company)
    if hit.tier:
        parts.append(hit.tier.upper())
    parts.append(f"#{hit.ticket_number}")
    return "  ·  ".join(p for p in parts if p)


class SearchBox(QLineEdit):
    """Down arrow moves into the results; the rest is a normal line edit."""

    down = Signal()

    def event(self, event) -> bool:  # noqa: N802 (Qt naming)
        # A line edit claims Ctrl+Z for its own text undo; at the door Ctrl+Z means
        # "undo the last admission", so let the door's shortcut have it.
        if event.type() == QEvent.Type.ShortcutOverride and event.matches(
            QKeySequence.StandardKey.Undo
        ):
            event.ignore()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Down:
            self.down.emit()
            return
        super().keyPressEvent(event)


class SearchPanel(QWidget):
    """A search box and its results; ``chosen(hit)`` on Enter or double-click."""

    chosen = Signal(object)  # TicketHit
    searched = Signal(str, int)  # query text, number of hits (after the results are shown)

    def __init__(self, db: Any, event_id: str) -> None:
        super().__init__()
        self.db = db
        self.event_id = event_id
        self._seq = 0
        self._shown_seq = 0
        self._choose_when_shown = False
        self.hits: list[Any] = []
        self.allowed = True  # False in a locked kiosk with no staff member signed in
        self.box = SearchBox()
        self.box.setObjectName("searchBox")
        self.box.setPlaceholderText("Search by name, email, company, order or ticket number (F2)")
        self.box.setClearButtonEnabled(True)
        self.box.setAccessibleName("search guests")
        # Elided: "No guest matches “<a 190-character code>”" must not widen the window.
        self.status = ElidedLabel("")
        self.status.setObjectName("searchStatus")
        self.results = QListWidget()
        self.results.setObjectName("searchResults")
        self.results.setAccessibleName("search results")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.box)
        layout.addWidget(self.status)
        layout.addWidget(self.results, 1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self._run_query)
        self.box.textChanged.connect(lambda _t: self._timer.start())
        self.box.returnPressed.connect(self._enter_pressed)
        self.box.down.connect(self._focus_results)
        self.results.itemActivated.connect(lambda _item: self._choose_current())
        self.results.itemDoubleClicked.connect(lambda _item: self._choose_current())
        self.setTabOrder(self.box, self.results)

    def set_allowed(self, allowed: bool, why: str = "") -> None:
        """Searching on (a person may look guests up) or off: the box stays (it keeps the
        keyboard for the door's shortcuts) but takes no text, and ``why`` says how to get it
        back ("Staff sign-in needed to search (F9)")."""
        if allowed == self.allowed and (allowed or self.status.text() == why):
            return
        self.allowed = allowed
        self.clear()
        self.box.setReadOnly(not allowed)
        self.results.setEnabled(allowed)
        self.box.setPlaceholderText(
            "Search by name, email, company, order or ticket number (F2)" if allowed else why
        )
        self.status.setText("" if allowed else why)

    def clear(self) -> None:
        self.box.clear()
        self.results.clear()
        self.hits = []
        self.status.setText("")

    def refresh(self) -> None:
        """Run the current query again (e.g. after a check-in changed a result's status)."""
        if self.box.text().strip():
            self._run_query()

    def _run_query(self) -> None:
        from app.store.search import search_tickets

        text = self.box.text().strip() if self.allowed else ""
        self._seq += 1
        seq = self._seq
        if not text:
            self._show(seq, text, [])
            return
        db, event_id = self.db, self.event_id

        def work() -> list[Any]:
            with db.session() as session:
                return search_tickets(session, event_id, text, limit=50)

        run_db(work, lambda hits: self._show(seq, text, hits), lambda exc: self._failed(seq, exc))

    def _show(self, seq: int, text: str, hits: list[Any]) -> None:
        if seq != self._seq:
            return  # an older query answered late: the newer one wins
        self._shown_seq = seq
        self.hits = hits
        self.results.clear()
        for hit in hits:
            item = QListWidgetItem(describe_hit(hit))
            item.setData(TICKET_ROLE, hit)
            self.results.addItem(item)
        if hits:
            self.results.setCurrentRow(0)
        if not text:
            if self.allowed:  # else the sentence saying how to get search back stays
                self.status.setText("")
        elif not hits:
            self.status.setText(f"No guest matches “{text}”.")
        else:
            more = " (showing the first 50)" if len(hits) >= 50 else ""
            self.status.setText(f"{len(hits)} found{more} — Enter opens the first, ↓ to choose.")
        self.searched.emit(text, len(hits))
        if self._choose_when_shown:
            self._choose_when_shown = False
            self._choose_current()

    def _failed(self, seq: int, exc: BaseException) -> None:
        if seq == self._seq:
            from app.errors import explain

            self.status.setText(f"Search failed: {explain(exc)}")

    def _enter_pressed(self) -> None:
        # Enter typed faster than the debounce: search now, open the first hit when it answers.
        if self._timer.isActive():
            self._timer.stop()
            self._choose_when_shown = True
            self._run_query()
        elif self._shown_seq != self._seq:
            self._choose_when_shown = True
        else:
            self._choose_current()

    def _focus_results(self) -> None:
        if self.results.count():
            self.results.setFocus()
            if self.results.currentRow() < 0:
                self.results.setCurrentRow(0)

    def _choose_current(self) -> None:
        if not self.allowed:
            return
        item = self.results.currentItem() or (
            self.results.item(0) if self.results.count() else None
        )
        if item is not None:
            self.chosen.emit(item.data(TICKET_ROLE))
