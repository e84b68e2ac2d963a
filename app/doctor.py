"""`showdesk doctor`: is this kiosk ready? Settings, secrets, camera, decoder libraries,
database, backend, logs.

Each check gives a status (ok / warning / problem) and one plain sentence; the command exits 1
when any check found a problem. The camera and the backend are probed with short timeouts so
the command never hangs on a dead device or network. ``--report FILE`` also writes one zip for
support: versions, settings with every secret redacted, the log and crash files, the checks.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import re
import shutil
import socket
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlparse, urlsplit, urlunsplit

from app.config import META_FIELDS, Config

OK, WARNING, PROBLEM = "ok", "warning", "problem"
MARKS = {OK: "✓", WARNING: "!", PROBLEM: "✗"}
CAMERA_TIMEOUT = 5.0
NETWORK_TIMEOUT = 2.0

log = logging.getLogger(__name__)


@dataclass
class Check:
    name: str
    status: str
    message: str
    details: dict[str, Any]


def _with_timeout(fn: Callable[[], Any], seconds: float) -> Any:
    """Run ``fn`` on a daemon thread; TimeoutError if it does not answer in time."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed back to the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise TimeoutError(f"no answer within {seconds:.0f} s")
    if "error" in box:
        raise box["error"]
    return box.get("value")


def check_camera(config: Config) -> Check:
    if not config.camera_enabled:
        return Check(
            "camera", WARNING, "Camera turned off in the settings (camera_enabled = false).", {}
        )

    def grab() -> tuple[str, Any]:
        from app.scan.sources import CameraSource

        source = CameraSource(config.camera)
        try:
            frame = None
            for _ in range(10):  # the first frames of some webcams are empty
                frame = source.read()
                if frame is not None:
                    break
            return getattr(source, "name", f"camera {config.camera}"), frame
        finally:
            source.close()

    try:
        name, frame = _with_timeout(grab, CAMERA_TIMEOUT)
    except TimeoutError:
        return Check(
            "camera",
            PROBLEM,
            f"Camera {config.camera} did not answer within {CAMERA_TIMEOUT:.0f} s.",
            {"index": config.camera},
        )
    except Exception as exc:  # CameraUnavailable's text is already a sentence
        text = str(exc).strip() or type(exc).__name__
        if "scanner" not in text.lower():
            text += " The USB scanner and name search still work."
        return Check("camera", PROBLEM, text, {"index": config.camera})
    if frame is None:
        return Check(
            "camera", PROBLEM, f"{name} opened but sent no picture.", {"index": config.camera}
        )
    h, w = frame.shape[:2]
    return Check(
        "camera",
        OK,
        f"{name} gives {w}x{h} pictures.",
        {"index": config.camera, "width": w, "height": h},
    )


def check_decoders(config: Config) -> Check:
    from app.scan.decoders import DecoderUnavailable, available_decoders, build_chain

    found = available_decoders()
    working = [n for n, reason in found.items() if reason is None]
    missing = {n: reason for n, reason in found.items() if reason is not None}
    details = {"available": working, "missing": missing, "configured": config.decoders}
    try:
        chain = build_chain(config.decoders)
    except DecoderUnavailable as exc:
        return Check(
            "decoders",
            PROBLEM,
            f"The configured decoders '{config.decoders}' cannot run: {exc}.",
            details,
        )
    details["chain"] = getattr(chain, "name", config.decoders)
    if missing:
        gone = "; ".join(f"{n}: {r}" for n, r in missing.items())
        return Check(
            "decoders",
            WARNING,
            f"Decoding works ({', '.join(working)}); not available: {gone}.",
            details,
        )
    return Check("decoders", OK, f"All decoders work ({', '.join(working)}).", details)


