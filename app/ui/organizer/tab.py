"""The organizer's view: arrivals, people inside, gates and double entries, as pictures.

Drawn from the local replica, so it works offline. It refreshes itself while on screen: when
check-ins land (the app's change feed: this kiosk's scans and the ones sync pulls in) and every
``REFRESH_SECONDS`` for the clock and other processes' writes. The query runs on a worker thread
of ``app.ui.tasks`` (a read-only session beside the serial DB worker, so a report never queues
in front of a door scan); the UI thread only draws. The charts (QtCharts) are built on the
first showing, so opening the app never waits for them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from app.errors import explain
from app.store.arrivals import OrganizerReport, load_report, write_report_csv
from app.ui.organizer.live_report import LiveReport
from app.ui.qt import (
    QApplication,
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QKeySequence,
    QLabel,
    QPushButton,
    QShortcut,
    QSizePolicy,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

log = logging.getLogger(__name__)

REFRESH_SECONDS = 30.0

STYLE = """
#organizerTab { background: #f4f5f7; }
#organizerTab QLabel { color: #1a1a1a; }
#organizerTab QLabel#orgTitle { font-size: 20px; font-weight: bold; }
#organizerTab QLabel#orgStatus { font-size: 15px; color: #3d434b; }
#organizerTab QLabel#orgEmpty { font-size: 16px; color: #1a1a1a; background: #fff3b0;
    border-radius: 6px; padding: 6px 10px; }
#organizerTab QPushButton, #organizerTab QComboBox { font-size: 15px; padding: 5px 12px; }
#organizerTab QSpinBox { font-size: 15px; padding: 4px 6px; }
#organizerTab QLabel#orgRetention { font-size: 15px; }
QFrame#orgTile { background: #ffffff; border: 1px solid #d0d4da; border-radius: 8px; }
QFrame#orgTile QLabel#tileCaption { font-size: 14px; font-weight: bold; color: #3d434b; }
QFrame#orgTile QLabel#tileValue { font-size: 34px; font-weight: bold; color: #1a1a1a; }
QFrame#orgTile QLabel#tileNote { font-size: 14px; color: #3d434b; }
QFrame#orgTile[alert="true"] { background: #fdecea; border: 2px solid #b3261e; }
QFrame#orgTile[alert="true"] QLabel#tileValue { color: #8c1d18; }
#organizerTab QTableWidget { font-size: 14px; background: #ffffff; color: #1a1a1a; }
#organizerTab QHeaderView::section { font-size: 14px; font-weight: bold; color: #1a1a1a;
    background: #e4e7eb; padding: 4px; border: 0; }
