"""Opening the local replica: engine, pragmas, schema upgrade, sessions, device identity."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from app.resources import migrations_dir
from app.store.models import LocalMeta
from app.store.types import new_id

MIGRATIONS_DIR = migrations_dir()


class DatabaseProblem(Exception):
    """The database file cannot be used. ``str()`` is a sentence for a person, not a trace."""


@dataclass
class Database:
    """An open replica: its engine, a session factory, and where it lives."""

    path: Path
    engine: Engine
    sessions: sessionmaker[Session]

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        with self.sessions.begin() as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()


def _set_pragmas(
    dbapi_connection: sqlite3.Connection, _record, busy_timeout_ms: int = 5000
) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")  # first: WAL setup may wait
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL: a scan is on disk before its verdict is shown, even if power is cut.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(path: Path, busy_timeout_ms: int = 5000) -> Engine:
    engine = create_engine(f"sqlite:///{path}", future=True)

    def on_connect(dbapi_connection, record) -> None:
        _set_pragmas(dbapi_connection, record, busy_timeout_ms)

    event.listen(engine, "connect", on_connect)
    return engine


def open_database(
    path: str | Path, *, upgrade: bool = True, busy_timeout_ms: int = 5000
) -> Database:
    """Open (creating if needed) and upgrade the replica at ``path``.

    Raises DatabaseProblem with a readable message for a corrupt, locked, unwritable or
    not-a-database file.
    """
    path = Path(path).expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseProblem(
            f"Cannot create the folder for the database {path.parent}: {exc.strerror}."
        ) from exc
    engine = make_engine(path, busy_timeout_ms)
    try:
        with engine.connect() as conn:
            problems = [r[0] for r in conn.exec_driver_sql("PRAGMA quick_check").fetchall()]
        if problems != ["ok"]:
            engine.dispose()
            raise DatabaseProblem(
                f"The database {path} is damaged and cannot be read ({str(problems[0])[:80]}). "
                "Keep the file for support, and start with a fresh database (or restore a copy)."
            )
        if upgrade:
            upgrade_schema(engine)
            _finish_interrupted_bulk_writes(engine)
    except (OperationalError, DatabaseError) as exc:
        engine.dispose()
        raise DatabaseProblem(_explain(path, exc)) from exc
    sessions = sessionmaker(engine, expire_on_commit=False)
    return Database(path=path, engine=engine, sessions=sessions)


def _finish_interrupted_bulk_writes(engine: Engine) -> None:
    """A bulk write (an initial sync) stopped by a crash left the search index stale and
    marked so: rebuild it before anyone searches."""
    from app.store.search import repair_search_index_if_needed

    with Session(engine) as session, session.begin():
        repair_search_index_if_needed(session)


def _explain(path: Path, exc: Exception) -> str:
    text = str(getattr(exc, "orig", exc)).lower()
    if "locked" in text or "busy" in text:
        return f"The database {path} is in use by another Showdesk window or program. Close it and try again."
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return (
            f"The database {path} is damaged and cannot be read. Keep the file for support, "
            "and start with a fresh database (or restore a copy)."
        )
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return f"Showdesk cannot write to {path}. Check that the disk is not full or read-only."
    if "disk" in text and "full" in text:
        return f"The disk holding {path} is full. Free some space; nothing has been lost."
    return f"The database {path} cannot be opened ({text})."


_REVISION_LINE = re.compile(r"^(down_revision|revision)\s*=\s*['\"]?([\w.-]+|None)['\"]?", re.M)


def head_revision() -> str | None:
    """The newest local migration, read from the files (cheaper than loading Alembic)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        found = dict((k, v) for k, v in _REVISION_LINE.findall(path.read_text(encoding="utf-8")))
        if "revision" in found:
            revisions.add(found["revision"])
        if found.get("down_revision", "None") != "None":
            parents.add(found["down_revision"])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        exists = conn.exec_driver_sql(
            "select 1 from sqlite_master where type='table' and name='alembic_version'"
        ).first()
        if not exists:
            return None
        return conn.exec_driver_sql("select version_num from alembic_version").scalar()


def upgrade_schema(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision. Never drops queued changes.

    A database already at the newest revision is left alone without loading Alembic (it costs
    about half a second of the kiosk's start).
    """
    head = head_revision()
    if head is not None and _current_revision(engine) == head:
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


# --- local meta ---------------------------------------------------------------------------


def get_meta(session: Session, key: str, default: str | None = None) -> str | None:
    row = session.get(LocalMeta, key)
    return row.value if row is not None else default


def set_meta(session: Session, key: str, value: str) -> None:
    row = session.get(LocalMeta, key)
    if row is None:
        session.add(LocalMeta(key=key, value=value))
    else:
        row.value = value


def device_id(session: Session) -> str:
    """This installation's device id, created on first use."""
    value = get_meta(session, "device_id")
    if value is None:
        value = new_id()
        set_meta(session, "device_id", value)
        session.flush()
    return value


def current_event_id(session: Session) -> str | None:
    """The event this installation works on: the configured one, else the only/first one."""
    value = get_meta(session, "event_id")
    if value:
        return value
    from app.store.models import Event

    return session.scalars(select(Event.id).order_by(Event.starts_at).limit(1)).first()


# --- can scans be stored? -------------------------------------------------------------------

# Below this much free space a kiosk soon fails to log scans (WAL growth, checkpoints).
MIN_FREE_BYTES = 20 * 1024 * 1024


def storage_problem(db: Database, min_free_bytes: int = MIN_FREE_BYTES) -> str | None:
    """Whether this replica can store scans now: None, or a sentence saying why not (the
    file is read-only, the disk is full). Checked at start, so a kiosk says so before the
    first guest instead of failing at the first scan. Writes nothing."""
    import shutil

    try:
        free = shutil.disk_usage(db.path.parent).free
    except OSError:
        free = None
    if free is not None and free < min_free_bytes:
        how = "full" if free < 1_000_000 else f"nearly full ({free // 1_000_000} MB free)"
        return (
            f"The disk holding {db.path} is {how}. Scans may not be stored until space is "
            "freed; nothing already saved has been lost."
        )
    try:
        with db.engine.connect() as conn:
            raw = cast(sqlite3.Connection, conn.connection.driver_connection)
            raw.execute("BEGIN IMMEDIATE")
            try:
                raw.execute(
                    "INSERT OR REPLACE INTO local_meta (key, value) VALUES ('write_check', '1')"
                )
            finally:
                raw.execute("ROLLBACK")
    except (sqlite3.Error, OperationalError, DatabaseError) as exc:
        return f"{_explain(db.path, exc)} Scans cannot be stored."
    return None
