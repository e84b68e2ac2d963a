"""Find a guest as you type: name, email, company, ticket or order number.

Accent- and case-insensitive ("josé" finds "Jose", "MULLER" finds "Müller"), every word a
prefix ("ana li" finds "Ana Lima"), and substrings of ticket/order numbers ("4211" finds
"FW26-004211"). Backed by the FTS5 index of migration 0002, which triggers keep current.

Ranking: exact ticket/order number first, then names starting with the first word, then any
other match, then number substrings.
"""

from __future__ import annotations

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
    """Rebuild the search documents and index from the tickets (repair tool); returns count."""
    conn = session.connection()
    conn.exec_driver_sql("UPDATE tickets SET ticket_number = ticket_number")  # fires the trigger
    conn.exec_driver_sql(
        "DELETE FROM ticket_search_docs WHERE ticket_id NOT IN (SELECT id FROM tickets)"
    )
    conn.exec_driver_sql("INSERT INTO ticket_search(ticket_search) VALUES ('rebuild')")
    return conn.exec_driver_sql("SELECT count(*) FROM ticket_search_docs").scalar() or 0
