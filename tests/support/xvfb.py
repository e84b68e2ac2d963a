"""Run a script of the test tree in its own process under Xvfb, with Qt's real X11 backend."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def needs(*tools: str) -> pytest.MarkDecorator:
    """Skip unless xvfb-run and ``tools`` are installed (.ci/run installs them)."""
    missing = [t for t in ("xvfb-run", *tools) if not shutil.which(t)]
    return pytest.mark.skipif(bool(missing), reason=f"needs {', '.join(missing)} (see .ci/run)")


def run_module(module: str, timeout: float = 120, screen: str = "1280x800x24") -> dict:
    """``python -m module`` on a fresh X server (no window manager) with one ``screen``
    (WxHxDepth); the last JSON line it printed."""
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env["QT_QPA_PLATFORM"] = "xcb"
    done = subprocess.run(
        ["xvfb-run", "-a", "-s", f"-screen 0 {screen}", sys.executable, "-m", module],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert done.returncode == 0 and lines, done.stderr[-2000:]
    return json.loads(lines[-1])
