"""Forget attendees' personal data on a kiosk once their event is over.

``purge_personal_data`` blanks the names, emails, phones, companies and notes of the attendees,
and the buyers' names and emails of the orders, of every event that ended more than N days
ago. N is the event's own ``retention_days`` when the organizer set it (centrally, per event:
``showdesk event retention``; it reaches the kiosk with its next pull), else this kiosk's
number (``retention_days``: the setting, kept in ``local_meta``; default 7). It keeps what the
organizer counts on: the events, ticket types, tickets (numbers, statuses, codes), orders
(numbers, totals) and the whole check-in log with its ticket ids. The search index is rebuilt
without them, and the work is done with SQLite's ``secure_delete`` followed by a VACUUM and a
WAL checkpoint, so the data is gone from the file and its free pages, not just unlinked.

This is local forgetting, not a server delete:

- nothing is queued in the outbox (the rows are changed with plain SQL, never through
  ``outbox.record``), so no edit or delete is pushed;
- guard triggers (``retention_*``, created here, idempotently) blank any attendee or order row
  of a forgotten event that a later pull or a full resync writes again, in the same statement;
- an event whose attendee or order edits are still waiting to be uploaded is left for the next
  run (after the sync that uploads them): nothing queued is ever lost.

When it runs: at start-up on the DB worker and after each sync (the caller passes the
kiosk's number of days, or it comes from ``local_meta``; an event's own number wins); a run
with nothing due does a few reads and writes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.store.db import Database, get_meta
from app.store.models import Event
from app.store.types import utcnow

log = logging.getLogger(__name__)

DEFAULT_RETENTION_DAYS = 7
MAX_EVENT_DAYS = 365  # the server's CHECK (events_retention_days_range, migration 0023)
META_DAYS = "retention.days"  # this kiosk's number of days (its setting), when stored
META_PURGED = "retention.purged."  # + event id: when that event's personal data was forgotten
_PERSONAL_TABLES = ("attendees", "orders")
_INDEXES = ("ticket_search", "ticket_numbers")

_BLANK_ATTENDEE = (
    "first_name = '', last_name = '', email = NULL, phone = NULL, company = NULL, notes = NULL"
)
_ATTENDEE_HAS_DATA = (
    "(new.first_name <> '' OR new.last_name <> '' OR new.email IS NOT NULL "
    "OR new.phone IS NOT NULL OR new.company IS NOT NULL OR new.notes IS NOT NULL)"
)
_BLANK_ORDER = "buyer_name = NULL, buyer_email = NULL"
_ORDER_HAS_DATA = "(new.buyer_name IS NOT NULL OR new.buyer_email IS NOT NULL)"


def _guard(table: str, when: str, has_data: str, blank: str) -> str:
    return (
        f"CREATE TRIGGER IF NOT EXISTS retention_{table}_{when.lower()} AFTER {when} ON {table} "
        f"WHEN {has_data} AND EXISTS (SELECT 1 FROM local_meta "
        f"WHERE key = '{META_PURGED}' || new.event_id) "
        f"BEGIN UPDATE {table} SET {blank} WHERE id = new.id; END"
    )


GUARD_TRIGGERS = tuple(
    _guard(table, when, has_data, blank)
    for table, has_data, blank in (
        ("attendees", _ATTENDEE_HAS_DATA, _BLANK_ATTENDEE),
        ("orders", _ORDER_HAS_DATA, _BLANK_ORDER),
    )
    for when in ("INSERT", "UPDATE")
)


@dataclass
class PurgeReport:
    """What one run did."""

    days: int  # this kiosk's number (events without one of their own)
    events: list[str] = field(default_factory=list)  # forgotten in this run
    attendees: int = 0
    orders: int = 0
    deferred: list[str] = field(default_factory=list)  # edits still queued: next run
    # forgotten events whose organizer set their own number of days: event id -> days
    organizer_days: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.events)

    def sentence(self) -> str:
        if not self.events and not self.deferred:
            return "No personal data was due to be forgotten."
        parts = []
        if self.events:
            parts.append(
                f"Forgot the personal data of {self.attendees} attendees and {self.orders} "
                f"orders of {len(self.events)} event(s) that ended more than {self._periods()} "
                "ago; counts and the check-in log are kept."
            )
        if self.deferred:
            parts.append(
                f"{len(self.deferred)} finished event(s) still have attendee changes waiting "
                "to be uploaded; their data is forgotten after the next sync."
            )
        return " ".join(parts)

    def _periods(self) -> str:
        """Whose number of days applied: "7 days", or "5 days (set by the organizer for
        1 event; this kiosk's 7 days for the rest)"."""
        if not self.organizer_days:
            return f"{self.days} days"
        own = sorted(set(self.organizer_days.values()))
        text = (
            f"{', '.join(str(d) for d in own)} days (set by the organizer for "
            f"{len(self.organizer_days)} event(s)"
        )
        if len(self.organizer_days) < len(self.events):
            text += f"; this kiosk's {self.days} days for the rest"
        return text + ")"


def retention_days(session: Session, days: int | None = None) -> int:
    """This kiosk's number of days: ``days`` when given (the kiosk's setting), else the value
    kept in ``local_meta`` (``retention.days``), else 7. Never below 0. An event the organizer
    gave its own number (``Event.retention_days``) uses that instead (:func:`event_days`)."""
    if days is None:
        raw = get_meta(session, META_DAYS)
        try:
            days = int(raw) if raw is not None else DEFAULT_RETENTION_DAYS
        except ValueError:
            days = DEFAULT_RETENTION_DAYS
    return max(0, int(days))


