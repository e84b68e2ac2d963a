"""The organizer's tab, rendered offscreen on the known demo log: charts, tiles, live refresh,
PNG and CSV export (buttons and keys)."""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path

import pytest

pytestmark = pytest.mark.gui


@pytest.fixture
def make_tab(live_report_factory):
    from app.ui.organizer import OrganizerTab

    return live_report_factory(OrganizerTab)


def _bar_values(bar_set) -> list[float]:
    return [bar_set.at(i) for i in range(bar_set.count())]


def test_charts_show_the_known_log(make_tab, known) -> None:
    tab = make_tab(known.ctx, known.clock)
    report = tab.report
    assert report.arrived_total == 9

    # Arrivals: one stacked bar set per tier, in the tier's colour, 13 five-minute buckets.
    bar_sets = tab.arrivals_chart.series.barSets()
    assert [b.label() for b in bar_sets] == ["General", "Premium", "VIP", "Press", "Comp"]
    assert _bar_values(bar_sets[0]) == [2, 1] + [0] * 11
    assert bar_sets[2].color().name().lower() == "#c9a227"
    assert "by tier" in tab.arrivals_chart.chart.title()
    labels = tab.arrivals_chart.chart.axes()[0].categoriesLabels()
    assert labels and all(len(text) == 5 and text[2] == ":" for text in labels)

    # Arrived vs expected: the running total ends at 9, the expected line is flat.
    arrived = [p.y() for p in tab.arrived_chart.arrived.points()]
    assert arrived[-1] == 9 and arrived == sorted(arrived)
    assert {p.y() for p in tab.arrived_chart.expected.points()} == {report.expected_total}
    assert f"of {report.expected_total:,} expected" in tab.arrived_chart.chart.title()

    # Inside: the last point is the people inside now.
    assert tab.inside_chart.inside.points()[-1].y() == 9
    assert tab.inside_chart.exits.points()[-1].y() == 2

    # Gates: four gates (listed top-down, so Qt's bottom-up order is reversed), one bar set
    # per measure.
    names = tab.gates_chart.names.categories()
    assert names[::-1] == ["North door", "South door", "Press desk", "VIP entrance"]
    sets = {b.label(): _bar_values(b)[::-1] for b in tab.gates_chart.series.barSets()}
    assert sets["Admitted"] == [6, 3, 1, 2]
    assert sets["Double entries"] == [1, 1, 0, 0]
    assert sets["Refused"] == [0, 1, 0, 2]
    assert "18 scans" in tab.gates_chart.chart.title()

    # Tiles and the double-entry list.
    assert tab.tiles["arrived"].value.text() == f"9 / {report.expected_total:,}"
    assert tab.tiles["inside"].value.text() == "9"
    assert tab.tiles["doubles"].value.text() == "2"
    assert tab.tiles["doubles"].property("alert") is True
    assert tab.tiles["doubles"].note.text() == "1 refused: already inside"
    assert tab.doubles.rowCount() == 2
    guests = [tab.doubles.item(r, 0).text() for r in range(2)]
    assert any(known.numbers["P2"] in g for g in guests)
    assert "Maison Aurèle" in tab.title.text()
    assert not tab.empty.isVisible()


def test_stack_by_ticket_type(make_tab, known, qtbot) -> None:
    tab = make_tab(known.ctx, known.clock)
    with qtbot.waitSignal(tab.loaded, timeout=15000):
        tab.group_by.setCurrentIndex(1)
    labels = [b.label() for b in tab.arrivals_chart.series.barSets()]
    assert labels[:2] == ["General Admission", "Premium Seating"]
    assert "by ticket type" in tab.arrivals_chart.chart.title()


def test_refreshes_when_a_checkin_lands(make_tab, known, qtbot) -> None:
    """A scan at the door (the app's change feed) shows up without touching the tab."""
    from app.store.checkin_service import CheckinService
    from app.store.models import Ticket

    tab = make_tab(known.ctx, known.clock)
    assert tab.report.inside_now == 9
    ctx = known.ctx
    with ctx.db.session() as s:
        ticket = s.get(Ticket, known.tickets["G1"])
        code = ticket.qr_code_data
    # G1 leaves through the North door, as the door screen would record it.
    service = CheckinService(ctx.db, ctx.event_id, known.devices["North door"], gate="North door")
    service.direction = "out"
    service.clock = lambda: known.now - timedelta(minutes=1)
    assert service.scan(code).verdict == "exit_recorded"
    with qtbot.waitSignal(tab.loaded, timeout=15000):
        ctx.notify("checkins")
    assert tab.report.inside_now == 8
    assert tab.tiles["inside"].value.text() == "8"
    assert tab.inside_chart.exits.points()[-1].y() == 3


def test_hidden_tab_waits_until_shown(make_tab, known, qtbot) -> None:
    tab = make_tab(known.ctx, known.clock)
    tab.hide()
    known.ctx.notify("checkins")
    qtbot.wait(1500)  # longer than the change delay: nothing is read while nobody looks
    assert tab._stale and not tab._busy
    with qtbot.waitSignal(tab.loaded, timeout=15000):
        tab.show()


