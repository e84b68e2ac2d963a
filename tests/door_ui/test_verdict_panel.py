"""The verdict panel: words, colour, icon for every verdict; details; back to Ready."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from app.domain.verdicts import Verdict
from app.ui.door.verdict_panel import VerdictPanel
from app.ui.door.verdict_style import READY, STYLES, style_for


@dataclass(frozen=True)
class Shown:
    """The fields of ScanResult the panel reads (a real result comes from CheckinService in
    the flow tests; here each verdict is shown directly to check its look)."""

    verdict: str
    headline: str
    detail: str
    attendee_name: str | None = None
    tier: str | None = None
    ticket_type: str | None = None
    order_number: str | None = None
    ticket_number: str | None = None
    notes: str | None = None
    offline: bool = False
    scanned_at: datetime = datetime(2026, 3, 1, 19, 42, tzinfo=UTC)


def test_every_verdict_has_its_own_words_and_a_shape_not_only_a_colour():
    assert set(STYLES) == {v.value for v in Verdict}
    assert len({s.headline for s in STYLES.values()}) == len(STYLES)
    # No two verdicts look alike: colour+icon pairs are unique, and the headline differs anyway.
    assert len({(s.background, s.icon) for s in STYLES.values()}) >= len(STYLES) - 1
    assert (
        style_for("admitted").icon != style_for("forged").icon != style_for("already_admitted").icon
    )


@pytest.mark.parametrize("verdict", [v.value for v in Verdict])
def test_panel_shows_each_verdict(qtbot, verdict):
    panel = VerdictPanel(seconds=0)
    qtbot.addWidget(panel)
    panel.resize(800, 500)
    panel.show()
    panel.show_result(
        Shown(
            verdict,
            "whatever the core says",
            "A plain sentence.",
            "Ada Lovelace",
            "vip",
            "VIP Front Row",
            "A-1",
            "T-1",
        )
    )
    assert panel.headline.text() == STYLES[verdict].headline
    assert panel.icon.shape == STYLES[verdict].icon
    assert STYLES[verdict].background in panel.styleSheet()
    assert panel.detail.text() == "A plain sentence."


def test_details_notes_offline_marker_then_back_to_ready(qtbot):
    panel = VerdictPanel(seconds=0.3)
    qtbot.addWidget(panel)
    panel.resize(800, 500)
    panel.show()
    panel.show_result(
        Shown(
            "admitted",
            "ADMITTED",
            "Welcome.",
            "Ada Lovelace",
            "vip",
            "VIP Front Row",
            "AUR-100",
            "FW26-7",
            notes="Wheelchair user",
            offline=True,
        )
    )
    assert panel.name.text() == "Ada Lovelace"
    assert panel.ticket_line.text() == "VIP  ·  Order AUR-100  ·  Ticket FW26-7"
    assert "Wheelchair user" in panel.notes.text() and panel.notes.isVisible()
    assert panel.offline.isVisible()
    with qtbot.waitSignal(panel.cleared, timeout=3000):
        pass
    assert panel.headline.text() == READY.headline
    assert not panel.offline.isVisible() and not panel.notes.isVisible()
    assert not panel.showing_verdict


def test_long_headline_shrinks_to_fit(qtbot):
    panel = VerdictPanel(seconds=0)
    qtbot.addWidget(panel)
    panel.resize(700, 400)
    panel.show()
    panel.show_result(Shown("wrong_gate_or_tier", "", "Use the VIP entrance."))
    qtbot.waitUntil(lambda: panel.headline.font().pixelSize() < panel.headline.max_px)
    from app.ui.qt import QFontMetrics

    width = QFontMetrics(panel.headline.font()).horizontalAdvance(panel.headline.text())
    assert width <= panel.headline.width()
    assert not panel.headline.wordWrap()
    panel.resize(330, 400)  # far too narrow: the words wrap rather than get cut
    qtbot.waitUntil(lambda: panel.headline.wordWrap())


def test_go_verdict_clears_when_the_guest_moves_on_refusals_and_notes_stay(qtbot, monkeypatch):
    """At 2 s a guest the 4 s timer would show the last guest's name to the next one: a plain
    admitted/exit verdict goes back to Ready once the code has left the view (after a moment to
    read it); a refusal or a note keeps its full time for the door staff."""
    from app.ui.door import verdict_panel

    monkeypatch.setattr(verdict_panel, "READ_SECONDS", 0.2)
    panel = VerdictPanel(seconds=30)
    qtbot.addWidget(panel)
    panel.show()

    panel.show_result(Shown("admitted", "", "", "Ada Lovelace"))
    panel.guest_moved_on()  # within the reading moment: cleared after it, not at once
    assert panel.showing_verdict
    with qtbot.waitSignal(panel.cleared, timeout=2000):
        pass
    assert not panel.showing_verdict and panel.headline.text() == READY.headline

    panel.show_result(Shown("exit_recorded", "", ""))
    qtbot.wait(250)
    with qtbot.waitSignal(panel.cleared, timeout=100):
        panel.guest_moved_on()  # already read: at once

    for kept in (Shown("already_admitted", "", ""), Shown("admitted", "", "", notes="Wheelchair")):
        panel.show_result(kept)
        qtbot.wait(250)
        panel.guest_moved_on()
        qtbot.wait(300)
        assert panel.showing_verdict, kept
