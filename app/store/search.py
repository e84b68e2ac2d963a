"""Find a guest as you type: name, email, company, ticket or order number.

Accent- and case-insensitive ("josé" finds "Jose", "MULLER" finds "Müller"), every word a
prefix ("ana li" finds "Ana Lima"), and substrings of ticket/order numbers ("4211" finds
"FW26-004211"). Backed by the FTS5 index of migration 0002, which triggers keep current.

Ranking: exact ticket/order number first, then names starting with the first word, then any
other match, then number substrings.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.domain.text import words

MAX_QUERY_CHARS = 100
MAX_WORDS = 6


@dataclass(frozen=True)
class TicketHit:
    ticket_id: str
    ticket_number: str
    attendee_name: str | None
    email: str | None
    company: str | None
    order_number: str | None
    tier: str | None
    status: str
    admitted: bool  # has an admission that was not annulled
    ticket_type: str | None = None


_EXACT = text(
    # "+column" keeps SQLite off the event_id index (every ticket of a one-event replica).
    "SELECT id FROM tickets WHERE +event_id = :event AND ticket_number IN (:q, :upper) "
    "UNION ALL SELECT t.id FROM orders o CROSS JOIN tickets t ON t.order_id = o.id "
    "WHERE +o.event_id = :event AND o.order_number IN (:q, :upper) AND +t.event_id = :event"
)
_MATCH = text(
    "SELECT d.ticket_id FROM ticket_search s CROSS JOIN ticket_search_docs d ON d.id = s.rowid "
    "WHERE ticket_search MATCH :match AND +d.event_id = :event LIMIT :limit"
)
# Substrings of ticket/order numbers: the trigram index of migration 0003.
_NUMBER_SUBSTRING = text(
    "SELECT d.ticket_id FROM ticket_numbers n CROSS JOIN ticket_search_docs d ON d.id = n.rowid "
    "WHERE ticket_numbers MATCH :match AND +d.event_id = :event LIMIT :limit"
)
_DETAILS = """
    SELECT t.id, t.ticket_number, a.first_name, a.last_name, a.email, a.company,
        o.order_number, tt.tier, tt.name, t.status,
        EXISTS (
            SELECT 1 FROM checkins c WHERE c.ticket_id = t.id AND c.kind = 'scan'
            AND c.verdict = 'admitted' AND NOT EXISTS (
                SELECT 1 FROM checkins x WHERE x.ticket_id = t.id AND x.kind = 'annul'
                AND x.annuls_checkin_id = c.id))
    FROM tickets t
    LEFT JOIN attendees a ON a.id = t.attendee_id
    LEFT JOIN orders o ON o.id = t.order_id
    LEFT JOIN ticket_types tt ON tt.id = t.ticket_type_id
    WHERE t.id IN ({marks})