def test_export_png_and_csv_with_buttons_and_keys(make_tab, known, qtbot, tmp_path, monkeypatch):
    from app.ui.qt import QFileDialog, QImage, Qt

    tab = make_tab(known.ctx, known.clock)
    asked: list[str] = []
    targets = iter([tmp_path / "by-key.png", tmp_path / "by-key.csv", tmp_path / "button.png"])

    def fake_dialog(_parent, title, name, _filter):
        asked.append(name)
        return str(next(targets)), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(fake_dialog))
    tab.setFocus()
    qtbot.keyClick(tab, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(
        tab, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    qtbot.mouseClick(tab.png_button, Qt.MouseButton.LeftButton)
    assert asked[0].startswith("arrivals-") and asked[0].endswith(".png")
    assert asked[1].endswith(".csv")

    # The PNG is the board as on screen: tiles, charts in the tiers' colours.
    image = QImage(str(tmp_path / "by-key.png"))
    assert not image.isNull()
    assert (image.width(), image.height()) == (tab.board.width(), tab.board.height())
    colours = {
        image.pixelColor(x, y).name().lower()
        for x in range(0, image.width(), 3)
        for y in range(0, image.height(), 3)
    }
    for tier_colour in ("#c9a227", "#3b82f6", "#10b981"):  # VIP, Premium, Press bars
        assert tier_colour in colours
    assert (tmp_path / "button.png").stat().st_size > 10_000
    assert "Saved" in tab.status.text()

    rows = list(csv.reader(Path(tmp_path / "by-key.csv").open(encoding="utf-8-sig")))
    facts = {r[0]: r[1] for r in rows if len(r) >= 2}
    assert facts["Arrived"] == "9" and facts["Inside now"] == "9"
    assert ["Gates"] in rows and ["Double entries"] in rows


def test_demo_replica_without_a_clock(make_tab, demo_ctx) -> None:
    """The plain demo (`showdesk demo` data, real clock): charts drawn, no double entries."""
    tab = make_tab(demo_ctx)
    report = tab.report
    assert report.arrived_total > 0 and report.buckets
    assert tab.doubles.item(0, 0).text().startswith("None")
    assert tab.tiles["doubles"].property("alert") in (False, None)
    assert sum(sum(_bar_values(b)) for b in tab.arrivals_chart.series.barSets()) == sum(
        report.arrivals_total()
    )


def test_empty_log(make_tab, demo_ctx) -> None:
    from sqlalchemy import delete

    from app.store.models import Checkin

    with demo_ctx.db.session() as s:
        s.execute(delete(Checkin))
    tab = make_tab(demo_ctx)
    assert tab.empty.isVisible()
    assert tab.tiles["arrived"].value.text().startswith("0 / ")
    assert tab.tiles["gate"].value.text() == "—"


def test_in_the_main_window_by_keyboard(qtbot, known, tmp_path, monkeypatch) -> None:
    """Registered in the main window: Alt+O opens it, its charts load, Ctrl+E exports."""
    from app.scan.sources import CameraSource
    from app.ui import tasks
    from app.ui.main import MainWindow
    from app.ui.qt import QApplication, QFileDialog, Qt

    window = MainWindow(known.ctx, door_options={"source_factory": lambda: CameraSource(97)})
    qtbot.addWidget(window)
    window.show()
    try:
        qtbot.waitUntil(lambda: window.door.is_ready, timeout=15000)
        window.activateWindow()  # mnemonics and shortcuts go to the active window
        qtbot.waitUntil(window.isActiveWindow, timeout=3000)
        tab = window.organizer
        assert window.tabs.tabText(window.tabs.indexOf(tab)) == "&Organizer"
        assert tab.report is None and not tab.charts  # nothing read or drawn while hidden
        with qtbot.waitSignal(tab.loaded, timeout=15000):
            qtbot.keyClick(window, Qt.Key.Key_O, Qt.KeyboardModifier.AltModifier)
        assert window.tabs.currentWidget() is tab
        assert tab.report.arrived_total > 0

        target = tmp_path / "from-window.png"
        monkeypatch.setattr(
            QFileDialog, "getSaveFileName", staticmethod(lambda *_a: (str(target), ""))
        )
        assert tab.isAncestorOf(QApplication.focusWidget())  # the tab's keys work at once
        qtbot.keyClick(
            QApplication.focusWidget(), Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier
        )
        assert target.stat().st_size > 10_000
    finally:
        for service in known.ctx.services:
            service.stop()
        tasks.shutdown(wait=True)


def test_the_organizer_sets_how_long_kiosks_keep_guests_details(make_tab, demo_ctx, qtbot):
    """The privacy control: the event's number is read, changed by keyboard, saved on the DB
    worker and queued for upload; "as each kiosk is set" clears it."""
    from sqlalchemy import select

    from app.store.models import Event, OutboxEntry
    from app.ui.qt import Qt

    tab = make_tab(demo_ctx)
    box = tab.retention
    qtbot.waitUntil(box.days.isEnabled, timeout=5000)
    assert box.chosen() is None and box.days.text() == "as each kiosk is set"

    def stored() -> tuple[int | None, list[dict]]:
        with demo_ctx.db.session() as session:
            event = session.get(Event, demo_ctx.event_id)
            queued = session.scalars(
                select(OutboxEntry.payload).where(
                    OutboxEntry.table_name == "events", OutboxEntry.row_id == demo_ctx.event_id
                )
            ).all()
            return event.retention_days, list(queued)

    box.days.setFocus()
    for _ in range(4):  # as each kiosk is set -> 0 -> 1 -> 2 -> 3
        qtbot.keyClick(box.days, Qt.Key.Key_Up)
    assert box.chosen() == 3
    with qtbot.waitSignal(box.saved, timeout=5000):
        qtbot.mouseClick(box.save_button, Qt.MouseButton.LeftButton)
    days, queued = stored()
    assert days == 3 and [set(p) for p in queued] == [{"id", "retention_days"}]
    assert tab.status.text().startswith("Saved: kiosks forget guests' details 3 days after")

    with qtbot.waitSignal(box.saved, timeout=5000):
        box.save()  # the same again: nothing more to upload
    assert len(stored()[1]) == 1 and tab.status.text().startswith("Already so")

    box.days.setValue(box.days.minimum())
    with qtbot.waitSignal(box.saved, timeout=5000):
        box.save()
    assert stored()[0] is None
