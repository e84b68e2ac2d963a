"""The organizer's audit trail, rendered offscreen on the demo replica: rows recorded under a
staff member, the filters, CSV export of exactly the rows shown, live refresh, the keyboard,
reads off the UI thread, and readable text."""

from __future__ import annotations

import csv
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.store.audit import NO_STAFF

pytestmark = pytest.mark.gui


@pytest.fixture
def make_tab(live_report_factory):
    from app.ui.organizer.audit_tab import AuditTab

    return live_report_factory(AuditTab)


def _staff(ctx: Any, name: str) -> str:
    from app.store.models import Staff

    with ctx.db.session() as s:
        return s.scalars(select(Staff.id).where(Staff.name == name)).one()


def _door(ctx: Any, staff_id: str | None, clock) -> Any:
    """The door's engine at the North door, with ``staff_id`` signed in."""
    from app.store.checkin_service import CheckinService
    from app.store.models import Device

    with ctx.db.session() as s:
        device = s.scalars(select(Device.id).where(Device.gate == "North door")).first()
    return CheckinService(
        ctx.db, ctx.event_id, device, gate="North door", clock=clock, staff_id=staff_id
    )


def _unscanned_tickets(ctx: Any, count: int) -> list[str]:
    from app.store.models import Checkin, Ticket, TicketType

    scanned = select(Checkin.ticket_id).where(Checkin.ticket_id.is_not(None))
    with ctx.db.session() as s:
        return list(
            s.scalars(
                select(Ticket.id)
                .join(TicketType, TicketType.id == Ticket.ticket_type_id)
                .where(
                    Ticket.event_id == ctx.event_id,
                    Ticket.status == "valid",
                    TicketType.tier == "general",
                    Ticket.id.not_in(scanned),
                )
                .order_by(Ticket.ticket_number)
                .limit(count)
            )
        )


@pytest.fixture
def trail(demo_ctx):
    """The demo replica, its scans and arrivals moved 3 hours back, plus, 10 minutes ago: two
    check-ins and an annulment by Youssef Benali, one check-in with no one signed in.
    Returns (ctx, clock, youssef's id, his two check-in ids)."""
    from app.store.models import CallTime, Checkin
    from app.store.types import utcnow

    with demo_ctx.db.session() as s:  # the last hour holds our rows only
        for checkin in s.scalars(select(Checkin)):
            checkin.scanned_at -= timedelta(hours=3)
        for call in s.scalars(select(CallTime).where(CallTime.arrived_at.is_not(None))):
            call.arrived_at -= timedelta(hours=3)
    now = utcnow().replace(microsecond=0)
    clock = iter(now - timedelta(minutes=10) + timedelta(seconds=i) for i in range(100))
    youssef = _staff(demo_ctx, "Youssef Benali")
    tickets = _unscanned_tickets(demo_ctx, 3)
    door = _door(demo_ctx, youssef, lambda: next(clock))
    first = door.checkin_ticket(tickets[0])
    second = door.checkin_ticket(tickets[1])
    assert first.verdict.value == second.verdict.value == "admitted"
    door.annul(second.checkin_id, "wrong guest")
    door.staff_id = None
    assert door.checkin_ticket(tickets[2]).verdict.value == "admitted"
    return demo_ctx, (lambda: now), youssef, [first.checkin_id, second.checkin_id]


def _column(tab, column: int) -> list[str]:
    return [tab.model.text(r, column) for r in range(tab.model.rowCount())]


def _choose(tab, qtbot, combo, data) -> None:
    with qtbot.waitSignal(tab.loaded, timeout=15000):
        combo.setCurrentIndex(combo.findData(data))


def test_lists_rows_under_the_staff_member_newest_first(make_tab, trail) -> None:
    from app.store.audit import AUDIT_COLUMNS
    from app.ui.qt import Qt

    ctx, clock, youssef, _ids = trail
    tab = make_tab(ctx, clock)
    page = tab.page
    assert tab.model.rowCount() == len(page.rows) > 4
    # the demo's own scans carry their kiosk's door staff; ours are the newest
    assert _column(tab, 1)[:4] == [NO_STAFF, "Youssef Benali", "Youssef Benali", "Youssef Benali"]
    assert _column(tab, 3)[:2] == ["check-in: admitted", "annulment"]
    assert _column(tab, 7)[1] == "wrong guest"
    times = _column(tab, 0)
    assert times == sorted(times, reverse=True)
    headers = [tab.model.headerData(c, Qt.Orientation.Horizontal) for c in range(9)]
    assert headers[0] == f"Time ({page.timezone})" and page.timezone == "Europe/Paris"
    assert headers[1:] == AUDIT_COLUMNS[1:]
    # shown in the event's local time, not UTC
    newest = page.rows[-1].at
    assert times[0] == newest.astimezone(tab.model.tz).strftime("%Y-%m-%d %H:%M:%S")
    labels = [tab.staff.itemText(i) for i in range(tab.staff.count())]
    assert labels[0] == "Everyone" and labels[-1] == "No one signed in"
    assert "Youssef Benali (door)" in labels and "Hélène Moreau (organizer)" in labels
    assert tab.status.text().startswith(f"{len(page.rows):,} entries · showing the newest first")