"""


def _match_queries(terms: list[str]) -> list[str]:
    """FTS5 queries, best first: name starts with the first word; every word in the name;
    every word anywhere (email, company, numbers too)."""
    prefixes = [f'"{w}"*' for w in terms]
    rest = "".join(f" AND {p}" for p in prefixes[1:])
    return [
        f"name : ^ {prefixes[0]}{rest.replace(' AND ', ' AND name : ')}",
        " AND ".join(f"name : {p}" for p in prefixes),
        " AND ".join(prefixes),
    ]


def search_tickets(session: Session, event_id: str, text_: str, limit: int = 50) -> list[TicketHit]:
    """Tickets of ``event_id`` matching what was typed, best first (at most ``limit``)."""
    query = (text_ or "").strip()[:MAX_QUERY_CHARS]
    limit = max(0, min(int(limit), 500))
    if not query or limit == 0:
        return []
    terms = words(query)[:MAX_WORDS]
    found: list[str] = []
    seen: set[str] = set()

    def take(ids) -> None:
        for ticket_id in ids:
            if ticket_id not in seen and len(found) < limit:
                seen.add(ticket_id)
                found.append(ticket_id)

    conn = session.connection()
    take(
        r[0] for r in conn.execute(_EXACT, {"event": event_id, "q": query, "upper": query.upper()})
    )
    if terms and len(found) < limit:
        for match in _match_queries(terms):
            if len(found) >= limit:
                break
            rows = conn.execute(
                _MATCH, {"match": match, "event": event_id, "limit": limit + len(found)}
            )
            take(r[0] for r in rows)
    needle = query.strip()
    if len(found) < limit and len(needle) >= 3 and any(ch.isdigit() for ch in needle):
        match = '"' + needle.replace('"', '""') + '"'
        rows = conn.execute(_NUMBER_SUBSTRING, {"event": event_id, "match": match, "limit": limit})
        take(r[0] for r in rows)
    return _details(session, found)


def _details(session: Session, ids: list[str]) -> list[TicketHit]:
    if not ids:
        return []
    marks = ", ".join(f":id{i}" for i in range(len(ids)))
    params = {f"id{i}": ticket_id for i, ticket_id in enumerate(ids)}
    by_id: dict[str, TicketHit] = {}
    for row in session.connection().execute(text(_DETAILS.format(marks=marks)), params):
        name = " ".join(p for p in (row[2], row[3]) if p) or None
        by_id[row[0]] = TicketHit(
            ticket_id=row[0],
            ticket_number=row[1],
            attendee_name=name,
            email=row[4],
            company=row[5],
            order_number=row[6],
            tier=row[7],
            ticket_type=row[8],
            status=row[9],
            admitted=bool(row[10]),
        )
    return [by_id[i] for i in ids if i in by_id]


def rebuild_search_index(session: Session) -> int:
    """Rebuild every search document and both full-text indexes from the tickets, in the
    caller's transaction (repair tool; the end of an initial sync); returns the count."""
    conn = session.connection()
    with search_triggers_paused(session):
        conn.exec_driver_sql("DELETE FROM ticket_search_docs")  # rebuilt from the tickets below
    clear_search_rebuild_needed(session)
    return conn.exec_driver_sql("SELECT count(*) FROM ticket_search_docs").scalar() or 0


# Per-row work a bulk write can skip, done once at the end instead: building each ticket's
# search document and its full-text entries, refreshing documents of tickets that do not exist
# yet when their attendee or order arrives, and full-text deletes of documents (the index is
# rebuilt from the documents anyway).
_PAUSED_TRIGGERS = (
    "ticket_search_tickets_ai",
    "ticket_search_docs_ai",
    "ticket_search_docs_ad",
    "ticket_search_attendees_insert",
    "ticket_search_orders_insert",
)
_FULLTEXT_TRIGGERS = ("ticket_search_docs_ai", "ticket_search_docs_ad")
_DOCS_INSERT_START = "INSERT INTO ticket_search_docs"
_DOCS_INSERT_END = "WHERE t.id = new.id"
_INDEXES = ("ticket_search", "ticket_numbers")

# Set in the same transaction as a bulk write that left the index behind (``rebuild=False``);
# cleared by the rebuild. A replica opened with it set is repaired first.
SEARCH_REBUILD_META = "search.rebuild_needed"


@contextmanager
def search_triggers_paused(
    session: Session, *, rebuild: bool = True, keep_fulltext: bool = False
) -> Iterator[PausedSearch]:
    """Bulk writes inside skip the per-row search triggers; on the way out (same transaction,
    since SQLite DDL is transactional) the triggers are restored.

    ``rebuild=True``: documents of tickets that have none are built and both full-text indexes
    rebuilt, so the index is right when the transaction commits. ``rebuild=False``: the index is
    left behind and stays marked (``SEARCH_REBUILD_META``, written in this transaction); the
    caller rebuilds later with ``rebuild_search_index`` (the mark makes a crash before that
    safe: ``repair_search_index_if_needed`` on the next open).
    """
    conn = session.connection()
    names = tuple(n for n in _PAUSED_TRIGGERS if not (keep_fulltext and n in _FULLTEXT_TRIGGERS))
    marks = ", ".join("?" for _ in names)
    triggers: dict[str, str] = dict(
        conn.exec_driver_sql(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN ({marks})",
            names,
        ).all()
    )
    # The documents are built by the same SQL the ticket trigger runs (migration 0002).
    ticket_sql = triggers.get("ticket_search_tickets_ai", "")
    if _DOCS_INSERT_START not in ticket_sql or _DOCS_INSERT_END not in ticket_sql:
        triggers.pop("ticket_search_tickets_ai", None)  # unknown shape: leave it running
        ticket_sql = ""
    # Writing the mark first also opens the transaction: Python's sqlite3 runs DDL outside
    # one otherwise, and a crash would then leave the triggers dropped.
    was_marked = search_rebuild_needed(session)
    _set_meta(conn, SEARCH_REBUILD_META, "1")
    for name in triggers:
        conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
    build = (
        ticket_sql[ticket_sql.index(_DOCS_INSERT_START) : ticket_sql.rindex(_DOCS_INSERT_END)]
        if ticket_sql
        else ""
    )
    try:
        yield PausedSearch(conn, build)
    except BaseException:
        # The caller rolls back; restore anyway in case it does not, without hiding the error.
        with suppress(Exception):
            for sql in triggers.values():
                conn.exec_driver_sql(sql)
        raise
    if rebuild:
        if build:
            conn.exec_driver_sql(
                build + " WHERE NOT EXISTS "
                "(SELECT 1 FROM ticket_search_docs d WHERE d.ticket_id = t.id)"
            )
        _rebuild_fulltext(conn)
        if not was_marked:
            _set_meta(conn, SEARCH_REBUILD_META, "0")
    for sql in triggers.values():
        conn.exec_driver_sql(sql)


