"""The door says a verdict in the same words on the panel, in the last-scans list, in the
sound family and in the log (and the command line says them too: tests/door/test_words.py)."""

from __future__ import annotations

import logging

import pytest

from app.domain.verdicts import HEADLINES, SOUNDS, Verdict
from app.ui.screenshots import forge

from .conftest import fresh_tickets, no_camera

pytestmark = pytest.mark.gui


def test_an_invalid_code_reads_the_same_everywhere(qtbot, make_door, door_ctx, caplog):
    _ticket_id, code, *_ = fresh_tickets(door_ctx, 1)[0]
    door = make_door(source_factory=no_camera)
    caplog.set_level(logging.INFO, logger="app.ui.door.tab")
    door.scan_code(forge(code))
    qtbot.waitUntil(lambda: bool(door.history), timeout=10000)
    result = door.history[-1]
    words = HEADLINES[Verdict.FORGED]
    assert result.verdict is Verdict.FORGED and result.headline == words == "INVALID CODE"
    assert door.panel.headline.text() == words
    assert door.panel.reason.isVisible() and door.panel.reason.text() == result.reason
    assert door.sounds.last_requested == SOUNDS[Verdict.FORGED] == "refusal"
    assert f"words={words!r}" in caplog.text
    assert "FORGED" not in caplog.text
    qtbot.waitUntil(lambda: door.recent.count() and words in door.recent.item(0).text())