"""


class Tile(QFrame):
    """One figure in large type, a caption above and a note below."""

    def __init__(self, caption: str) -> None:
        super().__init__()
        self.setObjectName("orgTile")
        self.caption = QLabel(caption.upper())
        self.caption.setObjectName("tileCaption")
        self.value = QLabel("—")
        self.value.setObjectName("tileValue")
        self.note = QLabel("")
        self.note.setObjectName("tileNote")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 6, 12, 6)
        layout.setSpacing(0)
        for label in (self.caption, self.value, self.note):
            # Long gate names or notes are cut at the tile's edge, never widen the window.
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            layout.addWidget(label)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set(self, value: str, note: str = "", alert: bool = False) -> None:
        self.value.setText(value)
        self.note.setText(note)
        self.setAccessibleName(f"{self.caption.text()}: {value}. {note}")
        if bool(self.property("alert")) != alert:
            self.setProperty("alert", alert)
            self.style().unpolish(self)
            self.style().polish(self)


class OrganizerTab(LiveReport):
    """Arrivals over time, people inside, gates and double entries; PNG and CSV export."""

    WATCHED_TABLES = frozenset({"checkins", "tickets", "ticket_types", "events", "devices"})
    WHAT = "the arrivals"

    def __init__(
        self,
        ctx: Any,
        clock: Callable[[], datetime] | None = None,
        refresh_seconds: float = REFRESH_SECONDS,
    ) -> None:
        super().__init__(ctx, refresh_seconds)
        self.setObjectName("organizerTab")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.clock = clock
        self.report: OrganizerReport | None = None
        self.charts: list[Any] = []
        self._build()
        self.setStyleSheet(STYLE)

    # --- layout -----------------------------------------------------------------------------
    def _build(self) -> None:
        self.title = QLabel("Arrivals")
        self.title.setObjectName("orgTitle")
        self.status = QLabel("Opens when shown")
        self.status.setObjectName("orgStatus")
        self.group_by = QComboBox()
        self.group_by.addItem("Stack by tier", "tier")
        self.group_by.addItem("Stack by ticket type", "ticket_type")
        self.group_by.setAccessibleName("stack arrivals by")
        self.group_by.currentIndexChanged.connect(lambda _i: self.refresh())
        self.refresh_button = QPushButton("Refresh (F5)")
        self.refresh_button.clicked.connect(self.refresh)
        self.png_button = QPushButton("Export PNG… (Ctrl+E)")
        self.png_button.setToolTip("Save the charts as a picture")
        self.png_button.clicked.connect(self.export_png)
        self.csv_button = QPushButton("Export CSV… (Ctrl+Shift+E)")
        self.csv_button.setToolTip("Save the numbers behind the charts for a spreadsheet")
        self.csv_button.clicked.connect(self.export_csv)
        for keys, action in (
            ("F5", self.refresh),
            ("Ctrl+E", self.export_png),
            ("Ctrl+Shift+E", self.export_csv),
        ):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(action)

        from app.ui.organizer.retention_box import RetentionBox

        self.retention = RetentionBox(self.ctx)
        self.retention.said.connect(self.status.setText)

        # Two short rows, so the window never grows past a 1280-pixel kiosk screen.
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.retention)
        top.addWidget(self.group_by)
        second = QHBoxLayout()
        second.addWidget(self.status, 1)
        for widget in (self.refresh_button, self.png_button, self.csv_button):
            second.addWidget(widget)
        for label in (self.title, self.status):
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        # Everything below the buttons is the picture that "Export PNG" saves.
        self.board = QWidget()
        self.board.setObjectName("organizerBoard")
        self.tiles = {
            key: Tile(caption)
            for key, caption in (
                ("arrived", "Arrived"),
                ("inside", "Inside now"),
                ("exits", "Exits"),
                ("doubles", "Double entries"),
                ("gate", "Busiest gate"),
            )
        }
        tiles = QHBoxLayout()
        for tile in self.tiles.values():
            tiles.addWidget(tile)
        self.empty = QLabel("No check-ins yet: the charts fill in as guests arrive.")
        self.empty.setObjectName("orgEmpty")
        self.empty.setVisible(False)
        self.upper = QHBoxLayout()
        self.lower = QHBoxLayout()
        self.doubles = QTableWidget(0, 3)
        self.doubles.setHorizontalHeaderLabels(["Guest / ticket", "First in", "In again"])
        self.doubles.verticalHeader().setVisible(False)
        self.doubles.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.doubles.setAccessibleName("double entries")
        self.doubles.setWordWrap(True)
        header = self.doubles.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.doubles_title = QLabel("Double entries")
        self.doubles_title.setObjectName("orgTitle")
        doubles_box = QWidget()
        doubles_layout = QVBoxLayout(doubles_box)
        doubles_layout.setContentsMargins(0, 0, 0, 0)
        doubles_layout.addWidget(self.doubles_title)
        doubles_layout.addWidget(self.doubles, 1)
        self.doubles_box = doubles_box
        self.lower.addWidget(doubles_box, 3)
        board = QVBoxLayout(self.board)
        board.setContentsMargins(0, 0, 0, 0)
        board.addLayout(tiles)
        board.addWidget(self.empty)
        board.addLayout(self.upper, 1)
        board.addLayout(self.lower, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.addLayout(top)
        layout.addLayout(second)
        layout.addWidget(self.board, 1)

    def _build_charts(self) -> bool:
        """The QtCharts views, on first showing; False (and a sentence) if QtCharts is missing."""
        if self.charts:
            return True
        try:
            from app.ui.organizer.charts import ArrivalsChart, ArrivedChart, GatesChart, InsideChart
        except ImportError as exc:
            self.status.setText(
                f"Charts are not available on this computer ({exc}). Install PySide6-Addons; "
                "the CSV export still works."
            )
            return False
        self.arrivals_chart = ArrivalsChart()
        self.arrived_chart = ArrivedChart()
        self.inside_chart = InsideChart()
        self.gates_chart = GatesChart()
        self.charts = [self.arrivals_chart, self.arrived_chart, self.inside_chart, self.gates_chart]
        self.upper.addWidget(self.arrivals_chart.view, 2)
        self.upper.addWidget(self.arrived_chart.view, 1)
        self.lower.insertWidget(0, self.inside_chart.view, 3)
        self.lower.insertWidget(1, self.gates_chart.view, 4)
        return True

    # --- refreshing (app.ui.organizer.live_report) -----------------------------------------
    def before_first_read(self) -> None:
        self._build_charts()
        if not self.retention.days.isEnabled():
            self.retention.load()

    def first_focus(self) -> QWidget:
        return self.png_button

    def has_report(self) -> bool:
        return self.report is not None

    def read_job(self) -> Callable[[], OrganizerReport]:
        db, event_id = self.ctx.db, self.ctx.event_id
        group_by, clock = self.group_by.currentData() or "tier", self.clock
        return lambda: load_report(db, event_id, group_by, clock)

    def draw(self, report: OrganizerReport) -> None:
        self.report = report
        self._show_tiles(report)
        self._show_doubles(report)
        for chart in self.charts:
            chart.fill(report)
        self.title.setText(f"Arrivals — {report.event_name}" if report.event_name else "Arrivals")
        updated = report.local(report.generated_at).strftime("%H:%M:%S")
        live = (
            f"Live from this kiosk's data (works offline) · updated {updated} ({report.timezone})"
        )
        if not self.charts:
            live += " · charts need PySide6-Addons; the figures and CSV export work"
        self.status.setText(live)
        self.empty.setVisible(not report.buckets)

    def _show_tiles(self, r: OrganizerReport) -> None:
        share = f"{r.arrived_total / r.expected_total:.0%} of expected" if r.expected_total else ""
        self.tiles["arrived"].set(f"{r.arrived_total:,} / {r.expected_total:,}", share)
        self.tiles["inside"].set(f"{r.inside_now:,}", f"{r.entries_total:,} entries in all")
        self.tiles["exits"].set(f"{r.exits_total:,}", "scanned out")
        turned = r.already_inside_total
        self.tiles["doubles"].set(
            f"{len(r.double_entries):,}",
            f"{turned:,} refused: already inside",
            alert=bool(r.double_entries),
        )
        busiest = max(r.gates, key=lambda g: g.peak_per_minute, default=None)
        if busiest is not None and busiest.scans:
            self.tiles["gate"].set(
                busiest.gate, f"{busiest.peak_per_minute:.1f} scans/min at its busiest"
            )
        else:
            self.tiles["gate"].set("—", "no scans yet")

    def _show_doubles(self, r: OrganizerReport) -> None:
        rows = r.double_entries
        self.doubles_title.setText(f"Double entries ({len(rows)})" if rows else "Double entries")
        self.doubles.setRowCount(max(len(rows), 1))
        if not rows:
            self.doubles.setSpan(0, 0, 1, 3)
            self.doubles.setItem(0, 0, QTableWidgetItem("None: every ticket came in once."))
            return
        self.doubles.clearSpans()

        def at(a: Any) -> str:
            return f"{a.gate} {r.local(a.at).strftime('%H:%M')}"

        for i, d in enumerate(rows):
            number = f"#{d.ticket_number}" if d.ticket_number else ""
            who = "\n".join(p for p in (d.guest, number) if p) or "—"
            why = (
                f"{d.guest or number}: first admitted at {d.first.gate} by {d.first.device}, "
                f"admitted again at {d.second.gate} by {d.second.device}"
                + (" (flagged by sync)" if d.flagged else "")
            )
            for column, text in enumerate((who, at(d.first), at(d.second))):
                item = QTableWidgetItem(text)
                item.setToolTip(why)
                self.doubles.setItem(i, column, item)
        self.doubles.resizeRowsToContents()

    # --- export -----------------------------------------------------------------------------
    def _default_name(self, suffix: str) -> str:
        stamp = ""
        if self.report is not None:
            stamp = "-" + self.report.local(self.report.generated_at).strftime("%Y%m%d-%H%M")
        return f"arrivals{stamp}.{suffix}"

    def export_png(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export the charts", self._default_name("png"), "PNG pictures (*.png)"
        )
        if path:
            self._export(lambda: self.save_png(path), path)

    def export_csv(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export the numbers", self._default_name("csv"), "CSV (*.csv)"
        )
        if path:
            self._export(lambda: self.save_csv(path), path)

    def _export(self, save: Callable[[], Path], path: str) -> None:
        try:
            save()
            self.status.setText(f"Saved {path}")
        except Exception as exc:
            self.status.setText(f"Could not save {path}: {explain(exc)}")

    def save_png(self, path: str | Path) -> Path:
        """The tiles, charts and double entries as they are on screen, as a PNG file."""
        path = Path(path)
        QApplication.processEvents()  # charts lay out on the event loop: draw the latest data
        if not self.board.grab().save(str(path), "PNG"):
            raise OSError(f"cannot write {path}")
        return path

    def save_csv(self, path: str | Path) -> Path:
        """The numbers behind the charts (see ``app.store.arrivals.report_csv_rows``)."""
        if self.report is None:
            raise RuntimeError("The arrivals have not been read yet; try again in a moment.")
        return write_report_csv(self.report, path)
