"""`--kiosk` on a real X server with no window manager (a bare kiosk session): the window
covers the screen, and the keys keep reaching the door after a dialog closes."""

from __future__ import annotations

import pytest

from tests.support.xvfb import needs, run_module

pytestmark = pytest.mark.gui


@needs("xdotool")
def test_kiosk_without_a_window_manager_is_fullscreen_and_keeps_its_shortcuts():
    # A screen bigger than the window's normal size: "fullscreen" must really fill it.
    result = run_module("tests.door_ui.kiosk_nowm_script", timeout=180, screen="1920x1080x24")
    assert "error" not in result, result.get("error")
    assert result["exit_code"] == 0 and result["locked"]
    assert result["x_geometry"] == result["screen"] == [0, 0, 1920, 1080]
    assert result["f3_before_dialog"]
    assert result["pin_dialog_opened"] and result["pin_dialog_closed"]
    assert result["f3_after_pin_dialog"]  # the keyboard came back from the PIN dialog
    assert result["signed_in"]  # search needs a staff member at a locked kiosk
    assert result["card_opened"] and result["f3_after_card"]
    assert result["unlocked"] and result["f3_after_unlock"]
