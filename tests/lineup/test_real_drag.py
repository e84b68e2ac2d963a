"""A look dragged with the real X pointer under Xvfb (XTEST through xdotool, Qt's XDND loop)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.gui

SCRIPT = Path(__file__).with_name("drag_script.py")
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(
    not (shutil.which("xvfb-run") and shutil.which("xdotool")),
    reason="needs xvfb-run and xdotool (apt: xvfb xdotool)",
)
def test_a_look_dragged_with_the_mouse_moves_and_saves_one_outbox_row():
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env["QT_QPA_PLATFORM"] = "xcb"
    done = subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 1280x800x24", sys.executable, str(SCRIPT)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert done.returncode == 0 and lines, done.stderr[-2000:]
    result = json.loads(lines[-1])
    assert result["pointer_exit"] == 0
    assert result["moved_from"] == 7 and result["moved_to"] == 5
    assert result["others_in_order"] and result["outbox_rows"] == 1
