"""The call-time screen's printouts, exports and alerts read the replica on the DB worker,
never on the main (UI) thread; their results come back to the main thread."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.store.models import Person
from tests.support.db_threads import on_main_thread, statements_by_thread

from .conftest import GENERAL_CALL

pytestmark = pytest.mark.gui


@pytest.fixture
def save_to(monkeypatch, tmp_path):
    """Answer every "Save as" dialog with a file in ``tmp_path``; returns the paths asked."""
    from app.ui.qt import QFileDialog

    asked = []

    def answer(_parent, _title, name, _filter="", *args, **kwargs):
        path = tmp_path / name
        asked.append(path)
        return str(path), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", answer)
    return asked


def test_the_recorder_sees_a_read_on_the_main_thread(db):
    # The check below means something only if a main-thread query is caught.
    with statements_by_thread(db) as seen, db.session() as session:
        session.scalars(select(Person.id)).all()
    assert any("people" in statement for statement in on_main_thread(seen))


def _print(tab, _tmp_path, _save_to):
    from tests.support.dialogs import answer_print_dialog, printer_to_file

    seen: list[str] = []
    answer_print_dialog(True, seen)
    tab.print_call_sheet(printer_to_file(_tmp_path / "printed.pdf"))
    tab.qtbot.waitUntil(lambda: "sent to the printer" in tab.message.text(), timeout=10_000)
    assert seen == ["Print"] and (_tmp_path / "printed.pdf").stat().st_size > 0


def _pdf(tab, _tmp_path, save_to):
    tab.save_call_sheet_pdf()
    tab.qtbot.waitUntil(lambda: "Call sheet saved to" in tab.message.text(), timeout=10_000)
    assert save_to[0].read_bytes().startswith(b"%PDF")


def _csv(tab, _tmp_path, save_to):
    tab.export_csv()
    tab.qtbot.waitUntil(lambda: "exported to" in tab.message.text(), timeout=10_000)
    assert "Fatima Zahra" in save_to[0].read_text(encoding="utf-8-sig")


def _badges(tab, _tmp_path, save_to):
    tab.save_badges_pdf()
    tab.qtbot.waitUntil(lambda: "badges saved to" in tab.message.text(), timeout=20_000)
    assert save_to[0].read_bytes().startswith(b"%PDF")


def _alerts(tab, _tmp_path, _save_to):
    tab.clock.now = GENERAL_CALL - timedelta(minutes=70)  # Ana and Bruno due at 16:00 Paris
    future = tab.alerts.check_now()
    tab.qtbot.waitUntil(lambda: tab.alert_stack.visible_messages() != [], timeout=10_000)
    assert future.done() and {a.name for a in future.result()} == {"Ana Silva", "Bruno Costa"}


ACTIONS = {
    "print call sheet": _print,
    "save call sheet PDF": _pdf,
    "export CSV": _csv,
    "save badges PDF": _badges,
    "call alerts": _alerts,
}


@pytest.mark.parametrize("action", list(ACTIONS))
def test_reads_run_on_the_db_worker(make_tab, db, tmp_path, save_to, action):
    tab = make_tab()
    with statements_by_thread(db) as seen:
        ACTIONS[action](tab, tmp_path, save_to)
    assert seen, "the action read nothing, so this test would prove nothing"
    assert on_main_thread(seen) == []
    assert {name for name, _ in seen} == {"showdesk-db_0"}
