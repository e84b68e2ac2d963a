"""`showdesk doctor`: a database that cannot store scans is a problem, any problem exits 1, and
`--report FILE` bundles versions, redacted settings, the logs, the crash file and the checks into
one zip in which no secret of the settings appears."""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import zipfile
from collections import namedtuple
from pathlib import Path

import pytest

import app.doctor as doctor
from app.cli import doctor as doctor_command
from app.cli import main
from app.config import Config, load_config
from app.doctor import OK, PROBLEM, WARNING, Check, check_database, redact_dsn
from app.logs import start

ROOT = Path(__file__).resolve().parents[2]

SECRETS = {
    "SHOWDESK_SUPABASE_PASSWORD": "Sup4base-Passw0rd!",
    "SHOWDESK_SUPABASE_KEY": "eyJhbGciOiJIUzI1NiJ9.anon-key-payload.sig",
    "SHOWDESK_POSTGRES_CLAIMS": '{"role": "authenticated", "sub": "claims-subject-4711"}',
    "SHOWDESK_KIOSK_PIN": "739154",
    "SHOWDESK_JWT_SECRET": "jwt-signing-secret-0042",
}
PG_PASSWORD = "Pg-Secr3t-789"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from app.store.db import open_database
    from app.store.demo import seed_demo

    path = tmp_path_factory.mktemp("doctor") / "demo.sqlite"
    db = open_database(path)
    seed_demo(db, tickets=40, seed=3)
    db.close()
    return path


@pytest.fixture
def demo_copy(demo_db: Path, tmp_path: Path) -> Path:
    path = tmp_path / "kiosk.sqlite"
    shutil.copy(demo_db, path)
    return path


@pytest.fixture
def reset_logging():
    """Whatever logging `showdesk` sets up in a test goes away afterwards."""
    import app.logs as logs

    root = logging.getLogger()
    handlers, level, handler = list(root.handlers), root.level, logs._state["handler"]
    yield
    for h in root.handlers:
        if h not in handlers:
            root.removeHandler(h)
            h.close()
    root.setLevel(level)
    logs._state["handler"] = handler
    if handler is not None and handler not in root.handlers:
        root.addHandler(handler)


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _crash_once(log_dir: Path) -> None:
    """A real hard crash of a Showdesk process with no stderr, as in a windowed build."""
    script = (
        "import sys; sys.stderr = None\n"
        "from app.logs import start; start('app')\n"
        "import faulthandler; faulthandler._sigsegv()\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONFAULTHANDLER"}
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, timeout=60, check=False)
    assert "Segmentation fault" in (log_dir / "crash.log").read_text(encoding="utf-8")


def test_the_report_holds_everything_support_needs_and_no_secret(
    demo_copy, tmp_path, monkeypatch, capsys, reset_logging
):
    log_dir = Path(os.environ["SHOWDESK_LOG_DIR"])
    port = _closed_port()
    dsn = f"postgresql://kiosk:{PG_PASSWORD}@127.0.0.1:{port}/showdesk?sslmode=disable"
    for key, value in {**SECRETS, "SHOWDESK_POSTGRES_DSN": dsn}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("SHOWDESK_BACKEND", "postgres")
    monkeypatch.setenv("SHOWDESK_CAMERA_ENABLED", "false")
    monkeypatch.setenv("SHOWDESK_SUPABASE_EMAIL", "door.lead@venue.example")
    _crash_once(log_dir)
    # The worst case: a secret that reached a log line anyway (a library's error message).
    start("cli")
    logging.getLogger("app.test").error(
        "connect failed: password=%s key=%s pin %s claims %s",
        PG_PASSWORD,
        SECRETS["SHOWDESK_SUPABASE_KEY"],
        SECRETS["SHOWDESK_KIOSK_PIN"],
        SECRETS["SHOWDESK_POSTGRES_CLAIMS"],
    )

    target = tmp_path / "support.zip"
    code = main(["--db", str(demo_copy), "doctor", "--json", "--report", str(target)])
    out = json.loads(capsys.readouterr().out)
    assert code == 1  # the backend cannot be reached: a problem
    assert out["report"] == str(target) and out["report_error"] is None

    with zipfile.ZipFile(target) as bundle:
        names = set(bundle.namelist())
        texts = {n: bundle.read(n).decode("utf-8") for n in names}
    assert {"README.txt", "versions.json", "settings.json", "checks.json"} <= names
    assert {"logs/cli.log", "logs/app.log", "logs/crash.log"} <= names
    for name, text in texts.items():
        for secret in [*SECRETS.values(), PG_PASSWORD, "door.lead@venue.example"]:
            assert secret not in text, f"{secret!r} in {name}"

    versions = json.loads(texts["versions.json"])
    for key in ("python", "showdesk", "pyside6", "qt", "opencv", "zxing-cpp", "sqlite"):
        assert versions[key] and "not available" not in versions[key], key
    assert versions["zbar"]  # a version, or why the system library is missing
    assert versions["os"] and versions["showdesk"] == "0.1.0"

    settings = json.loads(texts["settings.json"])["settings"]
    for field in ("supabase_password", "supabase_key", "postgres_claims", "kiosk_pin"):
        assert settings[field] == "<redacted>"
    assert settings["jwt_secret"] == "<redacted>"
    assert settings["postgres_dsn"] == (
        f"postgresql://kiosk:<redacted>@127.0.0.1:{port}/showdesk?sslmode=disable"
    )
    assert settings["supabase_email"] == "***@venue.example"
    assert settings["db"] == str(demo_copy) and settings["backend"] == "postgres"

    checks = {c["name"]: c for c in json.loads(texts["checks.json"])["checks"]}
    assert checks["backend"]["status"] == PROBLEM and checks["database"]["status"] == OK
    assert checks["logs"]["details"]["crashes"] == 1
    assert "Fatal Python error: Segmentation fault" in texts["logs/crash.log"]
    assert "connect failed: password=<redacted>" in texts["logs/cli.log"]
    assert "start showdesk" in texts["logs/app.log"]


