"""`showdesk doctor`: database, decoders, camera, backend reachability, in plain words."""

from __future__ import annotations

import argparse
import json
import socket

from app.cli import doctor as doctor_command
from app.config import Config
from app.doctor import PROBLEM, check_backend, check_camera, check_database


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_backend_none_is_not_configured():
    check = check_backend(Config(backend="none"))
    assert "not configured" in check.message


def test_postgres_backend_unreachable_is_said_plainly():
    port = _closed_port()
    check = check_backend(
        Config(backend="postgres", postgres_dsn=f"postgresql://kiosk@127.0.0.1:{port}/showdesk")
    )
    assert check.status == PROBLEM
    assert f"127.0.0.1:{port} cannot be reached" in check.message


def test_postgres_backend_reachable(tmp_path):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        check = check_backend(
            Config(backend="postgres", postgres_dsn=f"host=127.0.0.1 port={port} dbname=x")
        )
    assert check.status == "ok" and "accepts connections" in check.message


def test_supabase_backend_unreachable():
    port = _closed_port()
    check = check_backend(Config(backend="supabase", supabase_url=f"http://127.0.0.1:{port}"))
    assert check.status == PROBLEM and "cannot be reached" in check.message


def test_missing_camera_is_a_sentence():
    check = check_camera(Config(camera=97))
    assert check.status == PROBLEM
    assert "USB scanner" in check.message


def test_damaged_database(tmp_path):
    path = tmp_path / "broken.sqlite"
    path.write_bytes(b"garbage " * 1000)
    check = check_database(Config(db=path))
    assert check.status == PROBLEM and "damaged" in check.message


def test_cli_json_on_the_demo_database(demo_template, capsys):
    path, _event = demo_template
    code = doctor_command.run(argparse.Namespace(db=path, json=True))
    report = json.loads(capsys.readouterr().out)
    checks = {c["name"]: c for c in report["checks"]}
    assert set(checks) == {
        "settings",
        "secrets",
        "database",
        "decoders",
        "camera",
        "backend",
        "platform",
        "sound",
        "logs",
    }
    assert checks["database"]["status"] == "ok" and checks["database"]["details"]["tickets"] == 300
    assert checks["backend"]["message"].startswith("Backend not configured")
    assert checks["platform"]["message"] == "No server configured: nothing to bridge."
    assert code == (1 if any(c["status"] == PROBLEM for c in checks.values()) else 0)
