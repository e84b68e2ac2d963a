"""Log files and crash traces, set up once by the app and by the command line.

Where: the platform's user log directory (platformdirs: ``~/.local/state/showdesk/log``,
``~/Library/Logs/showdesk``, ``%LOCALAPPDATA%\\showdesk\\showdesk\\Logs``), or
``SHOWDESK_LOG_DIR``. Files: ``app.log`` (the window) and ``cli.log`` (commands), each rotated
at 2 MB with 5 kept, so the kiosk and an admin's command never rotate the same file; and
``crash.log``, where ``faulthandler`` writes the Python stacks of a hard crash (a windowed frozen
build has no ``sys.stderr`` to write them to).

What: one line per sync round, scan verdict, error and state change. A line names tickets,
check-ins, events, gates and devices by id or name, never an attendee: callers log ids, and the
formatter also scrubs emails, international phone numbers and SQLAlchemy's bound parameters
from any text (an exception's message) as a second line of defence, and every secret value
this process read from or stored in ``app.secrets`` (``hide``).
"""

from __future__ import annotations

import faulthandler
import logging
import logging.handlers
import os
import platform
import re
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import platformdirs

APP_NAME = "showdesk"
LOG_DIR_ENV = "SHOWDESK_LOG_DIR"
CRASH_FILE = "crash.log"
MAX_BYTES = 2_000_000
BACKUPS = 5
CRASH_MAX_BYTES = 512_000
# Libraries that talk at INFO about their own plumbing (each request, each scheduled run).
QUIET = (
    "apscheduler",
    "httpx",
    "httpcore",
    "hpack",
    "urllib3",
    "PIL",
    "faker",
    "alembic.runtime.plugins",
)

log = logging.getLogger("app.logs")

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w+])\+\d[\d ().-]{6,}\d")
_SQL_PARAMETERS = re.compile(r"\[parameters: [^\n]*")

_state: dict[str, Any] = {"handler": None, "console": None, "crash": None}


def log_dir() -> Path:
    return Path(os.environ.get(LOG_DIR_ENV) or platformdirs.user_log_dir(APP_NAME))


def app_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(APP_NAME)
    except PackageNotFoundError:  # a frozen build without the package's metadata
        return "unknown"


# Secret values this process has read or stored (app/secrets.py hands them over): cut out of
# every line. Shorter ones are not, as they would blank unrelated numbers.
HIDE_MIN_CHARS = 6
_hidden: set[str] = set()
_hidden_lock = threading.Lock()


def hide(value: str) -> None:
    """Never write ``value`` to a log: from now on every line shows ``<redacted>`` instead."""
    if value and len(value) >= HIDE_MIN_CHARS:
        with _hidden_lock:
            _hidden.add(value)


def scrub(text: str) -> str:
    """``text`` without emails, international phone numbers, SQL bound parameters or any
    secret value handed to ``hide``."""
    if _hidden:
        with _hidden_lock:
            values = sorted(_hidden, key=len, reverse=True)
        for value in values:
            text = text.replace(value, "<redacted>")
    text = _SQL_PARAMETERS.sub("[parameters: hidden]", text)
    text = _EMAIL.sub("<email>", text)
    return _PHONE.sub("<phone>", text)


