"""Real screens under Xvfb: monitors added and unplugged with xrandr while the display runs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.gui

SCRIPT = Path(__file__).with_name("screens_script.py")
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(
    not (shutil.which("xvfb-run") and shutil.which("xrandr")),
    reason="needs xvfb-run and xrandr (apt: xvfb x11-xserver-utils)",
)
def test_display_opens_on_the_other_screen_and_moves_when_it_is_unplugged():
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env["QT_QPA_PLATFORM"] = "xcb"
    done = subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 1280x800x24", sys.executable, str(SCRIPT)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert done.returncode == 0 and lines, done.stderr[-2000:]
    result = json.loads(lines[-1])
    assert result["control_on"] == "CONTROL"
    assert result["opened_on"] == "TV" and result["opened_geometry"] == [640, 0, 640, 800]
    assert result["removed"] == ["TV"]
    assert result["now_on"] != "TV" and result["visible"] and result["fullscreen"]
    assert "unplugged" in result["message"]
    assert result["current_look"].startswith("LOOK 1")  # still takes keys after the move