class PausedSearch:
    """What the paused insert triggers would have done to the search documents, done per
    batch of rows instead of per row. The full-text indexes are left for the rebuild."""

    def __init__(self, conn, build_sql: str) -> None:
        self._conn = conn
        self._build = build_sql

    def refresh(
        self, tickets: Iterable[str] = (), attendees: Iterable[str] = (), orders: Iterable[str] = ()
    ) -> None:
        """(Re)build the documents of these tickets and of the tickets of these attendees and
        orders (an attendee may arrive after its ticket)."""
        if not self._build:
            return  # the ticket trigger was left running: it built them
        args = tuple(json.dumps(list(ids)) for ids in (tickets, attendees, orders))
        if args == ("[]", "[]", "[]"):
            return
        affected = [
            r[0]
            for r in self._conn.exec_driver_sql(
                "SELECT value FROM json_each(?) UNION "
                "SELECT id FROM tickets WHERE attendee_id IN (SELECT value FROM json_each(?)) "
                "UNION SELECT id FROM tickets WHERE order_id IN (SELECT value FROM json_each(?))",
                args,
            )
        ]
        if not affected:
            return
        ids = (json.dumps(affected),)
        self._conn.exec_driver_sql(
            "DELETE FROM ticket_search_docs WHERE ticket_id IN (SELECT value FROM json_each(?))",
            ids,
        )
        self._conn.exec_driver_sql(
            self._build + " WHERE t.id IN (SELECT value FROM json_each(?))", ids
        )


def rebuild_fulltext_index(session: Session) -> None:
    """Rebuild the full-text indexes from the search documents (which bulk writes keep right
    through ``PausedSearch.refresh``) and clear the stale mark."""
    _rebuild_fulltext(session.connection())
    clear_search_rebuild_needed(session)


def _rebuild_fulltext(conn) -> None:
    for index in _INDEXES:
        if conn.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name = ?", (index,)).first():
            conn.exec_driver_sql(f"INSERT INTO {index}({index}) VALUES ('rebuild')")


def search_rebuild_needed(session: Session) -> bool:
    row = (
        session.connection()
        .exec_driver_sql("SELECT value FROM local_meta WHERE key = ?", (SEARCH_REBUILD_META,))
        .first()
    )
    return row is not None and row[0] == "1"


def clear_search_rebuild_needed(session: Session) -> None:
    _set_meta(session.connection(), SEARCH_REBUILD_META, "0")


def repair_search_index_if_needed(session: Session) -> bool:
    """Rebuild the index if a bulk write was interrupted before its rebuild (e.g. a crash in
    the middle of an initial sync). True if it did."""
    if not search_rebuild_needed(session):
        return False
    rebuild_search_index(session)
    return True


def _set_meta(conn, key: str, value: str) -> None:
    # Plain SQL, not the ORM: callers may hold the same row in their session's identity map.
    conn.exec_driver_sql(
        "INSERT INTO local_meta (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )
