"""Real screens under Xvfb: monitors added and unplugged with xrandr while the display runs."""

from __future__ import annotations

import pytest

from tests.support.xvfb import needs, run_module

pytestmark = pytest.mark.gui


@needs("xrandr")
def test_display_opens_on_the_other_screen_and_moves_when_it_is_unplugged():
    result = run_module("tests.lineup.screens_script")
    assert result["control_on"] == "CONTROL"
    assert result["opened_on"] == "TV" and result["opened_geometry"] == [640, 0, 640, 800]
    assert result["removed"] == ["TV"]
    assert result["now_on"] != "TV" and result["visible"] and result["fullscreen"]
    assert "unplugged" in result["message"]
    assert result["current_look"].startswith("LOOK 1")  # still takes keys after the move