class ScrubbingFormatter(logging.Formatter):
    """One line per record (plus a traceback for errors), local time with its UTC offset."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return (
            datetime.fromtimestamp(record.created).astimezone().isoformat(timespec="milliseconds")
        )

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


class _Console(logging.StreamHandler):
    """Warnings on the terminal a person started Showdesk from (looked up at each line)."""

    @property
    def stream(self) -> IO[str] | None:  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass

    def emit(self, record: logging.LogRecord) -> None:
        if sys.stderr is not None:
            super().emit(record)


def setup_logging(kind: str = "app", directory: Path | None = None) -> Path | None:
    """Send every logger's INFO lines to ``<log dir>/<kind>.log``; the file, or None when the
    directory cannot be written (then nothing is logged to a file, and nothing fails).

    Calling it again with the same file does nothing; with another file, moves there."""
    directory = directory or log_dir()
    path = directory / f"{kind}.log"
    old = _state["handler"]
    if old is not None and old.baseFilename == os.path.abspath(path):
        return path
    root = logging.getLogger()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8", delay=True
        )
    except OSError:
        return None
    handler.setFormatter(ScrubbingFormatter())
    handler.setLevel(logging.INFO)
    if old is not None:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    _state["handler"] = handler
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    if _state["console"] is None and sys.stderr is not None and sys.stderr.isatty():
        console = _Console()
        console.setLevel(logging.WARNING)
        console.setFormatter(logging.Formatter("showdesk: %(message)s"))
        root.addHandler(console)
        _state["console"] = console
    return path


def enable_crash_log(directory: Path | None = None) -> Path | None:
    """``faulthandler`` into ``<log dir>/crash.log`` (appended; the previous one kept as
    crash.log.1 past 512 kB). Leaves alone a faulthandler someone else enabled
    (``-X faulthandler``, a test runner). The file, or None."""
    ours = _state["crash"]
    if faulthandler.is_enabled() and ours is None:
        return None
    directory = directory or log_dir()
    path = directory / CRASH_FILE
    if ours is not None and ours.name == os.path.abspath(path):
        return path
    try:
        directory.mkdir(parents=True, exist_ok=True)
        if path.exists() and path.stat().st_size > CRASH_MAX_BYTES:
            try:
                path.replace(path.with_name(CRASH_FILE + ".1"))
            except OSError:  # open in another Showdesk process (Windows): keep appending
                pass
        crash = open(os.path.abspath(path), "a", encoding="utf-8")  # noqa: SIM115 - kept open for faulthandler
        crash.write(
            f"--- {datetime.now().astimezone().isoformat(timespec='seconds')} "
            f"showdesk {app_version()} pid {os.getpid()} started; a crash's trace follows here\n"
        )
        crash.flush()
        faulthandler.enable(crash, all_threads=True)
    except OSError:
        return None
    if ours is not None:
        ours.close()
    _state["crash"] = crash
    return path


def _install_excepthooks() -> None:
    """Uncaught exceptions (a Qt slot's included) go to the log, then on as before."""
    previous = sys.excepthook
    if not getattr(previous, "showdesk", False):

        def hook(kind: type[BaseException], value: BaseException, tb: Any) -> None:
            if not issubclass(kind, KeyboardInterrupt):
                log.critical("uncaught %s", kind.__name__, exc_info=(kind, value, tb))
            previous(kind, value, tb)

        hook.showdesk = True  # type: ignore[attr-defined]
        sys.excepthook = hook
    previous_thread = threading.excepthook
    if not getattr(previous_thread, "showdesk", False):

        def thread_hook(args: Any) -> None:
            if args.exc_type is not SystemExit:
                log.critical(
                    "uncaught %s in thread %s",
                    args.exc_type.__name__,
                    getattr(args.thread, "name", "?"),
                    exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
                )
            previous_thread(args)

        thread_hook.showdesk = True  # type: ignore[attr-defined]
        threading.excepthook = thread_hook


def start(kind: str = "app", command: str | None = None) -> Path | None:
    """Logging, the crash file and the uncaught-exception hooks, once per process; never
    raises. Returns the log file (None when the log directory cannot be written)."""
    before = _state["handler"]
    if before is not None and os.path.dirname(before.baseFilename) == os.path.abspath(log_dir()):
        kind = Path(before.baseFilename).stem  # e.g. `showdesk screenshot` opening the window
    path = setup_logging(kind)
    crash = enable_crash_log()
    _install_excepthooks()
    if path is not None and _state["handler"] is not before:  # a new file: say who writes
        log.info(
            "start showdesk %s (%s) pid=%d python=%s os=%s frozen=%s crash_log=%s",
            app_version(),
            command or kind,
            os.getpid(),
            platform.python_version(),
            platform.platform(terse=True),
            "yes" if getattr(sys, "frozen", False) else "no",
            crash or "off",
        )
    return path


def log_files(directory: Path | None = None) -> list[Path]:
    """The log and crash files, newest first (for the support report)."""
    directory = directory or log_dir()
    try:
        found = [p for p in directory.iterdir() if p.is_file() and ".log" in p.name]
    except OSError:
        return []
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)
