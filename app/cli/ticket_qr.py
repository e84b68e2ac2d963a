"""`showdesk ticket-qr --db PATH TICKET --out file.png|file.svg [--json]`."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.cli.options import add_json
from app.cli.output import fail, say

HELP = "render a ticket's QR code as PNG or SVG"


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", type=Path, metavar="PATH", help="the database holding the ticket")
    p.add_argument("ticket", help="ticket number or id")
    p.add_argument("--out", type=Path, required=True, help="file.png or file.svg")
    add_json(p)


def run(args: argparse.Namespace) -> int:
    from app.store.db import DatabaseProblem, open_database
    from app.store.ticket_qr import (
        TicketNotFound,
        find_ticket_code,
        qr_version,
        render_qr_svg,
        render_ticket_png,
    )

    out = Path(args.out)
    suffix = out.suffix.lower()
    if suffix not in (".png", ".svg"):
        fail("--out must end in .png or .svg.")
    if not Path(args.db).expanduser().exists():
        fail(f"There is no database at {args.db}.")
    try:
        db = open_database(args.db)
    except DatabaseProblem as exc:
        fail(str(exc))
    try:
        with db.session() as session:
            code = find_ticket_code(session, args.ticket)
    except TicketNotFound as exc:
        fail(str(exc))
    finally:
        db.close()
    data = render_ticket_png(code) if suffix == ".png" else render_qr_svg(code.qr_text)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
    except OSError as exc:
        fail(f"Cannot write {out}: {exc.strerror or exc}.")
    summary = {
        "ticket_id": code.ticket_id,
        "ticket_number": code.ticket_number,
        "name": code.name,
        "out": str(out),
        "bytes": len(data),
        "qr_version": qr_version(code.qr_text),
    }
    say(args.json, summary, f"Wrote {out} ({code.ticket_number}, {code.name or 'no name'}).")
    return 0
