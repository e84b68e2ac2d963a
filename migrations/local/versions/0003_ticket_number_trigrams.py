"""trigram index over ticket and order numbers, for substring search ("4211" -> FW26-004211)

A scan of every search document with LIKE '%...%' costs tens of milliseconds at 100,000
tickets; an FTS5 trigram index answers the same substring question with a few index reads.
It is a second external-content index over ``ticket_search_docs`` (numbers column only),
fed by the same document triggers as ``ticket_search``.

Revision ID: 0003_ticket_number_trigrams
Revises: 0002_ticket_search
"""

from alembic import op

revision = "0003_ticket_number_trigrams"
down_revision = "0002_ticket_search"
branch_labels = None
depends_on = None


def _doc_triggers(with_trigrams: bool) -> None:
    op.execute("DROP TRIGGER IF EXISTS ticket_search_docs_ai")
    op.execute("DROP TRIGGER IF EXISTS ticket_search_docs_ad")
    extra_ai = (
        "INSERT INTO ticket_numbers (rowid, numbers) VALUES (new.id, new.numbers);"
        if with_trigrams
        else ""
    )
    extra_ad = (
        "INSERT INTO ticket_numbers (ticket_numbers, rowid, numbers) "
        "VALUES ('delete', old.id, old.numbers);"
        if with_trigrams
        else ""
    )
    op.execute(
        f"""
        CREATE TRIGGER ticket_search_docs_ai AFTER INSERT ON ticket_search_docs BEGIN
            INSERT INTO ticket_search (rowid, name, email, company, numbers)
            VALUES (new.id, new.name, new.email, new.company, new.numbers);
            {extra_ai}
        END
        """
    )
    op.execute(
        f"""
        CREATE TRIGGER ticket_search_docs_ad AFTER DELETE ON ticket_search_docs BEGIN
            INSERT INTO ticket_search (ticket_search, rowid, name, email, company, numbers)
            VALUES ('delete', old.id, old.name, old.email, old.company, old.numbers);
            {extra_ad}
        END
        """
    )


def upgrade() -> None:
    op.execute(
        """
        CREATE VIRTUAL TABLE ticket_numbers USING fts5(
            numbers, content='ticket_search_docs', content_rowid='id', tokenize='trigram'
        )
        """
    )
    _doc_triggers(with_trigrams=True)
    op.execute("INSERT INTO ticket_numbers (ticket_numbers) VALUES ('rebuild')")


def downgrade() -> None:
    _doc_triggers(with_trigrams=False)
    op.execute("DROP TABLE IF EXISTS ticket_numbers")
