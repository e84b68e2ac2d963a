"""The outbox: every local change is queued here in the same transaction as the change."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.store.models import Base, OutboxEntry
from app.store.serialize import row_to_dict

SCHEMA_VERSION = 1
"""Version of the payload format; queued rows are migrated forward, never dropped."""


def record(
    session: Session,
    row: Base,
    op: str = "insert",
    *,
    fields: list[str] | None = None,
) -> OutboxEntry:
    """Queue ``row``'s change (insert / update / delete) for upload.

    Call inside the transaction that makes the change. ``fields`` limits an update's payload
    to the columns that changed (plus ``id``), so concurrent edits of other columns merge.
    """
    if op not in ("insert", "update", "delete"):
        raise ValueError(f"unknown outbox op {op!r}")
    session.flush()
    payload: dict[str, Any] = row_to_dict(row)
    if fields is not None:
        payload = {k: payload[k] for k in ("id", *fields) if k in payload}
    entry = OutboxEntry(
        table_name=row.__tablename__,
        row_id=payload["id"],
        op=op,
        payload=payload,
        base_version=getattr(row, "server_version", None),
        schema_version=SCHEMA_VERSION,
    )
    session.add(entry)
    return entry


def pending_count(session: Session) -> int:
    return session.scalar(select(func.count()).where(OutboxEntry.state == "pending")) or 0


def pending_row_ids(session: Session, table_name: str) -> set[str]:
    """Ids of rows in ``table_name`` with changes not yet acknowledged by the server."""
    return set(
        session.scalars(
            select(OutboxEntry.row_id).where(
                OutboxEntry.table_name == table_name, OutboxEntry.state == "pending"
            )
        )
    )
