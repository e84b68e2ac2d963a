"""A built wheel, installed (not editable) into a fresh environment outside the checkout, finds
its data files and runs a command that needs them.

Skipped unless SHOWDESK_WHEEL names a built wheel, to keep the suite fast: CI's full wheel
smoke test (every command) is .ci/smoke_wheel.sh, which .ci/run calls. To run this one:

    .venv/bin/python -m build --outdir /tmp/dist .
    SHOWDESK_WHEEL=$(ls /tmp/dist/*.whl) .venv/bin/python -m pytest tests/packaging
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WHEEL = os.environ.get("SHOWDESK_WHEEL", "")

pytestmark = pytest.mark.skipif(not WHEEL, reason="SHOWDESK_WHEEL (a built wheel) not given")


def _run(*command: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"{command}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.mark.timeout(900)
def test_the_wheel_runs_outside_the_checkout(tmp_path: Path) -> None:
    wheel = Path(WHEEL).resolve()
    assert wheel.is_file() and wheel.suffix == ".whl", wheel
    assert not tmp_path.resolve().is_relative_to(ROOT)
    venv = tmp_path / "venv"
    python = venv / "bin" / "python"
    pip = (sys.executable, "-m", "pip")
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    # The test environment's versions as constraints: downloads come from pip's cache.
    constraints = tmp_path / "constraints.txt"
    constraints.write_text(_run(*pip, "freeze", "--exclude-editable", cwd=tmp_path))
    install = ("install", "-q", "--no-compile", "-c", constraints, wheel)
    _run(*pip, "--python", python, *install, cwd=tmp_path)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    probe = "import app, app.resources as r; print(app.__file__, r.data_root(), r.missing_data())"
    where = _run(python, "-c", probe, cwd=elsewhere, env=env).split(maxsplit=2)
    assert all(part.startswith(str(venv)) for part in where[:2]), where
    assert where[2].strip() == "[]"

    db = tmp_path / "demo.sqlite"
    showdesk = venv / "bin" / "showdesk"
    out = _run(showdesk, "demo", "--db", db, "--tickets", "50", "--json", cwd=elsewhere, env=env)
    assert json.loads(out)["tickets"] == 50
