"""The organizer's four charts, drawn with QtCharts from an ``OrganizerReport``.

Each chart is built once and refilled on every refresh (series and axes replaced), with
animations off so a refresh, a screenshot and a PNG export show the same picture at once.
Time runs along x in buckets: bucket ``i`` is drawn from ``i - 0.5`` to ``i + 0.5``, so a
clock label sits on the start of its bucket and a running total at the end of it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.store.arrivals import OrganizerReport
from app.ui.qt import QColor, QFont, QPainter, QPen, Qt, qt_charts

TEXT = QColor("#1a1a1a")
GRID = QColor("#d9dde3")
AXIS_FONT_PX = 14
TITLE_FONT_PX = 17
LABEL_STEPS_MIN = (5, 10, 15, 30, 60, 120, 180, 240, 360)

GATE_SERIES = (  # (name, GateFigures field, colour)
    ("Admitted", "admitted", "#1b7f3b"),
    ("Exits", "exits", "#1f5fbf"),
    ("Refused", "refused", "#c0392b"),
    ("Double entries", "double_entries", "#6a1b9a"),
)


def _font(px: int, bold: bool = False) -> QFont:
    font = QFont()
    font.setPixelSize(px)
    font.setBold(bold)
    return font


def label_step(report: OrganizerReport, max_labels: int = 8) -> int:
    """Minutes between two clock labels: the smallest round step giving ≤ ``max_labels``."""
    span = max(1, len(report.buckets)) * report.bucket_minutes
    for step in LABEL_STEPS_MIN:
        if step >= report.bucket_minutes and span / step <= max_labels:
            return step
    return LABEL_STEPS_MIN[-1]


def time_labels(report: OrganizerReport, max_labels: int = 8) -> list[tuple[float, str]]:
    """(x, "19:15") for bucket starts on a round local time, e.g. every 15 minutes."""
    step = label_step(report, max_labels)
    out = []
    for i, start in enumerate(report.buckets):
        local: datetime = report.local(start)
        if (local.hour * 60 + local.minute) % step == 0:
            out.append((i - 0.5, local.strftime("%H:%M")))
    return out


class ChartBox:
    """A QChartView with one QChart, styled for reading from a distance."""

    def __init__(self, title: str) -> None:
        charts = qt_charts()
        self.charts = charts
        self.chart = charts.QChart()
        self.chart.setAnimationOptions(charts.QChart.AnimationOption.NoAnimation)
        self.chart.setBackgroundRoundness(0)
        self.chart.layout().setContentsMargins(0, 0, 0, 0)
        self.chart.setTitleFont(_font(TITLE_FONT_PX, bold=True))
        self.chart.setTitleBrush(TEXT)
        self.chart.legend().setFont(_font(AXIS_FONT_PX))
        self.chart.legend().setLabelColor(TEXT)
        self.chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        self.view = charts.QChartView(self.chart)
        self.view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.view.setMinimumSize(280, 220)
        self.base_title = title
        self.chart.setTitle(title)
        self.view.setAccessibleName(title)

    def reset(self, title: str | None = None) -> None:
        self.chart.removeAllSeries()
        for axis in list(self.chart.axes()):
            self.chart.removeAxis(axis)
        self.chart.setTitle(title or self.base_title)
        self.view.setAccessibleName(title or self.base_title)

    def _style_axis(self, axis: Any) -> Any:
        axis.setLabelsFont(_font(AXIS_FONT_PX))
        axis.setLabelsColor(TEXT)
        axis.setGridLineColor(GRID)
        axis.setLinePenColor(QColor("#8a9099"))
        axis.setTitleFont(_font(AXIS_FONT_PX))
        axis.setTitleBrush(TEXT)
        return axis

    def time_axis(self, report: OrganizerReport, max_labels: int = 6) -> Any:
        axis = self.charts.QCategoryAxis()
        axis.setLabelsPosition(
            self.charts.QCategoryAxis.AxisLabelsPosition.AxisLabelsPositionOnValue
        )
        axis.setStartValue(-0.5)
        for x, text in time_labels(report, max_labels):
            axis.append(text, x)
        axis.setTruncateLabels(False)
        axis.setRange(-0.5, max(len(report.buckets), 1) - 0.5)
        axis.setGridLineVisible(False)
        self._style_axis(axis)
        self.chart.addAxis(axis, Qt.AlignmentFlag.AlignBottom)
        return axis

    def count_axis(self, top: float, title: str = "") -> Any:
        axis = self.charts.QValueAxis()
        axis.setLabelFormat("%d")
        axis.setRange(0, max(top, 4))
        axis.applyNiceNumbers()
        if title:
            axis.setTitleText(title)
        self._style_axis(axis)
        self.chart.addAxis(axis, Qt.AlignmentFlag.AlignLeft)
        return axis

    def line(
        self,
        name: str,
        colour: str,
        points: list[tuple[float, float]],
        width: float = 3.0,
        dashed: bool = False,
    ) -> Any:
        series = self.charts.QLineSeries()
        series.setName(name)
        pen = QPen(QColor(colour), width)
        if dashed:
            pen.setStyle(Qt.PenStyle.DashLine)
        series.setPen(pen)
        for x, y in points:
            series.append(float(x), float(y))
        self.chart.addSeries(series)
        return series

    def attach(self, series: Any, *axes: Any) -> None:
        for axis in axes:
            series.attachAxis(axis)


class ArrivalsChart(ChartBox):
    """Arrivals per 5 minutes, stacked by tier (or ticket type), in the tiers' own colours."""

    def __init__(self) -> None:
        super().__init__("Arrivals per 5 minutes")
        self.series: Any = None

    def fill(self, report: OrganizerReport) -> None:
        by = "tier" if report.group_by == "tier" else "ticket type"
        self.reset(f"Arrivals per {report.bucket_minutes} minutes, by {by}")
        series = self.charts.QStackedBarSeries()
        series.setBarWidth(0.85)
        for group in report.groups:
            bars = self.charts.QBarSet(report.labels[group])
            bars.setColor(QColor(report.colours[group]))
            bars.setBorderColor(QColor(report.colours[group]))
            bars.append([float(v) for v in report.arrivals[group]])
            series.append(bars)
        self.chart.addSeries(series)
        x = self.time_axis(report, max_labels=12)
        totals = report.arrivals_total()
        y = self.count_axis(max(totals, default=0), "guests")
        self.attach(series, x, y)
        self.series = series
        self.chart.legend().setVisible(bool(report.groups))


