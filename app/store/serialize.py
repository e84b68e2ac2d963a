"""Row <-> plain dict conversion shared by the outbox and the sync engine."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect

from app.store.types import Money, UTCDateTime, parse_utc

SYNC_ONLY_COLUMNS = frozenset({"server_version"})


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


def from_wire(model: type, data: dict[str, Any]) -> dict[str, Any]:
    """Turn a JSON dict into constructor kwargs for ``model``, ignoring unknown keys."""
    mapper = inspect(model)
    out: dict[str, Any] = {}
    for column in mapper.columns:
        if column.key not in data:
            continue
        value = data[column.key]
        if value is not None:
            if isinstance(column.type, UTCDateTime) and isinstance(value, str):
                value = parse_utc(value)
            elif isinstance(column.type, Money):
                value = Decimal(str(value))
        out[column.key] = value
    return out
