"""The `showdesk` command line: ``main`` is the console script (``app.cli:main``) and
``python -m app``. One module per subcommand; the table of them is ``program.COMMANDS``."""

from __future__ import annotations

from app.cli.program import COMMANDS, build_parser, main

__all__ = ["COMMANDS", "build_parser", "main"]
