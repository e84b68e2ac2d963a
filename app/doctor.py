"""`showdesk doctor`: is this kiosk ready? Camera, decoder libraries, database, backend.

Each check gives a status (ok / warning / problem) and one plain sentence. The camera and the
backend are probed with short timeouts so the command never hangs on a dead device or network.
"""

from __future__ import annotations

import json
import shutil
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlparse

from app.config import Config, load_config

OK, WARNING, PROBLEM = "ok", "warning", "problem"
MARKS = {OK: "✓", WARNING: "!", PROBLEM: "✗"}
CAMERA_TIMEOUT = 5.0
NETWORK_TIMEOUT = 2.0


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

    from app.store.db import DatabaseProblem, current_event_id, open_database
    from app.store.models import Event, Ticket
    from app.store.outbox import pending_count

    if not config.db.exists():
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
    finally:
        db.close()
    size_mb = config.db.stat().st_size / 1e6
    details = {
        "path": str(config.db),
        "size_mb": round(size_mb, 2),
        "event": event.name if event else None,
        "tickets": tickets,
        "pending_changes": pending,
    }
    if event is None:
        return Check(
            "database", WARNING, f"{config.db} is readable but holds no event yet.", details
        )
    return Check(
        "database",
        OK,
        f"{config.db} ({size_mb:.1f} MB): '{event.name}', {tickets} tickets, {pending} changes waiting to upload.",
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


CHECKS = (check_database, check_decoders, check_camera, check_backend, check_platform, check_sound)


def run_checks(config: Config) -> list[Check]:
    results = []
    for check in CHECKS:
        try:
            results.append(check(config))
        except Exception as exc:  # a check must never take the whole report down
            from app.errors import explain

            name = check.__name__.removeprefix("check_")
            results.append(Check(name, PROBLEM, f"The check failed: {explain(exc)}", {}))
    return results


def cli_doctor(args: Any) -> int:
    config = load_config()
    if getattr(args, "db", None):
        config.db = args.db
    results = run_checks(config)
    if getattr(args, "json", False):
        print(
            json.dumps(
                {"checks": [asdict(c) for c in results], "problems": config.problems}, indent=2
            )
        )
    else:
        for problem in config.problems:
            print(f"! settings: {problem}")
        for check in results:
            print(f"{MARKS[check.status]} {check.name}: {check.message}")
    essential = {"database", "decoders"}
    return 1 if any(c.status == PROBLEM and c.name in essential for c in results) else 0
