"""Camera frames of real tickets through the real ScanLoop, decoder and CheckinService."""

from __future__ import annotations

from sqlalchemy import func, select

from app.scan.decoders import build_chain
from app.ui.door.demo_source import ticket_source
from app.ui.screenshots import forge

from .conftest import fresh_tickets


def _run_camera(qtbot, door, texts, expected_count):
    """Point the camera at ``texts`` with a fresh ScanLoop; wait for the verdicts."""
    door.feed.stop()
    door.feed.source_factory = ticket_source(texts, repeat=8)
    door.feed.start()
    qtbot.waitUntil(lambda: len(door.history) >= expected_count, timeout=20000)
    return door.history[-1]


def test_admitted_then_already_admitted_then_forged(qtbot, make_door, door_ctx):
    from app.store.models import Checkin

    ticket_id, code, number, first, last = fresh_tickets(door_ctx, 1)[0]
    door = make_door(
        source_factory=ticket_source([None, code], repeat=8),
        decoder_factory=lambda: build_chain("auto"),
    )
    qtbot.waitUntil(lambda: len(door.history) >= 1, timeout=20000)
    first_result = door.history[0]
    assert first_result.verdict == "admitted"
    assert door.panel.headline.text() == "ADMITTED"
    assert door.panel.name.text() == f"{first} {last}"
    assert number in door.panel.ticket_line.text()
    assert door.preview.image is not None  # the live picture was shown
    assert len(door.history) == 1  # the same code held in view is read once (debounce)
    assert door.sounds.last_requested in ("ok", "attention")

    second = _run_camera(qtbot, door, [code], 2)
    assert second.verdict == "already_admitted"
    assert door.panel.headline.text() == "ALREADY ADMITTED"
    assert "North door" in door.panel.detail.text()

    third = _run_camera(qtbot, door, [forge(code)], 3)
    assert third.verdict == "forged"
    # The guest may be honest (a cracked screen): the screen says what the CLI says, with why.
    assert door.panel.headline.text() == "INVALID CODE"
    assert door.panel.reason.isVisible() and "signature" in door.panel.reason.text()
    assert door.panel.icon.shape == "stop"
    assert door.sounds.last_requested == "refusal"

    # Every scan is in the log, and the last-scans list and counters caught up.
    with door_ctx.db.session() as session:
        logged = session.scalar(
            select(func.count()).select_from(Checkin).where(Checkin.ticket_id == ticket_id)
        )
    assert logged == 2
    qtbot.waitUntil(
        lambda: door.recent.count() >= 3 and "INVALID CODE" in door.recent.item(0).text(),
        timeout=5000,
    )
    assert door.counters.text().startswith("Admitted ")
    assert "GENERAL" in door.tiers.text()
    assert door.timings and all(shown >= read for read, shown in door.timings)


def test_screen_is_ready_for_the_next_guest_once_the_code_leaves_view(qtbot, make_door, door_ctx):
    """A guest admitted, then the phone taken away: the door says "Ready" again without
    waiting for its verdict timer, so the next guest is not greeted by the last guest's name."""
    from app.ui.door.verdict_style import READY

    ((_id, code, *_rest),) = fresh_tickets(door_ctx, 1)
    door_ctx.config.verdict_seconds = 600  # only the code leaving the view can clear it
    # 0.5 s of the code, then 3 s of an empty scene (30 fps).
    door = make_door(
        source_factory=ticket_source([code] + [None] * 6, repeat=15),
        decoder_factory=lambda: build_chain("auto"),
    )
    qtbot.waitUntil(lambda: len(door.history) >= 1, timeout=20000)
    assert door.history[0].verdict == "admitted"
    with qtbot.waitSignal(door.panel.cleared, timeout=10000):
        pass
    assert door.panel.headline.text() == READY.headline
