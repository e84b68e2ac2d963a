"""Row <-> plain dict conversion: ORM rows to JSON for the outbox (``row_to_dict``), and JSON
back to constructor kwargs (``from_wire``, which lives with the replica's one writer,
``app.store.replica_writer``, beside the conversions of pulled pages and bulk loads)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect

from app.store.replica_writer import SYNC_ONLY_COLUMNS, from_wire
from app.store.types import UTCDateTime

__all__ = ["SYNC_ONLY_COLUMNS", "from_wire", "row_to_dict", "to_wire"]


def to_wire(value: Any) -> Any:
    """A column value as JSON: ISO UTC text for times, exact text for money."""
    if isinstance(value, datetime):
        return UTCDateTime().process_bind_param(value, None)
    if isinstance(value, Decimal):
        return str(value)
    return value


def row_to_dict(row: Any, *, include_sync: bool = False) -> dict[str, Any]:
    """All column values of an ORM row, JSON-ready."""
    mapper = inspect(type(row))
    out: dict[str, Any] = {}
    for column in mapper.columns:
        if not include_sync and column.key in SYNC_ONLY_COLUMNS:
            continue
        out[column.key] = to_wire(getattr(row, column.key))
    return out
