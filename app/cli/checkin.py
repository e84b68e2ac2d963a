"""`showdesk checkin --db PATH (--code TEXT | --image FILE) [--gate] [--direction] [--json]`:
one scan, one verdict, through the same engine as the door screen."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.cli.options import add_json
from app.cli.output import EXIT_OK, EXIT_REFUSED, fail, say

HELP = "one scan, one verdict"


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", type=Path, metavar="PATH", help="the database to check in against")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--code", help="the code's text")
    src.add_argument("--image", type=Path, help="an image holding the code")
    p.add_argument("--gate", default="Main", help="the gate this scan happens at")
    p.add_argument("--direction", choices=("in", "out"), default="in", help="entry or exit")
    add_json(p)


def run(args: argparse.Namespace) -> int:
    from app.store.checkin_service import CheckinService
    from app.store.db import DatabaseProblem, current_event_id, device_id, open_database

    if not Path(args.db).expanduser().exists():
        fail(f"There is no database at {args.db}. Create one with `showdesk demo --db {args.db}`.")
    try:
        db = open_database(args.db)
    except DatabaseProblem as exc:
        fail(str(exc))
    try:
        with db.session() as session:
            event_id = current_event_id(session)
            device = device_id(session)
        if event_id is None:
            fail("This database has no event yet. Sync it or create a demo.")
        code = args.code if args.image is None else _decode(Path(args.image))
        service = CheckinService(db, event_id, device, gate=args.gate, direction=args.direction)
        result = service.scan(code, method="qr")
    except DatabaseProblem as exc:
        fail(str(exc))
    finally:
        db.close()
    who = ", ".join(
        p for p in (result.attendee_name, result.ticket_type, result.ticket_number) if p
    )
    say(args.json, result.to_dict(), result.line() + (f"\n{who}" if who else ""))
    return EXIT_OK if result.ok else EXIT_REFUSED


def _decode(image: Path) -> str | None:
    from app.scan.decoders import decode_image_file

    try:
        return decode_image_file(image)
    except FileNotFoundError:
        fail(f"File not found: {image}")
    except ValueError as exc:
        fail(str(exc))
