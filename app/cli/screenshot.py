"""`showdesk screenshot [--out DIR]`: PNGs of the real main window on a demo database."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.cli.output import EXIT_OK, EXIT_USAGE, fail

HELP = "save screenshots of the real windows (README)"


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="folder for the PNGs (default: a new temporary folder, printed; never the "
        "current directory's docs/screenshots unless given)",
    )


def run(args: argparse.Namespace) -> int:
    from app.ui.display_check import display_problem
    from app.ui.qt import QApplication
    from app.ui.screenshots import output_folder, take

    if QApplication.instance() is None and (problem := display_problem()) is not None:
        fail(problem, EXIT_USAGE)
    out = output_folder(args.out)
    for name, size in take(out):
        print(f"{out / (name + '.png')}: {size // 1000} KB")
    print(f"Screenshots written to {out}")
    return EXIT_OK
