"""`showdesk [--db PATH] [--kiosk]` with no subcommand: open the app."""

from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> int:
    from app.ui.main import run_app

    return run_app(db=args.db, kiosk=bool(args.kiosk))