def test_no_stored_secret_and_no_secret_of_the_settings_file_reaches_the_report(
    demo_copy, tmp_path, monkeypatch, capsys, reset_logging
):
    """Secrets in the secret store (here the file fallback: no keyring on this machine, or one
    forced off) and a password left in the settings file: none in the zip, the logs or crash.log."""
    import keyring
    from keyring.backends import fail

    from app.secrets import DEVICE_CREDENTIAL, REPLICA_KEY, SecretStore

    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        log_dir = Path(os.environ["SHOWDESK_LOG_DIR"])
        stored = {
            DEVICE_CREDENTIAL: "device-refresh-tok-6060",
            REPLICA_KEY: "replica-key-" + "ab" * 16,
        }
        in_file = {"supabase_password": "File-Passw0rd-8080", "jwt_secret": "file-jwt-secret-9090"}
        store = SecretStore.default()
        for name, value in stored.items():
            store.set(name, value)
        settings_file = tmp_path / "config.toml"
        settings_file.write_text(
            "[showdesk]\n" + "".join(f'{k} = "{v}"\n' for k, v in in_file.items()),
            encoding="utf-8",
        )
        monkeypatch.setenv("SHOWDESK_CONFIG", str(settings_file))
        monkeypatch.setenv("SHOWDESK_CAMERA_ENABLED", "false")
        _crash_once(log_dir)
        start("cli")
        # the worst case: code that logs a secret it read anyway
        logging.getLogger("app.test").error("refresh failed with %s", store.get(DEVICE_CREDENTIAL))

        # and a line an older Showdesk wrote before values were hidden (another process)
        old = log_dir / "app.log.1"
        old.write_text(f"sign-in with {stored[DEVICE_CREDENTIAL]}\n", encoding="utf-8")

        target = tmp_path / "support.zip"
        main(["--db", str(demo_copy), "doctor", "--json", "--report", str(target)])
        out = capsys.readouterr().out
        checks = {c["name"]: c for c in json.loads(out)["checks"]}
        with zipfile.ZipFile(target) as bundle:
            texts = {n: bundle.read(n).decode("utf-8") for n in bundle.namelist()}
        logs = {p.name: p.read_text(encoding="utf-8") for p in log_dir.iterdir() if p != old}
    finally:
        keyring.set_keyring(before)

    assert {"logs/cli.log", "logs/crash.log", "logs/app.log.1", "settings.json"} <= set(texts)
    assert texts["logs/app.log.1"] == "sign-in with <redacted>\n"
    assert "refresh failed with <redacted>" in texts["logs/cli.log"]
    assert "refresh failed with <redacted>" in logs["cli.log"]  # the log file itself too
    for name, text in [*texts.items(), *logs.items(), ("stdout", out)]:
        for secret in [*stored.values(), *in_file.values()]:
            assert secret not in text, f"{secret!r} in {name}"
    # the file's password went into the store, and doctor says the file still holds it
    assert store.get("supabase_password") == in_file["supabase_password"]
    assert checks["secrets"]["status"] == WARNING
    assert checks["secrets"]["details"]["in_settings_file"] == ["supabase_password", "jwt_secret"]
    assert checks["settings"]["status"] == WARNING
    assert "Remove the line 'supabase_password = …'" in checks["settings"]["message"]


def test_doctor_says_where_the_report_went_and_accepts_a_folder(
    demo_copy, tmp_path, capsys, monkeypatch, reset_logging
):
    monkeypatch.setenv("SHOWDESK_CAMERA_ENABLED", "false")
    code = main(["--db", str(demo_copy), "doctor", "--report", str(tmp_path)])
    out = capsys.readouterr().out
    reports = list(tmp_path.glob("showdesk-report-*.zip"))
    assert len(reports) == 1 and f"Report for support: {reports[0]}" in out
    assert "✓ logs: Logs go to" in out
    assert code == (1 if "✗" in out else 0)


