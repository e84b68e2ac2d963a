"""`showdesk bench lineup` runs end to end and reports its figures (no timing asserted)."""

from __future__ import annotations

import json

import pytest

from app.bench.lineup import naive_quick_changes, run
from tests.support.lineup import synthetic_lineup


def test_naive_baseline_finds_the_same_quick_changes():
    lineup = synthetic_lineup(60, models=20, seed=4)
    expected = [
        f"{q.model_name} walks look {q.first_number} and look {q.second_number}"
        for q in lineup.quick_changes()
    ]
    assert naive_quick_changes(lineup.order, lineup.show) == expected


@pytest.mark.gui
def test_bench_prints_json_with_domain_baseline_and_ui(qtbot):
    from app.bench.lineup_ui import bench_board_and_display

    result = json.loads(json.dumps(run(30, 25, ui_bench=bench_board_and_display)))
    d = result["domain"]
    assert d["fractional"]["n"] == 25 and d["naive_baseline"]["n"] == 25
    assert (
        d["fractional"]["rows_written_per_move"] <= 1 < d["naive_baseline"]["rows_written_per_move"]
    )
    assert result["ui"]["board_repaint"]["n"] > 0 and result["ui"]["display_advance"]["n"] > 0