def install_guards(session: Session) -> None:
    """The triggers that keep a forgotten event's rows blank when sync writes them again."""
    conn = session.connection()
    for sql in GUARD_TRIGGERS:
        conn.exec_driver_sql(sql)


def event_days(own: int | None, kiosk_days: int) -> int:
    """The number of days that applies to one event: the organizer's (``own``, the event's
    ``retention_days``) when set, else the kiosk's. Never below 0."""
    return max(0, int(own)) if own is not None else kiosk_days


def set_event_days(session: Session, event: Event, days: int | None) -> bool:
    """The organizer's number of days for ``event`` (None: each kiosk's own setting), queued
    for upload like any other edit; False when it was already so (nothing queued)."""
    from app.store import outbox

    if days is not None and not 0 <= days <= MAX_EVENT_DAYS:
        raise ValueError(f"days is 0 to {MAX_EVENT_DAYS}, not {days}")
    if event.retention_days == days:
        return False
    event.retention_days = days
    outbox.record(session, event, "update", fields=["retention_days"])
    return True


def due_events(session: Session, days: int, now: datetime | None = None) -> list[str]:
    """Events that ended more than their number of days before ``now`` (the event's own
    ``retention_days``, else ``days``, the kiosk's) and are not forgotten yet."""
    return list(_due(session, days, now))


def _due(session: Session, days: int, now: datetime | None) -> dict[str, int | None]:
    """Due events -> the organizer's number of days for it (None: the kiosk's applied)."""
    moment = now or utcnow()
    done = {
        key[len(META_PURGED) :]
        for (key,) in session.connection().exec_driver_sql(
            "SELECT key FROM local_meta WHERE key LIKE ?", (META_PURGED + "%",)
        )
    }
    return {
        event_id: own
        for event_id, ends_at, own in session.execute(
            select(Event.id, Event.ends_at, Event.retention_days)
        )
        if ends_at is not None
        and ends_at <= moment - timedelta(days=event_days(own, days))
        and event_id not in done
    }


def _queued_personal_edits(session: Session, event_id: str) -> int:
    return (
        session.connection()
        .exec_driver_sql(
            "SELECT count(*) FROM outbox WHERE (table_name = 'attendees' AND row_id IN "
            "(SELECT id FROM attendees WHERE event_id = ?)) OR (table_name = 'orders' AND "
            "row_id IN (SELECT id FROM orders WHERE event_id = ?))",
            (event_id, event_id),
        )
        .scalar()
        or 0
    )


def purge_personal_data(
    db: Database, *, days: int | None = None, now: datetime | None = None
) -> PurgeReport:
    """Forget the personal data of every finished event that is due (see the module's
    docstring). Safe to call at any time and as often as wanted; returns what it did."""
    with db.engine.connect() as conn:
        previous = conn.exec_driver_sql("PRAGMA secure_delete").scalar()
        conn.exec_driver_sql("PRAGMA secure_delete = ON")
        conn.commit()  # the pragmas' implicit transaction: the session's must be the outer one
        try:
            with Session(bind=conn) as session:
                report = _purge(session, days, now)
                session.commit()
            conn.commit()
            if report.changed:
                # Rebuild the file: no freed page keeps a copy; fold the WAL in and empty it.
                conn.exec_driver_sql("VACUUM")
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                conn.commit()
        finally:
            conn.exec_driver_sql(f"PRAGMA secure_delete = {int(previous or 0)}")
    if report.events or report.deferred:
        log.info("retention: %s", report.sentence())
    return report


def _purge(session: Session, days: int | None, now: datetime | None) -> PurgeReport:
    report = PurgeReport(days=retention_days(session, days))
    install_guards(session)
    conn = session.connection()
    stamp = (now or utcnow()).isoformat()
    for event_id, own in _due(session, report.days, now).items():
        if _queued_personal_edits(session, event_id):
            report.deferred.append(event_id)
            continue
        # The mark first: from here on the guard triggers keep this event's rows blank.
        conn.exec_driver_sql(
            "INSERT INTO local_meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (META_PURGED + event_id, stamp),
        )
        attendees = conn.exec_driver_sql(
            f"UPDATE attendees SET {_BLANK_ATTENDEE} WHERE event_id = ?", (event_id,)
        ).rowcount
        orders = conn.exec_driver_sql(
            f"UPDATE orders SET {_BLANK_ORDER} WHERE event_id = ?", (event_id,)
        ).rowcount
        # A lost local edit kept for display holds the row as it was: forgotten too.
        conn.exec_driver_sql(
            "DELETE FROM sync_conflicts WHERE (table_name = 'attendees' AND row_id IN "
            "(SELECT id FROM attendees WHERE event_id = ?)) OR (table_name = 'orders' AND "
            "row_id IN (SELECT id FROM orders WHERE event_id = ?))",
            (event_id, event_id),
        )
        report.events.append(event_id)
        if own is not None:
            report.organizer_days[event_id] = event_days(own, report.days)
        report.attendees += max(attendees, 0)
        report.orders += max(orders, 0)
    if report.events:
        # The attendee and order triggers refreshed the search documents; the full-text
        # indexes still hold the old words in their segments until rebuilt.
        for index in _INDEXES:
            if conn.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name = ?", (index,)).first():
                conn.exec_driver_sql(f"INSERT INTO {index}({index}) VALUES ('rebuild')")
    return report