def test_a_report_that_cannot_be_written_is_said_and_fails(demo_copy, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    code = doctor_command.run(
        argparse.Namespace(db=demo_copy, json=True, report=blocker / "sub" / "r.zip")
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 1 and out["report"] is None
    assert out["report_error"].startswith(f"The report could not be written to {blocker}")


@pytest.mark.parametrize(
    ("dsn", "kept", "secret"),
    [
        (
            "postgresql://kiosk:s3cr3t-pw@db.venue:6432/sd",
            "kiosk:<redacted>@db.venue:6432/sd",
            "s3cr3t-pw",
        ),
        (
            "postgres://db.venue/sd?user=kiosk&password=s3cr3t-pw",
            "user=kiosk&password=<redacted>",
            "s3cr3t-pw",
        ),
        (
            "host=db.venue port=5432 user=kiosk password=s3cr3t-pw dbname=sd",
            "host=db.venue port=5432 user=kiosk password=<redacted> dbname=sd",
            "s3cr3t-pw",
        ),
        (
            "host=db password='with space' sslkey=/etc/k.pem",
            "host=db password=<redacted> sslkey=<redacted>",
            "with space",
        ),
    ],
)
def test_connection_strings_lose_only_their_secrets(dsn, kept, secret):
    redacted = redact_dsn(dsn)
    assert kept in redacted and secret not in redacted
    assert secret in doctor.secret_values(Config(postgres_dsn=dsn))


def test_every_secret_looking_setting_is_redacted():
    config = load_config(env={"SHOWDESK_SUPABASE_KEY": "k" * 10, "SHOWDESK_KIOSK_PIN": "1234"})
    settings = doctor.redacted_settings(config)
    secret = {n for n in settings if doctor.is_secret(n)}
    assert secret == {
        "supabase_key",
        "supabase_password",
        "postgres_claims",
        "jwt_secret",
        "kiosk_pin",
    }
    assert settings["supabase_key"] == settings["kiosk_pin"] == "<redacted>"
    assert settings["supabase_password"] is None  # "not set" stays visible
    assert doctor.is_secret("api_token") and doctor.is_secret("device_secret")
    assert not doctor.is_secret("keyboard_layout") and not doctor.is_secret("pull_interval_seconds")


# --- the database must take writes -------------------------------------------------------------


def test_a_full_disk_is_a_database_problem(demo_copy, monkeypatch):
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda _path: usage(10**9, 10**9 - 4096, 4096))
    check = check_database(Config(db=demo_copy))
    assert check.status == PROBLEM and "is full" in check.message


def test_a_read_only_database_is_a_problem(demo_copy, monkeypatch):
    from sqlalchemy import event

    import app.store.db as store_db

    real = store_db.open_database

    def read_only(path, *args, **kwargs):
        db = real(path, *args, **kwargs)
        event.listen(db.engine, "connect", lambda conn, _r: conn.execute("PRAGMA query_only = ON"))
        db.engine.dispose()
        return db

    monkeypatch.setattr(store_db, "open_database", read_only)
    check = check_database(Config(db=demo_copy))
    assert check.status == PROBLEM and "cannot write" in check.message
    assert check.details["tickets"] == 40  # still read: the message is about writing


def test_a_writable_database_is_ok(demo_copy):
    check = check_database(Config(db=demo_copy))
    assert check.status == OK and check.details["encrypted"] is False  # outside the data dir


def test_doctor_says_the_apps_own_replica_is_encrypted(tmp_path):
    from app.config import data_dir
    from app.store.db import open_database
    from app.store.demo import seed_demo

    path = data_dir() / "showdesk.sqlite"  # the test's own data dir (tests/conftest.py)
    db = open_database(path)
    seed_demo(db, tickets=20)
    db.close()
    check = check_database(Config(db=path))
    assert check.status == OK and check.details["encrypted"] is True
    assert "encrypted" in check.message


@pytest.mark.parametrize(
    ("statuses", "code"),
    [((OK, WARNING), 0), ((OK, PROBLEM), 1), ((WARNING, WARNING), 0), ((PROBLEM,), 1)],
)
def test_any_problem_exits_1_warnings_do_not(statuses, code, monkeypatch, capsys):
    checks = tuple(
        (lambda name, status: lambda _config: Check(name, status, status, {}))(f"c{i}", s)
        for i, s in enumerate(statuses)
    )
    monkeypatch.setattr(doctor, "CHECKS", checks)
    assert doctor_command.run(argparse.Namespace(db=None, json=False)) == code
    capsys.readouterr()
