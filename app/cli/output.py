"""The one way a command prints JSON and the one way it fails, and the exit codes.

A handler prints its answer with :func:`print_json` (``--json``) or plain text, and fails by
raising :class:`CommandFailed` (or calling :func:`fail`): ``app.cli.main`` prints the message
(``{"error": ...}`` on stdout with ``--json``, ``showdesk: ...`` on stderr without) and
returns its exit code.
"""

from __future__ import annotations

import json
import sys
import textwrap
from typing import Any, NoReturn

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3
EXIT_INTERRUPTED = 130

EXIT_CODES: tuple[tuple[int, str], ...] = (
    (EXIT_OK, "done (doctor: no check found a problem; warnings allowed)"),
    (
        EXIT_FAILED,
        "the command could not do its work: a file or database it cannot use, the server "
        "refused, sync found the server unreachable, a doctor check found a problem, an "
        "unexpected error",
    ),
    (
        EXIT_USAGE,
        "wrong arguments or setup: an unknown option, two different --db, no sync server or "
        "event set up, a bad provisioning code, no display for a window",
    ),
    (EXIT_REFUSED, "checkin: the code was read and the ticket refused (the verdict is printed)"),
    (EXIT_INTERRUPTED, "interrupted (Ctrl+C)"),
)


def exit_codes_epilog(width: int = 79) -> str:
    lines = ["exit codes:"]
    for code, text in EXIT_CODES:
        lines += textwrap.wrap(
            text, width, initial_indent=f"  {code:<4} ", subsequent_indent=" " * 7
        )
    return "\n".join(lines)


class CommandFailed(Exception):
    """A command could not do what was asked. ``str()`` is the sentence for a person;
    ``details`` go into the JSON error document beside it."""

    def __init__(self, message: str, code: int = EXIT_FAILED, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.details = details


def fail(message: str, code: int = EXIT_FAILED, **details: Any) -> NoReturn:
    raise CommandFailed(message, code, **details)


def print_json(document: Any, indent: int | None = None) -> None:
    print(json.dumps(document, ensure_ascii=False, indent=indent), flush=True)


def say(as_json: bool, document: Any, text: str) -> None:
    """One answer: the JSON document with ``--json``, else the text."""
    if as_json:
        print_json(document)
    else:
        print(text, flush=True)


def report_failure(exc: CommandFailed, as_json: bool) -> int:
    if as_json:
        print_json({"error": exc.message, **exc.details})
    else:
        print(f"showdesk: {exc.message}", file=sys.stderr, flush=True)
    return exc.code
