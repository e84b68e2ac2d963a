"""A scanner typing through a real X server (Xvfb + xdotool) at 2, 60 and 120 ms a key."""

from __future__ import annotations

import pytest

from tests.support.xvfb import needs, run_module

pytestmark = pytest.mark.gui


@needs("xdotool")
def test_codes_at_any_speed_scan_and_names_stay_names_under_x():
    result = run_module("tests.door_ui.scanner_xvfb_script", timeout=180)
    for case in ("token_2ms", "token_120ms", "legacy_60ms"):
        assert result[case]["scans"] == 1, (case, result[case])
        assert result[case]["left_in_box"] == "", (case, result[case])
        assert result[case]["verdict"] in ("admitted", "already_admitted"), (case, result[case])
    assert result["token_120ms"]["ms_per_key"] >= 100  # really that slow, key by key
    for case, name in (("name_120ms", "Maria Lopez"), ("name_55ms", "Lopez")):
        assert result[case]["scans"] == 0, (case, result[case])
        assert result[case]["left_in_box"] == name, (case, result[case])
