"""`showdesk audit [--staff NAME_OR_ID] [--kind KIND] [--since ISO] [--until ISO] [--csv FILE]
[--json]`: the event's audit trail (who scanned, annulled, marked an arrival, edited the
lineup), filtered as on the Audit trail screen, as a table, one JSON document or a CSV file."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.cli.options import add_json, settings_for
from app.cli.output import EXIT_OK, EXIT_USAGE, fail, say

if TYPE_CHECKING:
    from app.store.audit import AuditRow, StaffMember

HELP = "the audit trail: who scanned, annulled, marked arrivals and edited the lineup"
KINDS = ("scan", "annul", "arrival", "lineup")  # app.store.audit.KINDS (not imported: no SQL)
NOBODY = "nobody"
TABLE_COLUMNS = ("time (UTC)", "staff", "role", "what", "gate", "device")
MAX_CELL = 40


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--db", dest="db", type=Path, metavar="PATH", help="database file (default: settings)"
    )
    p.add_argument(
        "--staff",
        metavar="NAME_OR_ID",
        help=f"only this staff member's entries: a name (any case) or an id; '{NOBODY}' for "
        "what was done with no one signed in (default: everyone)",
    )
    p.add_argument("--kind", choices=KINDS, help="only entries of this kind (default: every kind)")
    p.add_argument(
        "--since",
        type=_iso_time,
        metavar="ISO",
        help="only entries at or after this time, e.g. 2026-12-03T19:00 (UTC unless it "
        "has an offset; default: the start of the trail)",
    )
    p.add_argument(
        "--until",
        type=_iso_time,
        metavar="ISO",
        help="only entries before this time (UTC unless it has an offset; default: no end)",
    )
    p.add_argument(
        "--csv",
        type=Path,
        metavar="FILE",
        help="also write the entries to FILE as CSV for a spreadsheet (default: no file)",
    )
    add_json(p)


def _iso_time(text: str) -> datetime:
    """An ISO 8601 time for argparse; one without an offset is UTC."""
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time: write it like 2026-12-03T19:00 or 2026-12-03T20:00+01:00"
        ) from None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def find_staff(members: list[StaffMember], wanted: str) -> list[StaffMember]:
    """The members ``wanted`` names: an exact id, else a whole name in any case, else the
    names that contain it."""
    text = wanted.strip().casefold()
    by_id = [m for m in members if m.id == wanted.strip()]
    whole = [m for m in members if m.name.casefold() == text]
    return by_id or whole or [m for m in members if text and text in m.name.casefold()]


def _staff_id(members: list[StaffMember], wanted: str | None) -> str | None:
    """The ``audit_log`` staff filter for ``--staff``; a usage failure when it names no one
    or several."""
    from app.store.audit import NO_STAFF

    if wanted is None:
        return None
    if wanted.strip().casefold() == NOBODY:
        return NO_STAFF
    found = find_staff(members, wanted)
    if len(found) == 1:
        return found[0].id
    known = ", ".join(m.name for m in members) or "none in this database"
    if not found:
        fail(f"No staff member is called {wanted!r} here. Staff: {known}.", EXIT_USAGE)
    names = ", ".join(m.label for m in found)
    fail(
        f"{wanted!r} names {len(found)} staff members ({names}): give more of the name.", EXIT_USAGE
    )


def _row_dict(row: AuditRow) -> dict[str, Any]:
    return {
        "at": row.at.isoformat(),
        "staff_id": row.staff_id,
        "staff": row.staff_name,
        "role": row.role,
        "kind": row.kind,
        "what": row.what,
        "subject_id": row.subject_id,
        "gate": row.gate,
        "device": row.device_name,
        "reason": row.reason,
        "checkin_id": row.checkin_id,
    }


def _cut(text: str | None) -> str:
    text = text or ""
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def audit_table(rows: list[AuditRow]) -> str:
    """The rows as a plain-text table (long cells cut), oldest first."""
    cells = [
        [
            row.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            _cut(row.staff_name),
            _cut(row.role),
            _cut(row.what),
            _cut(row.gate),
            _cut(row.device_name),
        ]
        for row in rows
    ]
    table = [list(TABLE_COLUMNS), *cells]
    widths = [max(len(line[i]) for line in table) for i in range(len(TABLE_COLUMNS))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in table
    ]
    count = len(rows)
    lines.append(f"{count} {'entry' if count == 1 else 'entries'}")
    return "\n".join(lines)


def _read(
    db_path: Path, event_id: str | None, args: argparse.Namespace
) -> tuple[list[AuditRow], str | None]:
    """The filtered rows and the --staff filter used, from the database at ``db_path``."""
    from app.store.audit import audit_log, audit_staff
    from app.store.db import DatabaseProblem, current_event_id, open_database

    try:
        db = open_database(db_path)
    except DatabaseProblem as exc:
        fail(str(exc))
    try:
        with db.session() as session:
            event_id = event_id or current_event_id(session)
            if event_id is None:
                fail("This database has no event yet. Sync it or create a demo.", EXIT_USAGE)
            staff_id = _staff_id(audit_staff(session, event_id), args.staff)
            rows = audit_log(
                session,
                event_id,
                staff_id=staff_id,
                kind=args.kind,
                since=args.since,
                until=args.until,
            )
    except DatabaseProblem as exc:
        fail(str(exc))
    finally:
        db.close()
    return rows, staff_id


def run(args: argparse.Namespace) -> int:
    from app.store.audit import write_audit_csv

    config = settings_for(args)
    db_path = Path(config.db).expanduser()
    if not db_path.exists():
        fail(f"There is no database at {db_path}. Create one with `showdesk demo --db {db_path}`.")
    if args.since and args.until and args.since >= args.until:
        fail("--since must be before --until.", EXIT_USAGE)
    rows, staff_id = _read(db_path, config.event_id, args)
    text = audit_table(rows)
    if args.csv is not None:
        try:
            write_audit_csv(rows, args.csv)
        except OSError as exc:
            fail(f"Cannot write {args.csv}: {exc.strerror or exc}.")
        text += f"\nWrote {args.csv}."
    document = {
        "filters": {
            "staff_id": staff_id,
            "kind": args.kind,
            "since": args.since.isoformat() if args.since else None,
            "until": args.until.isoformat() if args.until else None,
        },
        "count": len(rows),
        "csv": str(args.csv) if args.csv is not None else None,
        "entries": [_row_dict(r) for r in rows],
    }
    say(args.json, document, text)
    return EXIT_OK
