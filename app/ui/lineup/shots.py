"""Lineup states for `showdesk screenshot`: the board at its first quick change, and the show
display mid-show (a quick change on deck, a little behind schedule)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.domain.lineup import Lineup
from app.ui import show_display


def prepare_board(tab) -> None:
    """Scroll the board so the first quick change is in view, and select it."""
    lineup = tab.model.lineup
    if lineup is None or not lineup.quick_changes():
        return
    q = lineup.quick_changes()[0]
    tab.select(q.second_id)
    tab.say("Edit mode: drag looks or use Ctrl+Up / Ctrl+Down / Ctrl+G to reorder.")


def open_display_mid_show(tab, behind_s: int = 12) -> show_display.ShowDisplay | None:
    """Show mode with the display open, looks sent out on a plausible timeline up to the one
    before the first quick change (so the quick change is ON DECK)."""
    lineup: Lineup | None = tab.model.lineup
    if lineup is None or len(lineup) < 3:
        return None
    quick = lineup.quick_changes()
    target = (lineup.number_of(quick[0].second_id) - 1) if quick else min(5, len(lineup) - 1)
    offsets = lineup.planned_offsets()
    now = datetime.now(UTC).replace(microsecond=0)
    last = target - 1
    base = now - timedelta(seconds=offsets[last] + behind_s + 10)
    times = [
        base + timedelta(seconds=offsets[i] + behind_s * i / max(1, last)) for i in range(target)
    ]
    feed = iter(times)
    current = {"t": times[0]}

    def clock() -> datetime:
        return current["t"]

    tab.set_mode("show")
    copy = Lineup(lineup.show, lineup.segments.values(), lineup.order)
    display = show_display.open_show_display(
        tab.ctx, copy, control=tab.window(), clock=clock, timezone=tab.timezone
    )
    for t in feed:
        current["t"] = t
        display.runner.advance()
    current["t"] = now
    display.refresh()
    return display
