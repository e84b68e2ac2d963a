"""The search migrations: populate from existing rows on upgrade, drop cleanly on downgrade."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from app.store.db import MIGRATIONS_DIR
from app.store.search import search_tickets


def _alembic(db, action: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, action)(config, revision)


def _objects(db) -> set[str]:
    with db.engine.connect() as conn:
        return {
            r[0]
            for r in conn.execute(
                text(
                    "SELECT name FROM sqlite_master WHERE name LIKE 'ticket_search%' OR name LIKE 'ticket_numbers%'"
                )
            )
        }


def test_downgrade_drops_and_upgrade_indexes_existing_tickets(door):
    ticket_id, _ = door.add_ticket(first="Agnès", last="Varda")
    assert "ticket_search" in _objects(door.db) and "ticket_numbers" in _objects(door.db)
    _alembic(door.db, "downgrade", "0001")
    assert _objects(door.db) == set()
    with door.db.session() as s:  # the door still works without the index
        s.execute(text("UPDATE attendees SET first_name = 'Agnes'"))
        s.execute(text("UPDATE tickets SET ticket_number = 'FW26-314159'"))
    _alembic(door.db, "upgrade", "head")
    with door.db.session() as s:
        hits = search_tickets(s, door.event_id, "agnes varda")
        assert [h.ticket_id for h in hits] == [ticket_id]
        assert [h.ticket_id for h in search_tickets(s, door.event_id, "14159")] == [ticket_id]
