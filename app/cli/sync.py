"""`showdesk sync [--once] [--json]`: sync with the configured backend from a terminal."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from app.cli.options import add_json
from app.cli.output import EXIT_FAILED, EXIT_OK, EXIT_USAGE, fail, say

if TYPE_CHECKING:
    from app.sync.status import SyncStatus

HELP = "sync with the configured backend"


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--once", action="store_true", help="one push and pull, then exit")
    add_json(p)


def status_dict(status: SyncStatus) -> dict[str, Any]:
    def iso(value: Any) -> str | None:
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
        "routes": status.route_words,
    }


def run(args: argparse.Namespace) -> int:
    import signal
    import threading

    from app.config import load_config
    from app.store.db import current_event_id, device_id, open_database
    from app.sync.backends import SyncError
    from app.sync.engine import SyncEngine
    from app.sync.runner import SyncRunner, build_backend

    config = load_config()
    if args.db:
        config.db = args.db
    as_json = bool(args.json)
    db = open_database(config.db)
    with db.session() as session:
        dev = device_id(session)
        event_id = config.event_id or current_event_id(session)
    try:
        backend = build_backend(config, dev)
    except SyncError as exc:
        fail(str(exc), EXIT_USAGE)
    if backend is None:
        fail(
            "This device works offline only: no sync server is set up. Set backend = "
            '"supabase" (with supabase_url, supabase_key, supabase_email, and the password '
            "in the secret store) or run 'showdesk provision CODE'.",
            EXIT_USAGE,
            reason="no backend",
        )
    if not event_id:
        fail(
            "No event is chosen for this device: set event_id in the "
            "settings (or SHOWDESK_EVENT_ID).",
            EXIT_USAGE,
            reason="no event",
        )
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
        say(as_json, payload, status.summary())
        backend.close()
        return EXIT_OK if status.online else EXIT_FAILED

    stop = threading.Event()
    runner.add_listener(lambda s: say(as_json, status_dict(s), s.summary()))
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
    return EXIT_OK
