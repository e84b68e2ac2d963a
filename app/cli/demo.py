"""`showdesk demo [--db PATH] [--tickets N] [--seed N] [--force] [--json]`."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.cli.options import add_json
from app.cli.output import fail, say

HELP = "create a demo database"
DEFAULT_TICKETS = 2000


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--db", type=Path, metavar="PATH", help="where to write it (default: the app's database)"
    )
    p.add_argument(
        "--tickets", type=int, default=DEFAULT_TICKETS, help="number of tickets (up to 100000)"
    )
    p.add_argument("--seed", type=int, default=7, help="random seed (same seed, same event)")
    p.add_argument("--force", action="store_true", help="replace an existing file")
    add_json(p)


def run(args: argparse.Namespace) -> int:
    from app.store.db import DatabaseProblem
    from app.store.demo import MAX_TICKETS, DemoExists, create_demo

    if args.db is not None:
        path = Path(args.db)
    else:
        from app.config import load_config

        path = load_config().db
    tickets = DEFAULT_TICKETS if args.tickets is None else int(args.tickets)
    if not 1 <= tickets <= MAX_TICKETS:
        fail(f"--tickets must be between 1 and {MAX_TICKETS:,}.")
    try:
        summary = create_demo(path, tickets, int(args.seed or 0), bool(args.force))
    except (DemoExists, DatabaseProblem) as exc:
        fail(str(exc))
    say(
        args.json,
        summary,
        f"Demo event '{summary['event']}' with {summary['tickets']:,} tickets written to "
        f"{summary['db']} in {summary['seconds']} s.",
    )
    return 0
