"""Log files and crash traces: where they go, how they rotate, what a line holds, what a hard
crash leaves behind in a build with no stderr, and one line per sync round and state change."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import platformdirs
import pytest

import app.logs as logs
from app.sync.backends import SyncError
from app.sync.engine import PullReport, PushReport, SyncReport
from app.sync.runner import SyncRunner

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def log_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Logging set up into a fresh folder; the root logger as it was afterwards."""
    directory = tmp_path / "log"
    monkeypatch.setenv(logs.LOG_DIR_ENV, str(directory))
    root = logging.getLogger()
    handlers, level, state = list(root.handlers), root.level, dict(logs._state)
    logs._state.update(handler=None, console=None)
    yield directory
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    logs._state.update(handler=state["handler"], console=state["console"])
    if state["handler"] is not None:
        root.addHandler(state["handler"])


def _text(directory: Path, kind: str = "app") -> str:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return (directory / f"{kind}.log").read_text(encoding="utf-8")


def test_the_log_folder_is_the_platform_user_log_dir_unless_overridden(monkeypatch):
    monkeypatch.delenv(logs.LOG_DIR_ENV)
    assert logs.log_dir() == Path(platformdirs.user_log_dir("showdesk"))
    monkeypatch.setenv(logs.LOG_DIR_ENV, "/somewhere/else")
    assert logs.log_dir() == Path("/somewhere/else")


def test_lines_go_to_a_rotating_file_once_per_process(log_dir, monkeypatch):
    monkeypatch.setattr(logs, "MAX_BYTES", 4000)
    path = logs.start("app")
    assert path == log_dir / "app.log"
    assert logs.start("app") == path  # a second start (the CLI, then the window) adds nothing
    ours = [h for h in logging.getLogger().handlers if getattr(h, "baseFilename", None)]
    assert [h.baseFilename for h in ours].count(str(path)) == 1
    for n in range(400):
        logging.getLogger("app.test").info("line %d of a long day at the door", n)
    logging.getLogger("apscheduler.executors.default").info("Running job every 5 s")
    rotated = sorted(p.name for p in log_dir.iterdir() if p.name.startswith("app.log"))
    assert rotated[:2] == ["app.log", "app.log.1"] and len(rotated) == 1 + logs.BACKUPS
    text = _text(log_dir)
    assert "line 399 of a long day" in text and "Running job" not in text
    first = text.splitlines()[0]
    # 2026-06-01T19:02:03.123+02:00 INFO app.test [MainThread] line 1xx of a long day ...
    stamp, level, name, thread, *_ = first.split(" ")
    assert stamp[4] == "-" and stamp[10] == "T" and stamp[-6] in "+-"
    assert (level, name, thread) == ("INFO", "app.test", "[MainThread]")


def test_the_start_line_says_who_writes(log_dir):
    logs.start("cli", "doctor")
    line = _text(log_dir, "cli").splitlines()[0]
    assert "start showdesk" in line and "(doctor)" in line and f"pid={os.getpid()}" in line


