"""PDFs (lineup sheet, run cards, call sheet) checked with pypdf; CSV round trips."""

from __future__ import annotations

import csv
from datetime import timedelta

import pytest
from pypdf import PdfReader

from app.store import calltimes_store as store
from app.store.exports import (
    CALLTIME_COLUMNS,
    LINEUP_COLUMNS,
    export_calltimes_csv,
    export_lineup_csv,
)

from .conftest import GENERAL_CALL


def _text(path) -> tuple[int, list[str]]:
    reader = PdfReader(str(path))
    return len(reader.pages), [" ".join(page.extract_text().split()) for page in reader.pages]


def test_lineup_sheet_pdf(qapp, db, backstage, tmp_path):
    from app.ui.printing import lineup_sheet_pdf

    path = lineup_sheet_pdf(db, backstage.show_id, tmp_path / "lineup.pdf")
    pages, texts = _text(path)
    text = " ".join(texts)
    assert pages >= 1
    for word in (
        "Main show",
        "Day",
        "Evening",
        "Wool coat",
        "Velvet gown",
        "Ana Silva",
        "LAMARQUE",
    ):
        assert word in text
    # Ana walks looks 1 and 3 with one look between: a quick change, named on the sheet.
    assert "Ana Silva walks look 1 and look 3" in text


def test_run_cards_one_page_per_model(qapp, db, backstage, tmp_path):
    from app.ui.printing import run_cards_pdf

    path = run_cards_pdf(db, backstage.show_id, tmp_path / "cards.pdf")
    pages, texts = _text(path)
    assert pages == 3  # Ana, Bruno, Chloé
    assert "Ana Silva" in texts[0] and "Wool coat" in texts[0] and "Silk dress" in texts[0]
    assert "QUICK CHANGE" in texts[0] and "Look 1" in texts[0]
    assert "Bruno Costa" in texts[1] and "Tuxedo" in texts[1]
    assert "Chloé Martin" in texts[2] and "no change" in texts[2]


def test_call_sheet_pdf(qapp, db, backstage, tmp_path):
    from app.ui.printing import call_sheet_pdf

    path = call_sheet_pdf(db, backstage.event_id, tmp_path / "calls.pdf")
    pages, texts = _text(path)
    text = " ".join(texts)
    for word in (
        "Paris Winter Show",
        "Models",
        "Hair",
        "Dressers",
        "Dmitri Volkov",
        "15:00",
        "Grand Palais",
    ):
        assert word in text
    assert "+33 6 11 22 33 44" in text


def test_pdf_to_unwritable_place_is_a_sentence(qapp, db, backstage, tmp_path):
    from app.ui.printing import PrintProblem, call_sheet_pdf

    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(PrintProblem, match="Cannot write"):
        call_sheet_pdf(db, backstage.event_id, blocker / "calls.pdf")


def test_lineup_csv_round_trip(db, backstage, tmp_path):
    path = export_lineup_csv(db, backstage.show_id, tmp_path / "lineup.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM for Excel
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == LINEUP_COLUMNS
    assert [r["Number"] for r in rows] == ["1", "2", "3", "4", "5"]
    assert [r["Model"] for r in rows] == [
        "Ana Silva",
        "Bruno Costa",
        "Ana Silva",
        "Chloé Martin",
        "Bruno Costa",
    ]
    assert rows[0]["Pinned"] == "Opening"
    assert rows[2]["Quick change"].startswith("Ana Silva walks look 1 and look 3")


def test_calltimes_csv_round_trip(db, backstage, tmp_path, clock):
    with db.session() as s:
        store.mark_arrived(s, backstage.calls["Ana Silva"], GENERAL_CALL - timedelta(minutes=62))
    clock.now = GENERAL_CALL + timedelta(minutes=5)
    path = export_calltimes_csv(db, backstage.event_id, tmp_path / "calls.csv", clock=clock)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = {r["Name"]: r for r in csv.DictReader(fh)}
    assert list(next(iter(rows.values()))) == CALLTIME_COLUMNS
    assert rows["Eva Müller"]["Call time"] == "15:30"  # event timezone (Paris), -90 min
    assert rows["Eva Müller"]["Department"] == "Makeup"
    assert rows["Ana Silva"]["Status"] == "ARRIVED"
    assert rows["Ana Silva"]["Arrived"] == "2026-11-21 15:58"
    assert rows["Bruno Costa"]["Status"] == "NO-SHOW"  # 65 min past a -60 call
    assert rows["Fatima Zahra"]["Status"] == "LATE"
    assert rows["Fatima Zahra"]["Call date"] == "Sat 21 Nov"
