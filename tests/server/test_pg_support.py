"""The test PostgreSQL leaves nothing running when its session dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from tests.support.pg import ROOT, stop_orphans

pytestmark = pytest.mark.postgres

CHILD = """
import sys, time
sys.path.insert(0, {root!r})
from tests.support.pg import PgServer
server = PgServer()
server.start()
print(server.port, server.tmp, flush=True)
time.sleep(120)
"""


def _start_child() -> tuple[subprocess.Popen, int, Path]:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD.format(root=str(ROOT))], stdout=subprocess.PIPE, text=True
    )
    line = child.stdout.readline().split()
    assert line, "the child did not start its server"
    return child, int(line[0]), Path(line[1])


def _accepts(port: int) -> bool:
    try:
        psycopg.connect(
            f"host=127.0.0.1 port={port} dbname=postgres user=postgres", connect_timeout=3
        ).close()
        return True
    except psycopg.OperationalError:
        return False


def _wait_closed(port: int, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _accepts(port):
            return True
        time.sleep(0.2)
    return False


def test_sigterm_stops_the_server_and_sigkill_leaves_an_orphan_the_next_run_stops():
    child, port, tmp = _start_child()
    assert _accepts(port)
    child.send_signal(signal.SIGTERM)
    child.wait(30)
    assert _wait_closed(port) and not tmp.exists()

    child, port, tmp = _start_child()
    os.kill(child.pid, signal.SIGKILL)
    child.wait(30)
    assert _accepts(port)  # SIGKILL skips every clean-up hook...
    stop_orphans()  # ...so the next session stops what the dead one left behind
    assert _wait_closed(port) and not tmp.exists()