def test_filters_narrow_the_rows(make_tab, trail, qtbot) -> None:
    ctx, clock, youssef, ids = trail
    tab = make_tab(ctx, clock)
    everyone = tab.model.rowCount()

    _choose(tab, qtbot, tab.staff, youssef)
    mine = tab.model.rowCount()
    assert 3 <= mine < everyone
    assert set(_column(tab, 1)) == {"Youssef Benali"}
    assert "filtered to Youssef Benali (door)" in tab.status.text()

    _choose(tab, qtbot, tab.kind, "annul")
    assert _column(tab, 3) == ["annulment"] and _column(tab, 7) == ["wrong guest"]
    assert "filtered to Youssef Benali (door), annulments" in tab.status.text()

    _choose(tab, qtbot, tab.kind, "scan")
    _choose(tab, qtbot, tab.when, "15min")  # the demo's own scans are older
    assert tab.when.currentText() == "Last 15 minutes"
    assert _column(tab, 8) == ids[::-1]

    _choose(tab, qtbot, tab.staff, NO_STAFF)
    assert _column(tab, 1) == [NO_STAFF]
    assert "filtered to no one signed in, scans, last 15 minutes" in tab.status.text()

    _choose(tab, qtbot, tab.kind, None)
    _choose(tab, qtbot, tab.staff, None)
    assert tab.model.rowCount() == 4  # everything done in the last 15 minutes


def test_window_since() -> None:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from app.ui.organizer.audit_tab import window_since

    now = datetime(2026, 12, 3, 23, 30, tzinfo=UTC)
    paris = ZoneInfo("Europe/Paris")
    assert window_since("all", now, paris) is None
    assert window_since("hour", now, paris) == now - timedelta(hours=1)
    assert window_since("15min", now, paris) == now - timedelta(minutes=15)
    # 23:30 UTC is already 4 December in Paris: today began at 23:00 UTC
    assert window_since("today", now, paris) == datetime(2026, 12, 3, 23, 0, tzinfo=UTC)


def test_csv_export_writes_exactly_the_filtered_rows(make_tab, trail, qtbot, tmp_path, monkeypatch):
    from app.ui.qt import QFileDialog

    ctx, clock, youssef, ids = trail
    tab = make_tab(ctx, clock)
    _choose(tab, qtbot, tab.staff, youssef)
    _choose(tab, qtbot, tab.when, "hour")
    target = tmp_path / "audit.csv"
    asked: list[str] = []

    def fake_dialog(_parent, _title, name, _filter):
        asked.append(name)
        return str(target), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(fake_dialog))
    with qtbot.waitSignal(tab.exported, timeout=15000):
        tab.csv_button.click()
    assert asked[0].startswith("audit-trail-") and asked[0].endswith(".csv")
    with target.open(encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    assert table[0][0] == "Time (UTC)" and len(table) == 1 + 3
    assert [r[8] for r in table[1:3]] == ids and table[3][3] == "annulment"  # oldest first
    assert {r[1] for r in table[1:]} == {"Youssef Benali"}
    assert [r[8] for r in table[1:]] == _column(tab, 8)[::-1]  # the rows on screen, all
    assert "Saved 3 entries" in tab.status.text()


def test_export_that_cannot_be_written_says_why(make_tab, trail, qtbot, tmp_path, monkeypatch):
    from app.ui.qt import QFileDialog

    ctx, clock, _youssef, _ids = trail
    tab = make_tab(ctx, clock)
    missing = tmp_path / "no-such-folder" / "audit.csv"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *_a: (str(missing), ""))
    )
    tab.export_csv()
    qtbot.waitUntil(lambda: tab.status.text().startswith("Could not save"), timeout=15000)
    assert "File not found" in tab.status.text()


def test_a_new_checkin_appears_after_the_change_feed(make_tab, trail, qtbot) -> None:
    ctx, clock, youssef, _ids = trail
    tab = make_tab(ctx, clock)
    before = tab.model.rowCount()
    camille = _staff(ctx, "Camille Dubois")
    result = _door(ctx, camille, clock).checkin_ticket(_unscanned_tickets(ctx, 1)[0])
    ctx.notify("lineup_runs")  # not a table the trail shows: nothing is read
    qtbot.wait(1200)
    assert tab.model.rowCount() == before
    with qtbot.waitSignal(tab.loaded, timeout=15000):
        ctx.notify("checkins")
    assert tab.model.rowCount() == before + 1
    assert tab.model.rows[0].checkin_id == result.checkin_id
    assert _column(tab, 1)[0] == "Camille Dubois"


