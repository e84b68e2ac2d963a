from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from app.store import outbox
from app.store.db import DatabaseProblem, device_id, get_meta, open_database, set_meta
from app.store.models import Event, Organization, OutboxEntry, TicketType


def _org_event(session) -> Event:
    org = Organization(name="Maison Test", slug="maison-test")
    session.add(org)
    session.flush()
    event = Event(
        organization_id=org.id,
        name="Test Show",
        slug="test-show",
        starts_at=datetime(2026, 3, 1, 18, tzinfo=UTC),
        ends_at=datetime(2026, 3, 1, 23, tzinfo=UTC),
    )
    session.add(event)
    session.flush()
    return event


def test_wal_mode_and_migrations(db) -> None:
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        version = conn.execute(text("select version_num from alembic_version")).scalar()
    assert version is not None


def test_device_id_is_stable(db) -> None:
    with db.session() as s:
        first = device_id(s)
    with db.session() as s:
        assert device_id(s) == first


def test_times_are_utc_and_money_exact(db) -> None:
    paris = timezone(timedelta(hours=1))
    with db.session() as s:
        event = _org_event(s)
        s.add(
            TicketType(
                event_id=event.id,
                name="VIP",
                tier="vip",
                price=Decimal("149.90"),
                entry_starts_at=datetime(2026, 3, 1, 19, tzinfo=paris),
            )
        )
    with db.session() as s:
        tt = s.scalars(select(TicketType)).one()
        assert tt.price == Decimal("149.90")
        assert tt.entry_starts_at == datetime(2026, 3, 1, 18, tzinfo=UTC)
        assert tt.entry_starts_at.tzinfo is not None


def test_naive_datetime_is_refused(db) -> None:
    with pytest.raises(Exception, match="naive"):
        with db.session() as s:
            org = Organization(name="x", slug="x")
            s.add(org)
            s.flush()
            s.add(
                Event(
                    organization_id=org.id,
                    name="e",
                    slug="e",
                    starts_at=datetime(2026, 1, 1),
                    ends_at=datetime(2026, 1, 2),
                )
            )


def test_outbox_written_in_same_transaction(db) -> None:
    with pytest.raises(RuntimeError):
        with db.session() as s:
            event = _org_event(s)
            outbox.record(s, event, "insert")
            raise RuntimeError("crash before commit")
    with db.session() as s:
        assert s.scalars(select(OutboxEntry)).all() == []
        assert s.scalars(select(Event)).all() == []
    with db.session() as s:
        event = _org_event(s)
        entry = outbox.record(s, event, "update", fields=["name"])
        assert entry.payload == {"id": event.id, "name": "Test Show"}
    with db.session() as s:
        assert outbox.pending_count(s) == 1
        assert outbox.pending_row_ids(s, "events") == {event.id}


def test_meta_roundtrip(db) -> None:
    with db.session() as s:
        set_meta(s, "cursor", "42")
    with db.session() as s:
        assert get_meta(s, "cursor") == "42"
        assert get_meta(s, "missing", "d") == "d"


def test_not_a_database_gives_a_sentence(tmp_path) -> None:
    path = tmp_path / "junk.sqlite"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(DatabaseProblem) as info:
        open_database(path)
    assert "damaged" in str(info.value)
    assert "Traceback" not in str(info.value)


def test_head_revision_matches_alembic() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from app.store.db import MIGRATIONS_DIR, head_revision

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert head_revision() == ScriptDirectory.from_config(config).get_current_head()


def test_reopening_at_head_keeps_data(db_path) -> None:
    first = open_database(db_path)
    with first.session() as s:
        dev = device_id(s)
    first.close()
    again = open_database(db_path)
    with again.session() as s:
        assert device_id(s) == dev
    again.close()
