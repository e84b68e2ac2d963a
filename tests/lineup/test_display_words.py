"""The show display's words: over/under without a double negative, and look titles without a
walk-order number that a reorder has made stale."""

from __future__ import annotations

import pytest

from app.domain.lineup import format_delta, title_without_number
from app.store import lineup_store
from app.ui import show_display

pytestmark = pytest.mark.gui


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(-59, "0:59 ahead"), (-0.4, "on time"), (0, "on time"), (42, "0:42 behind"),
     (3725, "62:05 behind")],
)  # fmt: skip
def test_over_under_reads_without_signs(seconds, words):
    assert format_delta(seconds) == words
    assert not any(sign in format_delta(seconds) for sign in "+−-")


@pytest.mark.parametrize(
    ("title", "shown"),
    [("Look 2: Velvet kaftan", "Velvet kaftan"), ("LOOK 12 — Trench", "Trench"),
     ("look #3 - Slip dress", "Slip dress"), ("#4 Cape", "Cape"), ("Look 7", ""),
     ("Lookbook dress", "Lookbook dress"), ("12 Monkeys coat", "12 Monkeys coat"),
     ("Velvet look 2", "Velvet look 2")],
)  # fmt: skip
def test_titles_lose_only_a_leading_look_number(title, shown):
    assert title_without_number(title) == shown


def test_after_a_reorder_the_display_shows_the_current_number_and_a_bare_title(qtbot, ctx, show):
    lineup = lineup_store.load_lineup(ctx.db, show.show_id)
    moved = lineup.at(1)  # "Look 2 coat" walks third after this move
    lineup_store.save_move(ctx.db, lineup.plan_move(moved.id, 2))
    lineup = lineup_store.load_lineup(ctx.db, show.show_id)
    assert lineup.index_of(moved.id) == 2 and moved.look_title == "Look 2 coat"
    display = show_display.ShowDisplay(ctx, lineup)
    qtbot.addWidget(display)
    display.resize(1280, 720)
    display.show()
    try:
        for _ in range(3):
            display.runner.advance()
        assert display.now_panel.number.text().startswith("LOOK 3")
        assert display.now_panel.detail.text() == "Arlo — coat"
        assert "Look" not in display.now_panel.detail.text()
    finally:
        display.close_confirmed()
        from app.ui import tasks

        tasks.shutdown(wait=True)