def test_hidden_tab_waits_until_shown(make_tab, trail, qtbot) -> None:
    ctx, clock, _youssef, _ids = trail
    tab = make_tab(ctx, clock)
    tab.hide()
    ctx.notify("checkins")
    tab.kind.setCurrentIndex(2)
    qtbot.wait(1500)  # longer than the change delay: nothing is read while nobody looks
    assert tab._stale and not tab._busy and tab.page.filters.kind is None
    with qtbot.waitSignal(tab.loaded, timeout=15000):
        tab.show()
    assert tab.page.filters.kind == "annul"


def test_keyboard_only(make_tab, trail, qtbot, tmp_path, monkeypatch) -> None:
    """Tab from the first filter to the next ones, arrows choose, F5 reads, Ctrl+Shift+E
    exports; every control has a name a screen reader says."""
    from app.ui.qt import QApplication, QFileDialog, Qt

    ctx, clock, _youssef, _ids = trail
    tab = make_tab(ctx, clock)
    tab.activateWindow()
    qtbot.waitUntil(tab.isActiveWindow, timeout=3000)
    assert QApplication.focusWidget() is tab.staff  # focus lands on the first filter
    order = [tab.staff, tab.kind, tab.when, tab.refresh_button, tab.csv_button, tab.table]
    for here, there in zip(order, order[1:], strict=False):
        assert QApplication.focusWidget() is here
        qtbot.keyClick(here, Qt.Key.Key_Tab)
        assert QApplication.focusWidget() is there
    for widget in (tab.staff, tab.kind, tab.when, tab.table):
        assert widget.accessibleName()

    tab.kind.setFocus()
    with qtbot.waitSignal(tab.loaded, timeout=15000):
        qtbot.keyClick(tab.kind, Qt.Key.Key_Down)  # All kinds -> Scans
    assert tab.page.filters.kind == "scan"
    assert all(t.startswith(("check-in: ", "exit: ")) for t in _column(tab, 3))

    with qtbot.waitSignal(tab.loaded, timeout=15000):
        qtbot.keyClick(tab.kind, Qt.Key.Key_F5)
    target = tmp_path / "by-key.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *_a: (str(target), "")))
    with qtbot.waitSignal(tab.exported, timeout=15000):
        qtbot.keyClick(
            tab.kind,
            Qt.Key.Key_E,
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
        )
    with target.open(encoding="utf-8-sig", newline="") as fh:
        assert len(list(csv.reader(fh))) == 1 + tab.model.rowCount()


def test_reads_off_the_ui_thread(make_tab, trail, qtbot) -> None:
    from tests.support.db_threads import on_main_thread, statements_by_thread

    ctx, clock, youssef, _ids = trail
    with statements_by_thread(ctx.db) as seen:
        tab = make_tab(ctx, clock)
        _choose(tab, qtbot, tab.staff, youssef)
    assert seen, "the tab read nothing, so this test would prove nothing"
    assert on_main_thread(seen) == []


def test_readable_with_rows_and_a_selection(make_tab, trail, qtbot) -> None:
    """WCAG AA contrast of every text of the loaded tab, under the app's own style sheet."""
    from app.ui.main import apply_style
    from app.ui.qt import QApplication
    from tests.support.contrast import check

    ctx, clock, _youssef, _ids = trail
    app = QApplication.instance()
    apply_style(app)
    try:
        tab = make_tab(ctx, clock)
        tab.table.selectRow(1)
        tab.table.setFocus()
        results, failures = check(tab)
        assert len(results) > 20 and failures == []
    finally:
        app.setStyleSheet("")


def test_in_the_main_window_by_keyboard(qtbot, trail) -> None:
    """Registered in the main window after Organizer: built lazily, Alt+A opens it."""
    from app.scan.sources import CameraSource
    from app.ui import tasks
    from app.ui.main import MainWindow
    from app.ui.organizer.audit_tab import AuditTab
    from app.ui.qt import Qt

    ctx, _clock, _youssef, _ids = trail
    window = MainWindow(ctx, door_options={"source_factory": lambda: CameraSource(97)})
    qtbot.addWidget(window)
    window.show()
    try:
        qtbot.waitUntil(lambda: window.door.is_ready, timeout=15000)
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow, timeout=3000)
        tab = window.audit
        assert isinstance(tab, AuditTab)
        labels = [window.tabs.tabText(i) for i in range(window.tabs.count())]
        assert labels.index("&Audit trail") == labels.index("&Organizer") + 1
        assert tab.page is None  # nothing read while hidden
        with qtbot.waitSignal(tab.loaded, timeout=15000):
            qtbot.keyClick(window, Qt.Key.Key_A, Qt.KeyboardModifier.AltModifier)
        assert window.tabs.currentWidget() is tab and tab.model.rowCount() > 0
    finally:
        for service in ctx.services:
            service.stop()
        tasks.shutdown(wait=True)
