"""Which thread runs each SQL statement: the screens must never query from the main thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event


@contextmanager
def statements_by_thread(db) -> Iterator[list[tuple[str, str]]]:
    """Inside the block, note ``(thread name, statement)`` for every statement ``db`` runs
    (ORM, Core and ``exec_driver_sql`` alike: each passes ``before_cursor_execute``)."""
    seen: list[tuple[str, str]] = []

    def record(_conn, _cursor, statement, _parameters, _context, _executemany) -> None:
        seen.append((threading.current_thread().name, statement))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def on_main_thread(seen: list[tuple[str, str]]) -> list[str]:
    """The statements of ``seen`` that ran on the main (UI) thread."""
    main = threading.main_thread().name
    return [statement for name, statement in seen if name == main]
