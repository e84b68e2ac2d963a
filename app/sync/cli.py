"""``showdesk sync [--once] [--json]``: sync with the configured backend from a terminal."""

from __future__ import annotations

import argparse
import json
import signal
import threading
from typing import Any

from app.config import load_config
from app.store.db import current_event_id, device_id, open_database
from app.sync.backends import SyncError
from app.sync.runner import SyncRunner, build_backend
from app.sync.status import SyncStatus


def status_dict(status: SyncStatus) -> dict[str, Any]:
    def iso(value):
        return value.isoformat() if value else None

    return {
        "online": status.online,
        "pending": status.pending,
        "pending_checkins": status.pending_checkins,
        "dead": status.dead,
        "conflicts": status.conflicts,
        "oldest_pending_at": iso(status.oldest_pending_at),
        "last_pull_at": iso(status.last_pull_at),
        "last_push_at": iso(status.last_push_at),
        "last_error": status.last_error,
        "clock_skew_seconds": status.clock_skew_seconds,
        "summary": status.summary(),
    }


def cli_sync(args: argparse.Namespace) -> int:
    from app.sync.engine import SyncEngine

    config = load_config()
    if getattr(args, "db", None):
        config.db = args.db
    as_json = bool(getattr(args, "json", False))

    def say(payload: dict[str, Any], text: str) -> None:
        print(json.dumps(payload) if as_json else text, flush=True)

    db = open_database(config.db)
    with db.session() as session:
        dev = device_id(session)
        event_id = config.event_id or current_event_id(session)
    try:
        backend = build_backend(config, dev)
    except SyncError as exc:
        say({"error": str(exc)}, f"showdesk: {exc}")
        return 2
    if backend is None:
        say(
            {"error": "no backend"},
            "This device works offline only: no sync server is set up. Set backend = "
            '"supabase" (with supabase_url, supabase_key, supabase_email, supabase_password) '
            "or run 'showdesk provision CODE'.",
        )
        return 2
    if not event_id:
        say(
            {"error": "no event"},
            "No event is chosen for this device: set event_id in the "
            "settings (or SHOWDESK_EVENT_ID).",
        )
        return 2
    engine = SyncEngine(db, backend, event_id, dev)
    runner = SyncRunner(engine, config.pull_interval_seconds, config.push_debounce_seconds)
    if args.once:
        report = runner.run_once()
        status = engine.status()
        payload = status_dict(status)
        if report is not None:
            payload.update(
                pushed=report.push.applied + report.push.duplicate,
                conflicts_now=report.push.conflict,
                rejected=report.push.rejected,
                pulled=report.pull.upserted,
                deleted=report.pull.deleted,
            )
        say(payload, status.summary())
        backend.close()
        return 0 if status.online else 1

    stop = threading.Event()
    runner.add_listener(lambda s: say(status_dict(s), s.summary()))
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    runner.start()
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        runner.stop()
        db.close()
    return 0