def check_database(config: Config) -> Check:
    from sqlalchemy import func, select

    from app.store.db import DatabaseProblem, current_event_id, open_database, storage_problem
    from app.store.models import Event, Ticket
    from app.store.outbox import pending_count

    if not config.db.exists():
        parent = next(p for p in config.db.absolute().parents if p.exists())
        if not os.access(parent, os.W_OK):
            return Check(
                "database",
                PROBLEM,
                f"No database yet at {config.db}, and Showdesk cannot create one: {parent} is "
                "not writable.",
                {"path": str(config.db)},
            )
        return Check(
            "database",
            WARNING,
            f"No database yet at {config.db}; the app creates it (with the demo event) on first start.",
            {"path": str(config.db)},
        )
    try:
        db = open_database(config.db)
    except DatabaseProblem as exc:
        return Check("database", PROBLEM, str(exc), {"path": str(config.db)})
    try:
        with db.session() as session:
            event_id = current_event_id(session)
            event = session.get(Event, event_id) if event_id else None
            tickets = (
                session.scalar(
                    select(func.count()).select_from(Ticket).where(Ticket.event_id == event_id)
                )
                if event_id
                else 0
            )
            pending = pending_count(session)
        cannot_write = storage_problem(db)
    finally:
        db.close()
    size_mb = config.db.stat().st_size / 1e6
    details = {
        "path": str(config.db),
        "size_mb": round(size_mb, 2),
        "event": event.name if event else None,
        "tickets": tickets,
        "pending_changes": pending,
        "encrypted": db.encrypted,
    }
    if cannot_write is not None:
        return Check("database", PROBLEM, cannot_write, details)
    if event is None:
        return Check(
            "database", WARNING, f"{config.db} is readable but holds no event yet.", details
        )
    return Check(
        "database",
        OK,
        f"{config.db} ({size_mb:.1f} MB{', encrypted' if db.encrypted else ''}): "
        f"'{event.name}', {tickets} tickets, {pending} changes waiting to upload.",
        details,
    )


def _tcp_probe(host: str, port: int) -> float:
    started = time.perf_counter()
    with socket.create_connection((host, port), timeout=NETWORK_TIMEOUT):
        return (time.perf_counter() - started) * 1000


def check_backend(config: Config) -> Check:
    backend = (config.backend or "none").lower()
    if backend == "none":
        return Check(
            "backend",
            OK,
            "Backend not configured: this kiosk works offline only.",
            {"backend": "none"},
        )
    if backend == "supabase":
        if not config.supabase_url:
            return Check(
                "backend",
                PROBLEM,
                "Backend is 'supabase' but no supabase_url is set.",
                {"backend": backend},
            )
        import httpx

        url = config.supabase_url.rstrip("/") + "/rest/v1/"
        headers = {"apikey": config.supabase_key} if config.supabase_key else {}
        try:
            started = time.perf_counter()
            response = httpx.get(url, headers=headers, timeout=NETWORK_TIMEOUT)
            ms = (time.perf_counter() - started) * 1000
        except httpx.HTTPError as exc:
            return Check(
                "backend",
                PROBLEM,
                f"Supabase at {urlparse(url).netloc} cannot be reached ({type(exc).__name__}); check-ins are kept and uploaded later.",
                {"backend": backend},
            )
        details = {"backend": backend, "ms": round(ms, 1), "http_status": response.status_code}
        if response.status_code in (401, 403):
            return Check(
                "backend",
                WARNING,
                f"Supabase answered in {ms:.0f} ms but refused the key; check supabase_key.",
                details,
            )
        return Check("backend", OK, f"Supabase answered in {ms:.0f} ms.", details)
    if backend == "postgres":
        if not config.postgres_dsn:
            return Check(
                "backend",
                PROBLEM,
                "Backend is 'postgres' but no postgres_dsn is set.",
                {"backend": backend},
            )
        host, port = _dsn_host_port(config.postgres_dsn)
        try:
            ms = _tcp_probe(host, port)
        except OSError as exc:
            return Check(
                "backend",
                PROBLEM,
                f"PostgreSQL at {host}:{port} cannot be reached ({exc.strerror or exc}); check-ins are kept and uploaded later.",
                {"backend": backend},
            )
        return Check(
            "backend",
            OK,
            f"PostgreSQL at {host}:{port} accepts connections ({ms:.0f} ms).",
            {"backend": backend, "ms": round(ms, 1)},
        )
    return Check(
        "backend",
        PROBLEM,
        f"Unknown backend '{config.backend}' (use none, supabase or postgres).",
        {"backend": backend},
    )


def _dsn_host_port(dsn: str) -> tuple[str, int]:
    """Host and port of a postgresql:// URL or a 'host=... port=...' keyword string."""
    if "://" in dsn:
        parsed = urlparse(dsn)
        return parsed.hostname or "localhost", parsed.port or 5432
    parts = dict(p.split("=", 1) for p in dsn.split() if "=" in p)
    return parts.get("host", "localhost"), int(parts.get("port", 5432))


def check_sound(config: Config) -> Check:
    if not config.sound:
        return Check("sound", OK, "Sounds turned off in the settings.", {})
    if sys.platform in ("win32", "darwin"):
        return Check("sound", OK, "The system sound player is used.", {})
    for player in ("paplay", "pw-play", "aplay"):
        if shutil.which(player):
            return Check("sound", OK, f"Verdict sounds play through {player}.", {"player": player})
    return Check(
        "sound",
        WARNING,
        "No audio player (paplay, pw-play, aplay) found: verdicts will be silent.",
        {},
    )


