"""`showdesk event retention --days N|default [--event ID] [--json]`: the organizer's number of
days after an event ends at which every kiosk forgets its attendees' personal data.

The value is the event's ``retention_days`` (migrations/supabase/0023_event_retention.sql): it
is changed in this device's replica and queued for upload like any other edit
(``outbox.record(..., fields=["retention_days"])``); the server takes it from an organizer or
admin only, and every kiosk of the event gets it with its next pull (app/store/retention.py
then uses it instead of the kiosk's own setting). ``--days default`` clears it: each kiosk's
own setting applies again.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from app.cli.options import add_json, settings_for
from app.cli.output import EXIT_FAILED, EXIT_OK, EXIT_USAGE, fail, say

RETENTION_HELP = (
    "how many days after an event ends every kiosk forgets its attendees' personal data "
    "(organizer or admin; uploaded with the next sync, reaches kiosks with their next pull)"
)
MAX_DAYS = 365  # app.store.retention.MAX_EVENT_DAYS; here so --help loads no database code
DEFAULT = "default"
REFUSED_ROLES = ("door", "producer")


def _days(text: str) -> int | None:
    """``--days``: a whole number 0..365, or "default" (None: each kiosk's own setting)."""
    if text.strip().lower() == DEFAULT:
        return None
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of days: give 0 to {MAX_DAYS}, or 'default'"
        ) from None
    if not 0 <= value <= MAX_DAYS:
        raise argparse.ArgumentTypeError(
            f"{value} days is outside 0 to {MAX_DAYS}; give 0 to {MAX_DAYS}, or 'default'"
        )
    return value


def configure_retention(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--days",
        type=_days,
        required=True,
        metavar="N|default",
        help=f"days after the event ends, 0 to {MAX_DAYS}; 'default' clears it, so each "
        "kiosk's own setting (retention_days, 7 unless changed) applies",
    )
    p.add_argument(
        "--event",
        metavar="ID",
        help="the event's id (default: this database's current event)",
    )
    p.add_argument(
        "--db", type=Path, metavar="PATH", help="the database to change (default: from settings)"
    )
    add_json(p)


def _edit_event(args: argparse.Namespace, what: str, change) -> tuple[str, str, Any]:
    """Open this device's replica as the organizer and apply ``change(session, event, config)``
    to the event of ``--event`` (default: the current one): (event id, name, change's answer).
    Refused on a door or producer kiosk, with ``what`` it was asked to set."""
    from app.store.db import DatabaseProblem, current_event_id, open_database
    from app.store.models import Event

    config = settings_for(args)
    if config.device_role in REFUSED_ROLES:
        fail(
            f"This device is enrolled as a {config.device_role} kiosk: only an organizer or "
            f"an admin sets {what}. Run this on the organizer's laptop.",
            EXIT_USAGE,
            device_role=config.device_role,
        )
    path = Path(config.db).expanduser()
    if not path.exists():
        fail(f"There is no database at {path}. Set this device up (or sync) first.", EXIT_USAGE)
    try:
        db = open_database(path)
    except DatabaseProblem as exc:
        fail(str(exc), EXIT_FAILED)
    try:
        with db.session() as session:
            event_id = args.event or current_event_id(session)
            event = session.get(Event, event_id) if event_id else None
            if event is None:
                fail(
                    f"There is no event {event_id} in {path}."
                    if event_id
                    else f"There is no event in {path} yet: sync it first.",
                    EXIT_USAGE,
                )
            return str(event_id), event.name, change(session, event, config)
    except DatabaseProblem as exc:
        fail(str(exc), EXIT_FAILED)
    finally:
        db.close()


def run_retention(args: argparse.Namespace) -> int:
    from app.store.retention import retention_days, set_event_days

    def change(session, event, config):
        before = event.retention_days
        kiosk = retention_days(session, config.retention_days)
        return before, kiosk, set_event_days(session, event, args.days)

    event_id, name, (before, kiosk_days, changed) = _edit_event(
        args, "how long attendees' personal data is kept", change
    )
    if args.days is None:
        rule = f"each kiosk's own setting applies (here: {kiosk_days} days after '{name}' ends)"
    else:
        rule = (
            f"every kiosk forgets the attendees' personal data of '{name}' {args.days} days "
            "after it ends"
        )
    if changed:
        text = (
            f"Set: {rule}. Queued for upload with this device's next sync; kiosks get it with "
            "their next pull."
        )
    else:
        text = f"Already so: {rule}. Nothing to upload."
    say(
        args.json,
        {
            "event_id": event_id,
            "event": name,
            "retention_days": args.days,
            "previous": before,
            "kiosk_days": kiosk_days,
            "queued": changed,
        },
        text,
    )
    return EXIT_OK


OFFLINE_POLICY_HELP = (
    "what doors do while cut off from both the venue hub and the server: lenient admits and "
    "flags it, strict holds each guest for a signed-in staff member (organizer or admin)"
)


def configure_offline_policy(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--mode",
        required=True,
        choices=("lenient", "strict"),
        help="lenient: admit on the door's own verdict, flagged 'offline — duplicates "
        "possible'; strict: hold every guest until a signed-in staff member admits them (F6)",
    )
    p.add_argument("--event", metavar="ID", help="the event's id (default: this database's)")
    p.add_argument(
        "--db", type=Path, metavar="PATH", help="the database to change (default: from settings)"
    )
    add_json(p)


def run_offline_policy(args: argparse.Namespace) -> int:
    from app.store.offline_policy import set_offline_policy

    def change(session, event, _config):
        before = event.offline_policy or "lenient"
        return before, set_offline_policy(session, event, args.mode)

    event_id, name, (before, changed) = _edit_event(
        args, "what doors do with no connection", change
    )
    rule = (
        f"doors of '{name}' cut off from the hub and the server admit and flag it"
        if args.mode == "lenient"
        else f"doors of '{name}' cut off from the hub and the server hold each guest for a "
        "signed-in staff member"
    )
    say(
        args.json,
        {
            "event_id": event_id,
            "event": name,
            "offline_policy": args.mode,
            "previous": before,
            "queued": changed,
        },
        f"Set: {rule}. Queued for upload with this device's next sync; kiosks get it with "
        "their next pull."
        if changed
        else f"Already so: {rule}. Nothing to upload.",
    )
    return EXIT_OK
