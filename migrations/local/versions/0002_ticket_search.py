"""ticket search index (FTS5) kept current by triggers; covering index for door counters

``ticket_search_docs`` holds one row per ticket with the searchable text (attendee name,
email, company; ticket and order numbers). Its INTEGER PRIMARY KEY is the FTS rowid, so
VACUUM cannot break the link. ``ticket_search`` is an external-content FTS5 index over it,
tokenised with ``unicode61 remove_diacritics 2`` (case and accents folded: "josé" finds
"Jose"); letters Unicode does not decompose (ß, ø, æ, ł, ...) are folded by ``replace``
here and by ``app.domain.text.fold`` in queries. Triggers on tickets, attendees and orders
keep the documents current whatever writes them (the door, sync, an import).

Revision ID: 0002_ticket_search
Revises: 0001
"""

from alembic import op

revision = "0002_ticket_search"
down_revision = "0001"
branch_labels = None
depends_on = None

# Same table as app.domain.text.SPECIAL_LETTERS (frozen here: a migration never changes).
_SPECIAL = [
    ("ß", "ss"), ("ẞ", "ss"), ("ø", "o"), ("Ø", "o"), ("æ", "ae"), ("Æ", "ae"), ("œ", "oe"),
    ("Œ", "oe"), ("ł", "l"), ("Ł", "l"), ("đ", "d"), ("Đ", "d"), ("ð", "d"), ("Ð", "d"),
    ("þ", "th"), ("Þ", "th"), ("ı", "i"),
]  # fmt: skip


def _fold(expr: str) -> str:
    for letter, plain in _SPECIAL:
        expr = f"replace({expr}, '{letter}', '{plain}')"
    return expr


_DOC_SELECT = f"""
    SELECT t.id, t.event_id,
        {_fold("trim(coalesce(a.first_name, '') || ' ' || coalesce(a.last_name, ''))")},
        {_fold("coalesce(a.email, '')")},
        {_fold("coalesce(a.company, '')")},
        t.ticket_number || ' ' || coalesce(o.order_number, '')
    FROM tickets t
    LEFT JOIN attendees a ON a.id = t.attendee_id
    LEFT JOIN orders o ON o.id = t.order_id
"""
_INSERT_DOCS = (
    "INSERT INTO ticket_search_docs (ticket_id, event_id, name, email, company, numbers) "
    + _DOC_SELECT
)


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE ticket_search_docs (
            id INTEGER PRIMARY KEY,
            ticket_id VARCHAR(36) NOT NULL UNIQUE,
            event_id VARCHAR(36) NOT NULL,
            name TEXT NOT NULL,
            email TEXT NOT NULL,
            company TEXT NOT NULL,
            numbers TEXT NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX ix_ticket_search_docs_event ON ticket_search_docs (event_id)")
    op.execute(
        """
        CREATE VIRTUAL TABLE ticket_search USING fts5(
            name, email, company, numbers,
            content='ticket_search_docs', content_rowid='id',
            tokenize='unicode61 remove_diacritics 2', prefix='2 3'
        )
        """
    )
    op.execute(
        """
        CREATE TRIGGER ticket_search_docs_ai AFTER INSERT ON ticket_search_docs BEGIN
            INSERT INTO ticket_search (rowid, name, email, company, numbers)
            VALUES (new.id, new.name, new.email, new.company, new.numbers);
        END
        """
    )
    op.execute(
        """
        CREATE TRIGGER ticket_search_docs_ad AFTER DELETE ON ticket_search_docs BEGIN
            INSERT INTO ticket_search (ticket_search, rowid, name, email, company, numbers)
            VALUES ('delete', old.id, old.name, old.email, old.company, old.numbers);
        END
        """
    )
    op.execute(
        f"""
        CREATE TRIGGER ticket_search_tickets_ai AFTER INSERT ON tickets BEGIN
            {_INSERT_DOCS} WHERE t.id = new.id;
        END
        """
    )
    op.execute(
        f"""
        CREATE TRIGGER ticket_search_tickets_au
        AFTER UPDATE OF id, event_id, attendee_id, order_id, ticket_number ON tickets BEGIN
            DELETE FROM ticket_search_docs WHERE ticket_id = old.id;
            {_INSERT_DOCS} WHERE t.id = new.id;
        END
        """
    )
    op.execute(
        """
        CREATE TRIGGER ticket_search_tickets_ad AFTER DELETE ON tickets BEGIN
            DELETE FROM ticket_search_docs WHERE ticket_id = old.id;
        END
        """
    )
    for table, column in (("attendees", "attendee_id"), ("orders", "order_id")):
        for when, row in (("INSERT", "new"), ("UPDATE", "new"), ("DELETE", "old")):
            refresh_old = (
                f"DELETE FROM ticket_search_docs WHERE ticket_id IN "
                f"(SELECT id FROM tickets WHERE {column} = old.id);"
                if when == "UPDATE"
                else ""
            )
            op.execute(
                f"""
                CREATE TRIGGER ticket_search_{table}_{when.lower()} AFTER {when} ON {table} BEGIN
                    {refresh_old}
                    DELETE FROM ticket_search_docs WHERE ticket_id IN
                        (SELECT id FROM tickets WHERE {column} = {row}.id);
                    {_INSERT_DOCS} WHERE t.{column} = {row}.id;
                END
                """
            )
    op.execute(_INSERT_DOCS)
    # The door's counters group every ticket of the event by status and type.
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_tickets_event_status_type "
        "ON tickets (event_id, status, ticket_type_id)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_tickets_event_status_type")
    for table in ("attendees", "orders"):
        for when in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS ticket_search_{table}_{when}")
    for name in (
        "ticket_search_tickets_ai",
        "ticket_search_tickets_au",
        "ticket_search_tickets_ad",
        "ticket_search_docs_ai",
        "ticket_search_docs_ad",
    ):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS ticket_search")
    op.execute("DROP TABLE IF EXISTS ticket_search_docs")