def test_an_unwritable_log_folder_is_not_fatal(tmp_path, log_dir, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(logs.LOG_DIR_ENV, str(blocker / "log"))
    assert logs.setup_logging("app") is None
    logging.getLogger("app.test").error("still fine")


def test_personal_data_is_scrubbed_from_any_line(log_dir):
    logs.setup_logging("app")
    err = (
        "(sqlite3.IntegrityError) UNIQUE constraint failed: attendees.id\n"
        "[SQL: INSERT INTO attendees (first_name, email, phone) VALUES (?, ?, ?)]\n"
        "[parameters: ('Inès', 'ines.moreau@example.fr', '06 12 34 56 78')]"
    )
    try:
        raise ValueError(err)
    except ValueError:
        logging.getLogger("app.sync").exception("pull page failed for marc.dupont@mail.example")
    logging.getLogger("app.test").warning("call +33 6 12 34 56 78 or +1 (555) 010-9999")
    uuid = "7d0c6a7e-3b0e-4d7e-9a43-0f5d3f1c2b7a"
    logging.getLogger("app.test").info("scan ticket=%s at 2026-06-01T19:02:03+02:00", uuid)
    text = _text(log_dir)
    for private in ("Inès", "ines.moreau", "marc.dupont", "56 78", "010-9999"):
        assert private not in text
    assert "[parameters: hidden]" in text and "<email>" in text and "<phone>" in text
    assert "UNIQUE constraint failed" in text  # the error itself is kept
    assert uuid in text and "2026-06-01T19:02:03+02:00" in text


def _run(script: str, log_dir: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONFAULTHANDLER",)}
    env[logs.LOG_DIR_ENV] = str(log_dir)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


NO_STDERR = """
    import sys
    sys.stderr = None  # a windowed frozen build (PyInstaller >= 5.7)
    from app.logs import start
    start("app")
"""


def test_a_hard_crash_leaves_its_trace_in_crash_log_with_no_stderr(tmp_path):
    log_dir = tmp_path / "log"
    done = _run(
        NO_STDERR
        + """
    import faulthandler

    def read_frame_from_camera():
        faulthandler._sigsegv()

    read_frame_from_camera()
    """,
        log_dir,
    )
    assert done.returncode != 0
    crash = (log_dir / "crash.log").read_text(encoding="utf-8")
    assert "Fatal Python error: Segmentation fault" in crash
    assert "read_frame_from_camera" in crash  # the Python stack, innermost frame named
    assert "started; a crash's trace follows here" in crash
    assert "crash_log=" in (log_dir / "app.log").read_text(encoding="utf-8")


def test_an_uncaught_exception_is_logged_with_no_stderr(tmp_path):
    log_dir = tmp_path / "log"
    done = _run(
        NO_STDERR
        + """
    import threading
    import logging
    logging.getLogger("app.test").warning("a warning with no stderr")
    t = threading.Thread(target=lambda: 1 / 0, name="db-worker")
    t.start(); t.join()
    raise RuntimeError("the window could not be built")
    """,
        log_dir,
    )
    assert done.returncode == 1
    text = (log_dir / "app.log").read_text(encoding="utf-8")
    assert "a warning with no stderr" in text
    assert "CRITICAL app.logs [db-worker] uncaught ZeroDivisionError in thread db-worker" in text
    assert "CRITICAL app.logs [MainThread] uncaught RuntimeError" in text
    assert "RuntimeError: the window could not be built" in text  # with its traceback


def test_someone_elses_faulthandler_is_left_alone(tmp_path):
    done = _run(
        """
    import faulthandler, sys
    from app.logs import enable_crash_log
    print(enable_crash_log())
    """,
        tmp_path / "log",
    )
    assert done.stdout.strip() == str(tmp_path / "log" / "crash.log")
    env_done = subprocess.run(
        [
            sys.executable,
            "-X",
            "faulthandler",
            "-c",
            "from app.logs import *; print(enable_crash_log())",
        ],
        cwd=ROOT,
        env={**os.environ, logs.LOG_DIR_ENV: str(tmp_path / "other")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert env_done.stdout.strip() == "None" and not (tmp_path / "other" / "crash.log").exists()


# --- one line per sync round and per online/offline change ------------------------------------


class _Engine:
    """Just enough of SyncEngine for the runner: each sync_once plays the next outcome."""

    def __init__(self, db, outcomes) -> None:
        self.db = db
        self.outcomes = list(outcomes)
        self.online: bool | None = None
        self.last_error: str | None = None
        self.backend = SimpleNamespace(close=lambda: None)
        self.device_id = "device-1"

    def sync_once(self) -> SyncReport:
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            self.online = False
            self.last_error = str(outcome)
            raise outcome
        self.online = True
        self.last_error = None
        return outcome

    def probe(self) -> bool:
        return False

    def status(self):
        return SimpleNamespace(syncing=False, revoked=None, online=self.online)


def test_each_sync_round_and_each_online_change_is_one_line(db, log_dir):
    logs.setup_logging("app")
    ok = SyncReport(
        PushReport(applied=2, duplicate=1, conflict=1, rejected=0, batches=1),
        PullReport(pages=2, upserted=120, deleted=3),
    )
    down = SyncError("Cannot reach the sync server.", transient=True)
    runner = SyncRunner(_Engine(db, [ok, down, down, ok]))
    for _ in range(4):
        runner.run_once()
    lines = [line.split("] ", 1)[1] for line in _text(log_dir).splitlines() if "app.sync" in line]
    assert lines[0].startswith(
        "sync ok pushed=4 applied=2 duplicate=1 conflict=1 rejected=0 pulled=120 deleted=3 "
        "pages=2 online=yes ms="
    )
    assert lines[1] == "state starting -> online"
    assert lines[2].startswith("sync failed online=no failures=1 ms=")
    assert lines[2].endswith("error=Cannot reach the sync server.")
    assert lines[3] == "state online -> offline"
    assert lines[4].startswith("sync failed online=no failures=2")
    assert lines[5].startswith("sync ok pushed=4") and lines[6] == "state offline -> online"
    assert len(lines) == 7  # the second failure is no new state