def check_platform(config: Config) -> Check:
    """Which FashionOS platform tables the server bridges (or that it runs standalone)."""
    from app.sync.backends import SyncError
    from app.sync.runner import build_backend
    from app.sync.status import server_words

    try:
        backend = build_backend(config)
    except SyncError as exc:
        return Check("platform", WARNING, f"Cannot ask the server: {exc}", {})
    if backend is None:
        return Check("platform", OK, "No server configured: nothing to bridge.", {"bridges": None})
    try:
        info = _with_timeout(backend.server_info, NETWORK_TIMEOUT * 3)
    except (SyncError, TimeoutError) as exc:
        return Check(
            "platform",
            WARNING,
            f"The server did not say which platform tables it bridges ({exc}).",
            {"bridges": None},
        )
    finally:
        backend.close()
    return Check("platform", OK, server_words(info.bridges) + ".", {"bridges": info.bridges})


def check_logs(config: Config) -> Check:
    """The log directory can be written; how many crash traces crash.log holds."""
    from app.logs import CRASH_FILE, log_dir, log_files

    directory = log_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / ".write-check"
        probe.write_text("", encoding="utf-8")
        probe.unlink()
    except OSError as exc:
        return Check(
            "logs",
            WARNING,
            f"Logs cannot be written to {directory} ({exc.strerror or exc}): support will see "
            "no history of this kiosk.",
            {"dir": str(directory)},
        )
    files = log_files(directory)
    crashes = sum(
        p.read_text(encoding="utf-8", errors="replace").count("Fatal Python error")
        for p in files
        if p.name.startswith(CRASH_FILE)
    )
    size_mb = sum(p.stat().st_size for p in files) / 1e6
    details = {
        "dir": str(directory),
        "files": len(files),
        "size_mb": round(size_mb, 2),
        "crashes": crashes,
    }
    text = f"Logs go to {directory} ({len(files)} files, {size_mb:.1f} MB)."
    if crashes:
        text += f" {CRASH_FILE} holds {crashes} crash trace(s): send 'showdesk doctor --report'."
    return Check("logs", OK, text, details)


def check_settings(config: Config) -> Check:
    """Unknown keys and variables, bad values, a secret in the file: each said, none ignored."""
    source = str(config.source) if config.source else None
    details = {"file": source, "problems": list(config.problems)}
    if config.problems:
        count = len(config.problems)
        head = f"{count} thing(s) in the settings need a look: " if count > 1 else ""
        return Check("settings", WARNING, head + " ".join(config.problems), details)
    if source is None:
        return Check("settings", OK, "No settings file: the defaults are used.", details)
    return Check("settings", OK, f"Settings read from {source}; every key is known.", details)


def check_secrets(config: Config) -> Check:
    """Where the secrets are kept (OS keyring, or the file fallback) and that none is in the
    settings file."""
    from app.secrets import SecretStore

    store = SecretStore.default()
    status = store.status()
    details: dict[str, Any] = {
        "store": status.kind,
        "backend": status.backend,
        "where": status.words,
        "in_settings_file": list(config.secrets_in_file),
    }
    if config.secrets_in_file:
        names = ", ".join(config.secrets_in_file)
        in_file = (
            f" The settings file {config.source} still holds {names}: remove the line(s); "
            "secrets are not read from there."
        )
    else:
        in_file = " None is in the settings file."
    if status.problem:
        return Check(
            "secrets",
            PROBLEM,
            f"Secrets are kept in the {status.words}. {status.problem}" + in_file,
            details,
        )
    if status.fallback:
        details["reason"] = status.reason
        return Check(
            "secrets",
            WARNING,
            f"No OS keyring here — secrets are in a file only this user can read "
            f"({store.file}); {status.reason}." + in_file,
            details,
        )
    state = WARNING if config.secrets_in_file else OK
    return Check("secrets", state, f"Secrets are kept in the {status.words}." + in_file, details)


CHECKS = (
    check_settings,
    check_secrets,
    check_database,
    check_decoders,
    check_camera,
    check_backend,
    check_platform,
    check_sound,
    check_logs,
)


