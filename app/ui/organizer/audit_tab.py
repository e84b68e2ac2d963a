"""The organizer's audit trail: who scanned, annulled, marked an arrival or edited the lineup.

Filters (staff member, kind, time window) narrow the rows of ``app.store.audit.audit_log``;
the table shows them newest first in the event's local time, and "Export CSV…" writes exactly
the rows on screen with ``write_audit_csv``. Reads run on a worker thread of
``app.ui.tasks`` (a session of their own, like the organizer's charts), and only while the tab
is on screen: a change of the watched tables while it is hidden marks it stale, and it reads
again when shown.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from app.errors import explain
from app.store.audit import (
    AUDIT_COLUMNS,
    NO_STAFF,
    AuditRow,
    StaffMember,
    audit_log,
    audit_staff,
    write_audit_csv,
)
from app.store.calltimes_store import event_tz
from app.store.models import Event
from app.store.types import utcnow
from app.ui.organizer.live_report import LiveReport
from app.ui.qt import (
    QAbstractItemView,
    QAbstractTableModel,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QKeySequence,
    QLabel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QPushButton,
    QShortcut,
    QSizePolicy,
    Qt,
    QTableView,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from app.ui.tasks import run_task

log = logging.getLogger(__name__)

MOVING_WINDOW_SECONDS = 30.0  # "last 15 minutes" moves on even when nothing is written
EVERYONE = "Everyone"
NO_ONE_LABEL = "No one signed in"
KIND_CHOICES: tuple[tuple[str, str | None], ...] = (
    ("All kinds", None),
    ("Scans", "scan"),
    ("Annulments", "annul"),
    ("Arrivals", "arrival"),
    ("Lineup edits", "lineup"),
)
WINDOW_CHOICES: tuple[tuple[str, str], ...] = (
    ("Whole event", "all"),
    ("Last hour", "hour"),
    ("Last 15 minutes", "15min"),
    ("Today", "today"),
)
_SPANS = {"hour": timedelta(hours=1), "15min": timedelta(minutes=15)}

STYLE = """
#auditTab { background: #f4f5f7; }
#auditTab QLabel { color: #1a1a1a; font-size: 15px; }
#auditTab QLabel#auditTitle { font-size: 20px; font-weight: bold; }
#auditTab QLabel#auditStatus { color: #3d434b; }
#auditTab QPushButton, #auditTab QComboBox { font-size: 15px; padding: 5px 12px; }
#auditTab QTableView { font-size: 14px; background: #ffffff; color: #1a1a1a;
    alternate-background-color: #f0f2f5; gridline-color: #d0d4da;
    selection-background-color: #2f6fcf; selection-color: #ffffff; }
#auditTab QHeaderView::section { font-size: 14px; font-weight: bold; color: #1a1a1a;
    background: #e4e7eb; padding: 4px; border: 0; }
"""


@dataclass(frozen=True)
class AuditFilters:
    staff_id: str | None  # None: everyone; NO_STAFF: no one signed in
    kind: str | None
    window: str  # a key of WINDOW_CHOICES


@dataclass(frozen=True)
class AuditPage:
    """One read: the rows (oldest first, as ``audit_log`` gives them) and what they came from."""

    filters: AuditFilters
    rows: list[AuditRow]
    staff: list[StaffMember]
    timezone: str
    read_at: datetime


def window_since(window: str, now: datetime, tz: tzinfo) -> datetime | None:
    """Where a time window starts: None for the whole event; "today" is the event's day."""
    if window in _SPANS:
        return now - _SPANS[window]
    if window == "today":
        return now.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    return None


def load_audit(db: Any, event_id: str, filters: AuditFilters, now: datetime) -> AuditPage:
    """Read the filtered trail, the staff list and the event's timezone (on a worker thread)."""
    with db.session() as session:
        event = session.get(Event, event_id)
        timezone = (event.timezone if event is not None else None) or "UTC"
        rows = audit_log(
            session,
            event_id,
            staff_id=filters.staff_id,
            kind=filters.kind,
            since=window_since(filters.window, now, event_tz(timezone)),
        )
        return AuditPage(filters, rows, audit_staff(session, event_id), timezone, now)


def _row_key(row: AuditRow) -> tuple[str, str, datetime]:
    return (row.kind, row.checkin_id or row.subject_id or "", row.at)


