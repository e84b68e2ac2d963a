"""Shared pieces of the argument parser: the help formatter that shows defaults, the one
``--json`` option and the description of a subcommand in the table."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.config import Config


class HelpFormatter(argparse.HelpFormatter):
    """Every option's help ends with its default when it has one worth saying (not None, not
    a flag's False); a text with line breaks of its own (the exit codes) keeps them."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            action.option_strings
            and "%(default)" not in text
            and default is not None
            and default is not False
            and default is not argparse.SUPPRESS
        ):
            text += " (default: %(default)s)"
        return text


def add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="print one JSON document on stdout instead of text"
    )


@dataclass(frozen=True)
class Command:
    """One subcommand: ``name`` is "demo" or "group sub" ("bench scan")."""

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    needs_db: bool = False  # refuses to run without --db (before or after the command's name)


def settings_for(args: argparse.Namespace) -> Config:
    """The settings, with the command's ``--db`` (when it has one and it was given) in place
    of the configured database."""
    from app.config import load_config

    config = load_config()
    if getattr(args, "db", None):
        config.db = args.db
    return config
