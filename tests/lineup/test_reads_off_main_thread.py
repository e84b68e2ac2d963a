"""The lineup screen's printouts read the replica on the DB worker, never on the main (UI)
thread; the document is laid out and printed back on the main thread."""

from __future__ import annotations

import pytest

from tests.support.db_threads import on_main_thread, statements_by_thread

pytestmark = pytest.mark.gui


@pytest.mark.parametrize("kind", ["lineup", "run-cards"])
def test_printing_reads_on_the_db_worker(qtbot, make_tab, db, tmp_path, kind):
    from tests.support.dialogs import answer_print_dialog, printer_to_file

    tab = make_tab()
    out = tmp_path / f"{kind}.pdf"
    seen_dialogs: list[str] = []
    answer_print_dialog(True, seen_dialogs)
    with statements_by_thread(db) as seen:
        tab.print_paper(kind, printer_to_file(out))
        qtbot.waitUntil(lambda: "sent to the printer" in tab.status_line.text(), timeout=10_000)
    assert out.stat().st_size > 0 and seen_dialogs == ["Print"]
    assert seen, "printing read nothing, so this test would prove nothing"
    assert on_main_thread(seen) == []


@pytest.mark.parametrize("kind", ["lineup", "run-cards"])
def test_saving_a_pdf_reads_on_the_db_worker(qtbot, make_tab, db, tmp_path, monkeypatch, kind):
    from app.ui.qt import QFileDialog

    monkeypatch.setattr(
        QFileDialog,
        "getSaveFileName",
        lambda _parent, _title, name, _filter: (str(tmp_path / name), ""),
    )
    tab = make_tab()
    with statements_by_thread(db) as seen:
        tab._lineup_pdf() if kind == "lineup" else tab._run_cards_pdf()
        qtbot.waitUntil(lambda: any(tmp_path.glob(f"*-{kind}.pdf")), timeout=10_000)
        pdf = next(tmp_path.glob(f"*-{kind}.pdf"))
        qtbot.waitUntil(lambda: pdf.read_bytes().rstrip().endswith(b"%%EOF"), timeout=10_000)
    assert seen, "saving read nothing, so this test would prove nothing"
    assert on_main_thread(seen) == []
