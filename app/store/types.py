"""Column types for the SQLite replica: UTC datetimes, Decimal money, UUID strings."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import String, Text
from sqlalchemy.types import TypeDecorator


def new_id() -> str:
    """A fresh UUID, generated where the row is born."""
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes stored as sortable ISO-8601 text.

    Naive datetimes are refused: every time in the replica must say which zone it is in.
    """

    impl = String(32)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> str | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return format_utc(value)

    def process_result_value(self, value: str | None, dialect) -> datetime | None:
        if value is None:
            return None
        return parse_utc(value)


def format_utc(value: datetime) -> str:
    """An aware time as the replica stores it: sortable ISO-8601 UTC text ("...Z")."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: times must be timezone-aware")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_utc(value: str) -> datetime:
    """Parse ISO text (with 'Z' or an offset) into an aware UTC datetime."""
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


class Money(TypeDecorator[Decimal]):
    """Decimal amounts stored as exact text (SQLite has no decimal type)."""

    impl = String(32)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect) -> str | None:
        if value is None:
            return None
        return str(Decimal(value))

    def process_result_value(self, value: str | None, dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


class JSONText(TypeDecorator[object]):
    """JSON stored as text, with stable key order so rows compare equal across devices."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect) -> str | None:
        import json

        if value is None:
            return None
        return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)

    def process_result_value(self, value: str | None, dialect):
        import json

        return None if value is None else json.loads(value)