class ArrivedChart(ChartBox):
    """Arrived so far against the expected total."""

    def __init__(self) -> None:
        super().__init__("Arrived so far")
        self.arrived: Any = None
        self.expected: Any = None

    def fill(self, report: OrganizerReport) -> None:
        expected, arrived = report.expected_total, report.arrived_total
        share = f" ({arrived / expected:.0%})" if expected else ""
        self.reset(f"Arrived {arrived:,} of {expected:,} expected{share}")
        so_far = report.arrived_so_far()
        n = len(report.buckets)
        start = report.arrived_before
        self.arrived = self.line(
            "Arrived",
            "#1f5fbf",
            [(-0.5, start)] + [(i + 0.5, v) for i, v in enumerate(so_far)],
            3.5,
        )
        self.expected = self.line(
            f"Expected ({expected:,})",
            "#5f6670",
            [(-0.5, expected), (max(n, 1) - 0.5, expected)],
            2.5,
            dashed=True,
        )
        x = self.time_axis(report)
        y = self.count_axis(max(expected, arrived) * 1.05, "guests")
        self.attach(self.arrived, x, y)
        self.attach(self.expected, x, y)


class InsideChart(ChartBox):
    """Entries and exits so far, and the people inside (tickets whose last move was in)."""

    def __init__(self) -> None:
        super().__init__("Inside now")
        self.entries: Any = None
        self.exits: Any = None
        self.inside: Any = None

    def fill(self, report: OrganizerReport) -> None:
        self.reset(f"Inside now: {report.inside_now:,}  ·  exits {report.exits_total:,}")
        entries = _running(report.entries)
        exits = _running(report.exits)
        self.entries = self.line("Entries", "#1b7f3b", _steps(entries), 2.5)
        self.exits = self.line("Exits", "#e07b00", _steps(exits), 2.5)
        self.inside = self.line("Inside", "#1a1a1a", _steps(report.inside), 4.0)
        x = self.time_axis(report)
        y = self.count_axis(max(entries + report.inside, default=0) * 1.05, "people")
        for series in (self.entries, self.exits, self.inside):
            self.attach(series, x, y)


class GatesChart(ChartBox):
    """Per gate: admitted, exits, refused, double entries, as horizontal bars with their
    numbers (gate names have room on the left however narrow the chart is)."""

    def __init__(self) -> None:
        super().__init__("Gates")
        self.series: Any = None
        self.names: Any = None

    def fill(self, report: OrganizerReport) -> None:
        self.reset(f"Per gate: {sum(g.scans for g in report.gates):,} scans")
        series = self.charts.QHorizontalBarSeries()
        series.setBarWidth(0.85)
        series.setLabelsVisible(True)
        series.setLabelsPosition(self.charts.QAbstractBarSeries.LabelsPosition.LabelsOutsideEnd)
        series.setLabelsFormat("@value")
        # Qt draws the first category at the bottom: reversed, the list reads top-down.
        gates = list(reversed(report.gates))
        top = 0.0
        for name, attr, colour in reversed(GATE_SERIES):
            bars = self.charts.QBarSet(name)
            bars.setColor(QColor(colour))
            bars.setBorderColor(QColor(colour))
            bars.setLabelColor(TEXT)
            bars.setLabelFont(_font(13, bold=True))
            values = [float(getattr(g, attr)) for g in gates]
            top = max([top, *values])
            bars.append(values)
            series.append(bars)
        self.chart.addSeries(series)
        names = self.charts.QBarCategoryAxis()
        names.append([g.gate for g in gates] or ["—"])
        names.setGridLineVisible(False)
        names.setTruncateLabels(False)
        self._style_axis(names)
        self.chart.addAxis(names, Qt.AlignmentFlag.AlignLeft)
        counts = self.charts.QValueAxis()
        counts.setLabelFormat("%d")
        counts.setRange(0, max(top * 1.15, 4))
        counts.applyNiceNumbers()
        self._style_axis(counts)
        self.chart.addAxis(counts, Qt.AlignmentFlag.AlignBottom)
        self.attach(series, names, counts)
        self.series = series
        self.names = names
        self.chart.legend().setReverseMarkers(True)  # the legend reads in the bars' order


def _running(values: list[int]) -> list[int]:
    out, total = [], 0
    for v in values:
        total += v
        out.append(total)
    return out


def _steps(values: list[int]) -> list[tuple[float, float]]:
    """End-of-bucket values as a line starting at 0 before the first bucket."""
    return [(-0.5, 0.0)] + [(i + 0.5, float(v)) for i, v in enumerate(values)]