def run_checks(config: Config) -> list[Check]:
    results = []
    for check in CHECKS:
        try:
            results.append(check(config))
        except Exception as exc:  # a check must never take the whole report down
            from app.errors import explain

            name = check.__name__.removeprefix("check_")
            log.exception("doctor: the %s check failed", name)
            results.append(Check(name, PROBLEM, f"The check failed: {explain(exc)}", {}))
    return results


# --- the support report ----------------------------------------------------------------------

REDACTED = "<redacted>"
# A setting is secret when one of the words of its name is one of these.
SECRET_WORDS = frozenset(
    {"password", "passwd", "pwd", "secret", "token", "key", "apikey", "pin", "claims"}
    | {"credential", "credentials", "jwt"}
)
# Secret values at least this long are also cut out of every file of the report (logs,
# messages); a shorter one (a 4-digit PIN) would blank unrelated numbers, and is never logged.
SCRUB_MIN_CHARS = 6
LOGS_CAP_BYTES = 20_000_000
_KEYWORD_SECRET = re.compile(
    r"\b(\w*(?:password|passwd|secret|token|key)\w*)(\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.I
)


def is_secret(name: str) -> bool:
    return bool(SECRET_WORDS & set(name.lower().split("_")))


def redact_dsn(value: str) -> str:
    """A URL or 'key=value' connection string with its password (and any secret parameter)
    replaced; host, port, database and user kept."""
    if "://" not in value:
        return _KEYWORD_SECRET.sub(lambda m: m.group(1) + m.group(2) + REDACTED, value)
    parts = urlsplit(value)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        if ":" in userinfo:
            userinfo = userinfo.split(":", 1)[0] + ":" + REDACTED
        netloc = f"{userinfo}@{host}"
    query = urlencode(
        [
            (k, REDACTED if _KEYWORD_SECRET.match(f"{k}=x") else v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
        ],
        safe="<>",
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _dsn_secrets(value: str) -> list[str]:
    """The secret pieces of a connection string (for cutting them out of free text)."""
    found = [m.group(3).strip("'") for m in _KEYWORD_SECRET.finditer(value.split("?", 1)[-1])]
    if "://" in value:
        parts = urlsplit(value)
        if parts.password:
            found.append(parts.password)
    return [f for f in found if f]


def redacted_settings(config: Config) -> dict[str, Any]:
    """The settings as a support person may see them: secrets replaced by "<redacted>" (None
    stays None, so "not set" is still told apart), connection strings without their password,
    the sign-in email without its local part."""
    out: dict[str, Any] = {}
    for f in fields(config):
        if f.name in META_FIELDS:
            continue
        value = getattr(config, f.name)
        if value is None:
            out[f.name] = None
        elif is_secret(f.name):
            out[f.name] = REDACTED
        elif f.name.endswith(("_dsn", "_url")):
            out[f.name] = redact_dsn(str(value))
        elif f.name.endswith("_email"):
            out[f.name] = "***@" + str(value).rpartition("@")[2]
        else:
            out[f.name] = str(value) if isinstance(value, Path) else value
    return out


def secret_values(config: Config) -> list[str]:
    """Every secret the settings hold, longest first."""
    found: list[str] = []
    for f in fields(config):
        value = getattr(config, f.name)
        if not isinstance(value, str) or not value:
            continue
        if is_secret(f.name):
            found.append(value)
        elif f.name.endswith(("_dsn", "_url")):
            found += _dsn_secrets(value)
        elif f.name.endswith("_email"):
            found.append(value)
    return sorted(set(found), key=len, reverse=True)


def stored_secrets() -> list[str]:
    """The values the secret store holds for the well-known names (to cut them out of the
    report); none when the keyring refuses access (then this process never saw them)."""
    from app.secrets import LABELS, SecretStore, SecretsUnavailable

    store = SecretStore.default()
    found = []
    for name in LABELS:
        try:
            value = store.get(name)
        except SecretsUnavailable:
            break
        if value:
            found.append(value)
    return found


def _version_of(dist: str, module: str | None = None) -> str:
    from importlib import import_module
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        pass
    try:
        found = getattr(import_module(module or dist), "__version__", None)
    except Exception as exc:  # noqa: BLE001 - a broken library is what the report is for
        return f"not available ({type(exc).__name__}: {exc})"
    return str(found) if found else "installed (version unknown)"


def _zbar_version() -> str:
    import ctypes

    from pyzbar import wrapper

    parts = [ctypes.c_uint() for _ in range(3)]
    wrapper.LIBZBAR.zbar_version(*(ctypes.byref(p) for p in parts))
    return ".".join(str(p.value) for p in parts)


def _qt_version() -> str:
    from PySide6.QtCore import qVersion

    return qVersion()


def _opencv_version() -> str:
    import cv2

    return cv2.__version__


def versions() -> dict[str, str]:
    """Python, Showdesk, the libraries that matter at a door, SQLite and the OS."""
    import sqlite3

    from app.logs import app_version

    out = {
        "showdesk": app_version(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "frozen": "yes" if getattr(sys, "frozen", False) else "no",
        "os": platform.platform(),
        "machine": platform.machine(),
        "sqlite": sqlite3.sqlite_version,
    }
    probes: dict[str, Callable[[], str]] = {
        "pyside6": lambda: _version_of("PySide6-Essentials", "PySide6"),
        "qt": _qt_version,
        "opencv": _opencv_version,
        "zxing-cpp": lambda: _version_of("zxing-cpp", "zxingcpp"),
        "pyzbar": lambda: _version_of("pyzbar"),
        "zbar": _zbar_version,
        "sqlalchemy": lambda: _version_of("SQLAlchemy", "sqlalchemy"),
        "alembic": lambda: _version_of("alembic"),
        "platformdirs": lambda: _version_of("platformdirs"),
    }
    for name, probe in probes.items():
        try:
            out[name] = probe()
        except Exception as exc:  # noqa: BLE001 - said in the report, never fatal
            out[name] = f"not available ({type(exc).__name__}: {exc})"
    return out


def checks_document(config: Config, results: list[Check]) -> dict[str, Any]:
    return {"checks": [asdict(c) for c in results], "problems": config.problems}


def write_report(target: Path, config: Config, results: list[Check]) -> Path:
    """One zip for support: README.txt, versions.json, settings.json, checks.json and
    logs/ (the log and crash files, newest first, up to 20 MB). No database, no guest list;
    every secret value of the settings is cut out of every file. Written whole or not at all.
    ``target`` may be a folder. Returns the zip's path."""
    from app.logs import log_dir, log_files

    if target.is_dir():
        target = target / f"showdesk-report-{datetime.now():%Y%m%d-%H%M%S}.zip"
    secrets = sorted(
        {s for s in [*secret_values(config), *stored_secrets()] if len(s) >= SCRUB_MIN_CHARS},
        key=len,
        reverse=True,
    )

    def clean(text: str) -> str:
        for secret in secrets:
            text = text.replace(secret, REDACTED)
        return text

    settings = {
        "source": str(config.source) if config.source else None,
        "environment": sorted(k for k in os.environ if k.startswith("SHOWDESK_")),
        "redacted": sorted(
            f.name for f in fields(config) if is_secret(f.name) and f.name not in META_FIELDS
        ),
        "settings": redacted_settings(config),
        "problems": config.problems,
    }
    found = versions()
    members = {
        "versions.json": json.dumps(found, indent=2),
        "settings.json": json.dumps(settings, indent=2, ensure_ascii=False),
        "checks.json": json.dumps(checks_document(config, results), indent=2, ensure_ascii=False),
    }
    left_out: list[str] = []
    total = 0
    for path in log_files():
        try:
            data = path.read_bytes()
        except OSError as exc:
            left_out.append(f"{path.name} (cannot be read: {exc.strerror or exc})")
            continue
        if total + len(data) > LOGS_CAP_BYTES:
            left_out.append(f"{path.name} (older than the newest 20 MB)")
            continue
        total += len(data)
        members[f"logs/{path.name}"] = data.decode("utf-8", errors="replace")
    readme = [
        "Showdesk support report",
        f"Made {datetime.now().astimezone().isoformat(timespec='seconds')} by showdesk "
        f"{found['showdesk']} from the logs in {log_dir()}.",
        "versions.json: Python, Showdesk, Qt, decoders, SQLite, the OS.",
        "settings.json: the settings, with passwords, keys, tokens, the PIN and JWT claims "
        f"replaced by {REDACTED}.",
        "checks.json: what 'showdesk doctor' found.",
        "logs/: app.log (the window), cli.log (commands), crash.log (hard crashes).",
        "Not included: the database, its guest list, any secret (nor any value kept in the "
        "OS keyring or the secrets file: each one is cut out of every file here).",
    ]
    if left_out:
        readme.append("Left out: " + "; ".join(left_out))
    members["README.txt"] = "\n".join(readme) + "\n"
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".showdesk-report-", suffix=".zip", dir=target.parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
            for name in ("README.txt", "versions.json", "settings.json", "checks.json"):
                bundle.writestr(name, clean(members.pop(name)))
            for name, text in members.items():
                bundle.writestr(name, clean(text))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