class AuditModel(QAbstractTableModel):
    """The rows newest first; the time column in the event's local time."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[AuditRow] = []
        self.tz: tzinfo = event_tz(None)
        self.tz_name = "UTC"

    def set_rows(self, rows: list[AuditRow], tz_name: str) -> None:
        self.beginResetModel()
        self.rows = list(reversed(rows))
        self.tz, self.tz_name = event_tz(tz_name), tz_name
        self.endResetModel()

    def row_of(self, key: tuple[str, str, datetime]) -> int:
        return next((i for i, r in enumerate(self.rows) if _row_key(r) == key), -1)

    def rowCount(  # noqa: N802
        self,
        parent: QModelIndex | QPersistentModelIndex = QModelIndex(),  # noqa: B008
    ) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(  # noqa: N802
        self,
        parent: QModelIndex | QPersistentModelIndex = QModelIndex(),  # noqa: B008
    ) -> int:
        return 0 if parent.isValid() else len(AUDIT_COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        return f"Time ({self.tz_name})" if section == 0 else AUDIT_COLUMNS[section]

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ):
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        if role in (
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.ToolTipRole,  # the whole text of a cell cut short on screen
            Qt.ItemDataRole.AccessibleTextRole,
        ):
            return self.text(index.row(), index.column())
        return None

    def text(self, row: int, column: int) -> str:
        r = self.rows[row]
        if column == 0:
            return r.at.astimezone(self.tz).strftime("%Y-%m-%d %H:%M:%S")
        values = (
            r.staff_name,
            r.role,
            r.what,
            r.subject_id,
            r.gate,
            r.device_name,
            r.reason,
            r.checkin_id,
        )
        return values[column - 1] or ""


class AuditTab(LiveReport):
    """Filters, the audit table, a status line; F5 refreshes, Ctrl+Shift+E exports CSV."""

    WATCHED_TABLES = frozenset({"checkins", "call_times", "runway_appearances", "staff"})
    WHAT = "the audit trail"
    exported = Signal(str)  # the path written

    def __init__(self, ctx: Any, clock: Callable[[], datetime] | None = None) -> None:
        super().__init__(ctx, MOVING_WINDOW_SECONDS)
        self.setObjectName("auditTab")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.clock = clock or utcnow
        self.page: AuditPage | None = None
        self._build()
        self.setStyleSheet(STYLE)

    # --- layout -----------------------------------------------------------------------------
    def _build(self) -> None:
        self.title = QLabel("Audit trail: who did what")
        self.title.setObjectName("auditTitle")
        self.staff = self._combo("staff member", [(EVERYONE, None), (NO_ONE_LABEL, NO_STAFF)])
        self.kind = self._combo("kind of entry", KIND_CHOICES)
        self.when = self._combo("time window", WINDOW_CHOICES)
        self.refresh_button = QPushButton("Refresh (F5)")
        self.refresh_button.clicked.connect(self.refresh)
        self.csv_button = QPushButton("Export CSV… (Ctrl+Shift+E)")
        self.csv_button.setToolTip("Save the entries shown, as filtered, for a spreadsheet")
        self.csv_button.clicked.connect(self.export_csv)
        for keys, action in (("F5", self.refresh), ("Ctrl+Shift+E", self.export_csv)):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(action)
        self.status = QLabel("Opens when shown")
        self.status.setObjectName("auditStatus")
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.status.setAccessibleName("audit trail status")
        self.model = AuditModel()
        self.table = self._build_table()

        filters = QHBoxLayout()
        for text, combo in (("&Who:", self.staff), ("&Kind:", self.kind), ("&Time:", self.when)):
            label = QLabel(text)
            label.setBuddy(combo)  # Alt+W / Alt+K / Alt+T reach the filter
            filters.addWidget(label)
            filters.addWidget(combo)
        filters.addStretch(1)
        filters.addWidget(self.refresh_button)
        filters.addWidget(self.csv_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.addWidget(self.title)
        layout.addLayout(filters)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        order = [self.staff, self.kind, self.when, self.refresh_button, self.csv_button, self.table]
        for first, second in zip(order, order[1:], strict=False):
            QWidget.setTabOrder(first, second)

    def _combo(self, name: str, choices: Any) -> QComboBox:
        combo = QComboBox()
        for text, data in choices:
            combo.addItem(text, data)
        combo.setAccessibleName(name)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        combo.currentIndexChanged.connect(self._filters_changed)
        return combo

    def _build_table(self) -> QTableView:
        table = QTableView()
        table.setModel(self.model)
        table.setAccessibleName("audit trail entries")
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setTabKeyNavigation(False)  # Tab leaves the table: keyboard users are not stuck
        table.setAlternatingRowColors(True)
        table.setWordWrap(False)
        table.setTextElideMode(Qt.TextElideMode.ElideRight)
        table.verticalHeader().setVisible(False)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in enumerate((170, 170, 90, 280, 230, 120, 110, 160)):
            table.setColumnWidth(column, width)
        return table

    # --- filters ----------------------------------------------------------------------------
    def filters(self) -> AuditFilters:
        return AuditFilters(
            self.staff.currentData(), self.kind.currentData(), self.when.currentData() or "all"
        )

    def _filters_changed(self, _index: int) -> None:
        if self.isVisible():
            self.refresh()
        else:
            self._stale = True

    def _fill_staff(self, members: list[StaffMember]) -> None:
        """The staff choices of the latest read, keeping the one chosen."""
        chosen = self.staff.currentData()
        self.staff.blockSignals(True)
        try:
            while self.staff.count() > 2:  # Everyone and No one signed in stay
                self.staff.removeItem(1)
            for i, member in enumerate(members, start=1):
                label = member.label + (" — disabled" if member.disabled else "")
                self.staff.insertItem(i, label, member.id)
            found = self.staff.findData(chosen)
            self.staff.setCurrentIndex(max(found, 0))
        finally:
            self.staff.blockSignals(False)
        if chosen is not None and found < 0:  # that member is gone: show everyone's, as chosen
            QTimer.singleShot(0, self.refresh)

    def _described(self, filters: AuditFilters, staff: list[StaffMember]) -> list[str]:
        """The filters that narrow the rows, in words."""
        words = []
        if filters.staff_id == NO_STAFF:
            words.append("no one signed in")
        elif filters.staff_id is not None:
            named = {m.id: m.label for m in staff}
            words.append(named.get(filters.staff_id, "a former staff member"))
        words += [text.lower() for text, key in KIND_CHOICES if key and key == filters.kind]
        words += [
            text.lower() for text, key in WINDOW_CHOICES if key != "all" and key == filters.window
        ]
        return words

    # --- refreshing -------------------------------------------------------------------------
    # --- refreshing (app.ui.organizer.live_report) -----------------------------------------
    def first_focus(self) -> QWidget:
        return self.staff  # the first filter; F5 and Ctrl+Shift+E work at once

    def has_report(self) -> bool:
        return self.page is not None

    def periodic_refresh(self) -> None:
        if self.filters().window != "all":  # only a moving window changes with the clock
            self.refresh()

    def read_job(self) -> Callable[[], AuditPage]:
        db, event_id, filters, now = self.ctx.db, self.ctx.event_id, self.filters(), self.clock()
        return lambda: load_audit(db, event_id, filters, now)

    def draw(self, page: AuditPage) -> None:
        self.page = page
        self._fill_staff(page.staff)
        self._show_rows(page)
        self.status.setText(self._summary(page))

    def _show_rows(self, page: AuditPage) -> None:
        """New rows in, the person's place in the list kept (the row on top, the current one)."""
        model, table = self.model, self.table
        top = table.indexAt(QPoint(0, 0)).row()
        top_key = _row_key(model.rows[top]) if top > 0 else None
        current = table.currentIndex()
        current_key = _row_key(model.rows[current.row()]) if current.isValid() else None
        model.set_rows(page.rows, page.timezone)
        table.resizeColumnToContents(0)  # the header names the timezone, however long
        if top_key is not None and (row := model.row_of(top_key)) >= 0:
            table.scrollTo(model.index(row, 0), QAbstractItemView.ScrollHint.PositionAtTop)
        if current_key is not None and (row := model.row_of(current_key)) >= 0:
            table.setCurrentIndex(model.index(row, current.column()))

    def _summary(self, page: AuditPage) -> str:
        n = len(page.rows)
        parts = [f"{n:,} {'entry' if n == 1 else 'entries'}"]
        narrowed = self._described(page.filters, page.staff)
        if narrowed:
            parts.append("filtered to " + ", ".join(narrowed))
        if n == 0:
            parts.append("nothing recorded yet" if not narrowed else "try a wider filter")
        else:
            parts.append("showing the newest first")
        parts.append(f"times in {page.timezone}")
        return " · ".join(parts)

    # --- export -----------------------------------------------------------------------------
    def _default_name(self) -> str:
        stamp = self.clock().astimezone(self.model.tz).strftime("%Y%m%d-%H%M")
        return f"audit-trail-{stamp}.csv"

    def export_csv(self) -> None:
        """Ask where (on the UI thread), then write the rows on screen on a worker thread."""
        page = self.page
        if page is None or self.busy or page.filters != self.filters():
            self.status.setText(
                "Still reading the entries for these filters: export again in a moment."
            )
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Export the audit trail", self._default_name(), "CSV (*.csv)"
        )
        if not path:
            return
        rows = page.rows
        self.status.setText(f"Saving {len(rows):,} entries to {path}…")
        run_task(
            lambda: write_audit_csv(rows, path),
            lambda written: self._saved(written, len(rows)),
            lambda exc: self._not_saved(path, exc),
        )

    def _saved(self, path: Path, count: int) -> None:
        if not self.closed:
            self.status.setText(f"Saved {count:,} entries to {path}")
            self.exported.emit(str(path))

    def _not_saved(self, path: str, exc: BaseException) -> None:
        log.warning("audit export to %s failed: %r", path, exc)
        if not self.closed:
            self.status.setText(f"Could not save {path}: {explain(exc)}")
