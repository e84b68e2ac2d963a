"""The call-time board tab (pytest-qt, offscreen): LATE under a controlled clock, arrivals by
tap and keyboard, general call editor, filters, alerts as non-modal notifications."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.store import calltimes_store as store
from app.store.models import OutboxEntry
from app.ui.qt import Qt

from .conftest import GENERAL_CALL

pytestmark = pytest.mark.gui


def _status(tab, name):
    return tab.row_text(name)["Status"]


def _check_alerts(tab):
    """Run one alert check (it reads on the DB worker) and wait for what it found."""
    future = tab.alerts.check_now()
    tab.qtbot.waitUntil(future.done)
    return future.result()


def test_board_turns_late_when_the_clock_passes_a_call(make_tab, clock):
    tab = make_tab()
    assert _status(tab, "Fatima Zahra") == "Scheduled"  # due 16:30 Paris (GC -30)
    assert tab.row_text("Fatima Zahra")["Countdown"] == "in 2 h 30 min"
    clock.now = GENERAL_CALL - timedelta(minutes=29)
    # The one-second ticker repaints countdown and status; no timing is asserted.
    tab.qtbot.waitUntil(lambda: _status(tab, "Fatima Zahra") == "LATE")
    assert tab.row_text("Fatima Zahra")["Countdown"] == "1 min late"
    assert _status(tab, "Gustavo Reyes") == "NO-SHOW"  # 14:30 Paris, over an hour ago
    assert "0 arrived · 4 late · 3 no-show" in tab.summary.text()


def test_arrival_by_tap_and_by_keyboard(make_tab, clock, db, backstage):
    tab = make_tab()
    qtbot = tab.qtbot
    assert tab.select_name("Ana Silva")
    qtbot.mouseClick(tab.arrived_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _status(tab, "Ana Silva") == "ARRIVED")
    assert "Ana Silva arrived at 14:00." in tab.message.text()
    with db.session() as s:
        rows = s.scalars(
            select(OutboxEntry).where(OutboxEntry.row_id == backstage.calls["Ana Silva"])
        ).all()
    assert len(rows) == 1 and "arrived_at" in rows[0].payload

    tab.select_name("Bruno Costa")
    tab.table.setFocus()
    qtbot.keyClick(tab.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: _status(tab, "Bruno Costa") == "ARRIVED")


def test_reloads_in_place_when_another_device_changes_call_times(make_tab, db, backstage, ctx):
    tab = make_tab()
    tab.select_name("Eva Müller")
    with db.session() as s:
        store.mark_arrived(s, backstage.calls["Dmitri Volkov"], GENERAL_CALL - timedelta(hours=4))
    ctx.notify("call_times")
    tab.qtbot.waitUntil(lambda: _status(tab, "Dmitri Volkov") == "ARRIVED")
    assert tab.selected_ids() == [backstage.calls["Eva Müller"]]  # selection kept


def test_general_call_editor_moves_offsets(make_tab):
    tab = make_tab()
    assert tab.row_text("Ana Silva")["Call"] == "16:00  (GC -60)"
    tab.general_edit.setText("17:30")
    tab.qtbot.keyClick(tab.general_edit, Qt.Key.Key_Return)
    tab.qtbot.waitUntil(lambda: tab.row_text("Ana Silva")["Call"] == "16:30  (GC -60)")
    assert tab.row_text("Gustavo Reyes")["Call"] == "14:30"  # absolute: unmoved
    tab.general_edit.setText("25:00")
    tab.apply_general_call()
    assert "not a time of day" in tab.message.text()


def test_filter_by_department_and_search(make_tab):
    tab = make_tab()
    assert len(tab.visible_names()) == 7
    tab.qtbot.mouseClick(tab.dept_buttons["models"], Qt.MouseButton.LeftButton)
    assert sorted(tab.visible_names()) == ["Ana Silva", "Bruno Costa", "Chloé Martin"]
    tab.search.setText("chloe")  # accents and case ignored
    assert tab.visible_names() == ["Chloé Martin"]
    tab.qtbot.mouseClick(tab.dept_buttons[None], Qt.MouseButton.LeftButton)
    tab.search.setText("muller")
    assert tab.visible_names() == ["Eva Müller"]


def test_alert_fires_as_a_non_modal_notification(make_tab, clock):
    tab = make_tab()
    tab.select_name("Bruno Costa")
    tab.mark_selected_arrived()
    tab.qtbot.waitUntil(lambda: _status(tab, "Bruno Costa") == "ARRIVED")
    clock.now = GENERAL_CALL - timedelta(minutes=70)  # Ana and Bruno due at 16:00 Paris
    fired = _check_alerts(tab)
    assert [a.name for a in fired] == ["Ana Silva"]  # Bruno has arrived
    tab.qtbot.waitUntil(lambda: tab.alert_stack.visible_messages() != [])
    toast = tab.alert_stack.toasts[-1]
    assert toast.message == "Ana Silva (Models) is due at 16:00 — not arrived"
    assert not toast.isModal() and toast.isVisible()
    assert _check_alerts(tab) == []  # each alert once
    clock.now = GENERAL_CALL - timedelta(minutes=60)
    assert [a.kind for a in _check_alerts(tab)] == ["due"]
    tab.qtbot.waitUntil(lambda: len(tab.alert_stack.toasts) == 2)


def test_alert_scheduler_runs_on_its_own(make_tab, clock):
    clock.now = GENERAL_CALL - timedelta(minutes=125)  # Dmitri due at 15:00 Paris
    tab = make_tab(alerts=True, alert_interval_seconds=0.2)
    assert tab.alerts.running
    tab.qtbot.waitUntil(
        lambda: (
            "Dmitri Volkov (Hair) is due at 15:00 — not arrived"
            in tab.alert_stack.visible_messages()
        ),
        timeout=10_000,
    )


def test_edit_call_dialog_sets_an_offset_and_refuses_nonsense(make_tab):
    from app.ui.qt import QApplication, QTimer

    tab = make_tab()
    tab.select_name("Eva Müller")
    seen = []

    def fill():
        dialog = QApplication.activeModalWidget()
        dialog.call_edit.setText("25:99")
        dialog._accept()
        seen.append(dialog.error.text())
        dialog.call_edit.setText("-15")
        dialog.location_edit.setText("Makeup room")
        dialog._accept()

    QTimer.singleShot(0, fill)
    tab.edit_selected()
    assert seen and "not a time of day" in seen[0]
    tab.qtbot.waitUntil(lambda: tab.row_text("Eva Müller")["Call"] == "16:45  (GC -15)")
    assert tab.row_text("Eva Müller")["Location"] == "Makeup room"


def test_board_opens_at_the_first_late_person(qtbot, ctx, clock):
    from app.ui.calltimes import CallTimesTab

    clock.now = GENERAL_CALL - timedelta(minutes=50)  # Gustavo, Dmitri no-show; Eva late
    tab = CallTimesTab(ctx, clock, alerts=False)
    qtbot.addWidget(tab)
    tab.resize(1200, 330)
    tab.table.setFixedHeight(110)  # room for two or three rows only
    tab.show()
    qtbot.waitUntil(lambda: tab.board is not None and not tab._scroll_pending)
    qtbot.waitUntil(lambda: tab.table.indexAt(tab.table.viewport().rect().topLeft()).row() > 0)
    top = tab.table.indexAt(tab.table.viewport().rect().topLeft())
    assert tab.proxy.index(top.row(), 0).data() == "Eva Müller"
    tab.shutdown()


def test_call_sheet_prints_through_the_print_dialog(make_tab, tmp_path):
    from pypdf import PdfReader

    from tests.support.dialogs import answer_print_dialog, printer_to_file

    tab = make_tab()
    out = tmp_path / "call-sheet.pdf"
    seen: list[str] = []
    answer_print_dialog(True, seen)
    tab.print_call_sheet(printer_to_file(out))  # its data is read on the DB worker
    tab.qtbot.waitUntil(lambda: "sent to the printer" in tab.message.text(), timeout=10_000)
    assert seen == ["Print"]
    text = " ".join(page.extract_text() for page in PdfReader(str(out)).pages)
    assert "Fatima Zahra" in " ".join(text.split())
