"""Opening the local replica: engine, pragmas, schema upgrade, sessions, device identity.

The replica Showdesk keeps for itself is encrypted at rest with SQLCipher (``sqlcipher3``):
a random raw 256-bit key, kept in the secret store (``app.secrets``, ``REPLICA_KEY``), is the
first statement of every connection, before the WAL and ``synchronous`` pragmas. Which files
are encrypted (``open_database``'s ``encrypt``):

- ``None`` (the default): a replica inside the data directory (where ``Config.db`` points
  unless told otherwise, and the folder that scopes the key) is encrypted, and a plain one
  found there is encrypted in place, queued changes and all. A file elsewhere (``--db`` on a
  file you name, the demo file, tests, benchmarks) is opened as it is: plain, or encrypted
  when the stored key opens it.
- ``True``: encrypt (``key`` given, or the stored key); ``False``: plain SQLite.

A replica the key cannot open (the keyring was reset, the file came from another computer) is
moved aside to ``<name>.locked-<time>``, never deleted, and a fresh one is created in its place
that the next sync fills again; ``ReplicaKeyLost`` says so in a sentence.
"""

from __future__ import annotations

import os
import re
import secrets as _random
import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from app.resources import migrations_dir
from app.store.models import LocalMeta
from app.store.types import new_id

if TYPE_CHECKING:
    from app.secrets import SecretStore

MIGRATIONS_DIR = migrations_dir()

PLAIN_HEADER = b"SQLite format 3\x00"  # the first 16 bytes of every unencrypted SQLite file
KEY_BYTES = 32  # a raw 256-bit SQLCipher key: no passphrase derivation at each open
ENCRYPTED_CACHE_KIB = 65_536  # page cache per connection of an encrypted replica, at most


class DatabaseProblem(Exception):
    """The database file cannot be used. ``str()`` is a sentence for a person, not a trace."""


class ReplicaKeyLost(DatabaseProblem):
    """The replica could not be opened with this computer's key. It was moved aside to
    ``moved_to`` (kept, never deleted) and a fresh, empty, encrypted replica now stands at its
    path: opening it again works, and the next sync fills it. ``str()`` says this to a person."""

    def __init__(self, sentence: str, path: Path, moved_to: Path) -> None:
        super().__init__(sentence)
        self.path = path
        self.moved_to = moved_to


@dataclass
class Database:
    """An open replica: its engine, a session factory, and where it lives."""

    path: Path
    engine: Engine
    sessions: sessionmaker[Session]
    encrypted: bool = False  # SQLCipher, keyed on every connection

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        with self.sessions.begin() as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()


def _key_pragma(key: bytes) -> str:
    """``PRAGMA key`` with a raw key (hex blob literal: SQLCipher skips PBKDF2 for it)."""
    if len(key) != KEY_BYTES:
        raise ValueError(f"a replica key is {KEY_BYTES} bytes, not {len(key)}")
    return f"PRAGMA key = \"x'{key.hex()}'\""


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


def _cipher_module() -> Any:
    try:
        import sqlcipher3.dbapi2 as module  # the sqlcipher3-binary wheel: SQLCipher + FTS5
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise DatabaseProblem(
            "This Showdesk lacks its database encryption library (sqlcipher3). Reinstall "
            "Showdesk; nothing was changed."
        ) from exc
    return module


def _cipher_connect(path: Path, key: bytes, **kwargs: Any) -> Any:
    """A sqlcipher3 connection whose first statement is the key."""
    conn = _cipher_module().connect(str(path), **kwargs)
    conn.execute(_key_pragma(key))
    return conn


def make_engine(path: Path, busy_timeout_ms: int = 5000, key: bytes | None = None) -> Engine:
    """The replica's engine: plain SQLite, or SQLCipher with ``key`` (set before anything
    else on every connection, so SQLAlchemy's own first queries already read decrypted pages).
    The pool, pragmas and transaction handling are the same either way."""
    if key is None:
        engine = create_engine(f"sqlite:///{path}", future=True)
    else:
        module = _cipher_module()
        engine = create_engine(
            f"sqlite:///{path}",
            future=True,
            module=module,  # its exception classes, so errors are wrapped and explained as usual
            creator=lambda: _cipher_connect(path, key, check_same_thread=False),
        )

    def on_connect(dbapi_connection, record) -> None:
        _set_pragmas(dbapi_connection, record, busy_timeout_ms)
        if key is not None:
            # A page read from disk is decrypted and checked (HMAC) each time it enters the
            # cache: a cache that holds the working set keeps reads as fast as plain ones
            # (measured: 18 us vs 6 us a random lookup with the default cache, 4.7 vs 5 us
            # with this). It grows only as pages are read.
            dbapi_connection.execute(f"PRAGMA cache_size = -{ENCRYPTED_CACHE_KIB}")

    event.listen(engine, "connect", on_connect)
    return engine


def open_database(
    path: str | Path,
    *,
    upgrade: bool = True,
    busy_timeout_ms: int = 5000,
    encrypt: bool | None = None,
    key: bytes | None = None,
    secrets: SecretStore | None = None,
) -> Database:
    """Open (creating if needed) and upgrade the replica at ``path``.

    ``encrypt``: None decides by place (see the module's docstring), True encrypts (a plain
    file is encrypted in place), False opens plain SQLite. ``key``: the raw 32-byte key to use
    instead of the stored one (implies encrypt). ``secrets``: where the key is kept (default
    ``SecretStore.default()``).

    Raises DatabaseProblem with a readable message for a corrupt, locked, unwritable or
    not-a-database file, and its ReplicaKeyLost for a replica this key cannot open (moved
    aside; a fresh one is in place).
    """
    path = Path(path).expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseProblem(
            f"Cannot create the folder for the database {path.parent}: {exc.strerror}."
        ) from exc
    lost: ReplicaKeyLost | None = None
    if key is not None or encrypt is not False:
        key, lost = _prepare_encrypted(path, encrypt, key, secrets)
    database = _open(path, upgrade, busy_timeout_ms, key)
    if lost is not None:
        database.close()
        raise lost
    return database


def _open(path: Path, upgrade: bool, busy_timeout_ms: int, key: bytes | None) -> Database:
    engine = make_engine(path, busy_timeout_ms, key)
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
    return Database(path=path, engine=engine, sessions=sessions, encrypted=key is not None)


# --- encryption at rest --------------------------------------------------------------------


def _cipher_errors() -> tuple[type[Exception], ...]:
    try:
        import sqlcipher3.dbapi2 as module
    except ImportError:  # pragma: no cover
        return ()
    return (module.Error,)


def _file_state(path: Path) -> str:
    """'absent' (missing or empty), 'plain' (unencrypted SQLite), 'other' (encrypted, or not
    a database at all: the two look alike) or 'unreadable' (the open will say why)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(PLAIN_HEADER))
    except FileNotFoundError:
        return "absent"
    except OSError:
        return "unreadable"
    if not head:
        return "absent"
    return "plain" if head == PLAIN_HEADER else "other"


def _inside_data_dir(path: Path) -> bool:
    from app.config import data_dir

    try:
        path.resolve().relative_to(data_dir().expanduser().resolve())
    except (ValueError, OSError):
        return False
    return True


def _stored_key(path: Path, secrets: SecretStore | None, *, create: bool) -> bytes | None:
    """The replica key from the secret store; with ``create``, a new random one is stored
    first when there is none (before any file is encrypted with it)."""
    from app.secrets import REPLICA_KEY, SecretStore, SecretsUnavailable

    store = secrets if secrets is not None else SecretStore.default()
    try:
        value = store.get(REPLICA_KEY)
        if value:
            try:
                key = bytes.fromhex(value)
            except ValueError:
                key = b""
            if len(key) == KEY_BYTES:
                return key
        if not create:
            return None
        key = _random.token_bytes(KEY_BYTES)
        store.set(REPLICA_KEY, key.hex())
        return key
    except SecretsUnavailable as exc:
        raise DatabaseProblem(
            f"{exc} The database {path} needs that key; it was left as it is."
        ) from exc


def stored_key_opens(path: Path, key: bytes) -> bool:
    """Whether ``key`` decrypts the file at ``path``. Only SQLCipher's "file is not a
    database" counts as no; a locked or unreadable file is left for the real open to explain."""
    module = _cipher_module()
    try:
        with closing(_cipher_connect(path, key)) as conn:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except module.DatabaseError as exc:
        return "not a database" not in str(exc).lower()
    return True


def _prepare_encrypted(
    path: Path, encrypt: bool | None, key: bytes | None, secrets: SecretStore | None
) -> tuple[bytes | None, ReplicaKeyLost | None]:
    """(the key to open ``path`` with, or None for plain SQLite; the problem to raise once a
    fresh replica is in place, when the file could not be opened with the key)."""
    state = _file_state(path)
    if key is None and encrypt is None and not _inside_data_dir(path):
        # A file the user named: left as it is. Encrypted only if this computer's key opens it.
        if state != "other":
            return None, None
        try:
            stored = _stored_key(path, secrets, create=False)
        except DatabaseProblem:
            stored = None
        if stored is not None and stored_key_opens(path, stored):
            return stored, None
        return None, None  # plain open: "damaged", as for any file that is not a database
    if key is None:
        key = _stored_key(path, secrets, create=state != "other")
    if state == "plain" and key is not None:  # (a key was created above when missing)
        encrypt_in_place(path, key)
    elif state == "other" and (key is None or not stored_key_opens(path, key)):
        moved = _move_aside(path)
        if key is None:
            key = _stored_key(path, secrets, create=True)
        return key, ReplicaKeyLost(_lost_sentence(path, moved), path, moved)
    return key, None


def _lost_sentence(path: Path, moved: Path) -> str:
    return (
        f"Showdesk could not open its database {path} with this computer's key: the key was "
        "lost (the keyring was reset), the file came from another computer, or it is damaged. "
        f"The file was moved aside to {moved}, not deleted. It may hold check-ins that were "
        "not uploaded; keep it and the old keyring to recover them. A fresh, empty database "
        "is in its place: start Showdesk again and sync to download the event."
    )


def _side_files(path: Path) -> list[Path]:
    return [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal")]


def _move_aside(path: Path) -> Path:
    """``path`` (and its WAL, which may hold its last commits) renamed to
    ``<name>.locked-<UTC time>``; never deleted."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    target = path.with_name(f"{path.name}.locked-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.locked-{stamp}-{n}")
    try:
        os.replace(path, target)
        for side, moved in zip(_side_files(path), _side_files(target), strict=True):
            if side.exists():
                os.replace(side, moved)
        _fsync_dir(path.parent)
    except OSError as exc:
        raise DatabaseProblem(
            f"Showdesk could not open its database {path} with this computer's key, and "
            f"could not move it aside ({exc.strerror or exc}). Move it aside yourself and "
            "keep it: it may hold check-ins that were not uploaded."
        ) from exc
    return target


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def encrypt_in_place(path: Path, key: bytes) -> None:
    """Turn the plain replica at ``path`` into an encrypted one with every row, the outbox
    (queued changes) included, and ``user_version``.

    The plain file is taken out of WAL mode (which folds the WAL in, and fails while another
    connection has it open) and locked exclusively; ``sqlcipher_export`` writes an encrypted
    copy beside it, which is synced to disk and renamed over the original. A crash at any
    point leaves either the plain replica or the encrypted one, whole."""
    module = _cipher_module()
    tmp = path.with_name(path.name + ".encrypting")
    for leftover in (tmp, *_side_files(tmp)):
        leftover.unlink(missing_ok=True)
    try:
        src = module.connect(str(path), isolation_level=None)
        try:
            src.execute("PRAGMA busy_timeout=5000")
            mode = src.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
            if str(mode).lower() != "delete":
                raise DatabaseProblem(
                    f"The database {path} is in use by another Showdesk window or program, so "
                    "it cannot be encrypted now. Close it and try again; nothing was changed."
                )
            src.execute("PRAGMA locking_mode=EXCLUSIVE")
            version = int(src.execute("PRAGMA user_version").fetchone()[0])
            src.execute(f"PRAGMA user_version = {version}")  # a write: holds the lock till close
            queued = (
                src.execute("SELECT count(*) FROM outbox").fetchone()[0]
                if _has_outbox(src)
                else None
            )
            quoted = str(tmp).replace("'", "''")
            src.execute(f"ATTACH DATABASE '{quoted}' AS encrypted KEY \"x'{key.hex()}'\"")
            src.execute("SELECT sqlcipher_export('encrypted')")
            src.execute(f"PRAGMA encrypted.user_version = {version}")
            src.execute("DETACH DATABASE encrypted")
            with closing(_cipher_connect(tmp, key)) as check:
                copied = (
                    check.execute("SELECT count(*) FROM outbox").fetchone()[0]
                    if (queued is not None)
                    else None
                )
            if copied != queued:
                raise DatabaseProblem(
                    f"Encrypting the database {path} did not copy its queued changes; the "
                    "plain file was kept as it is."
                )
            shutil.copymode(path, tmp)  # the replica's permissions, not the umask's
            _fsync_file(tmp)
            if os.name == "posix":  # renamed while still locked: nobody opens the old file
                os.replace(tmp, path)
        finally:
            src.close()
        if os.name != "posix":
            os.replace(tmp, path)
        for side in _side_files(path):
            side.unlink(missing_ok=True)
        _fsync_dir(path.parent)
    except (module.Error, OSError) as exc:
        tmp.unlink(missing_ok=True)
        raise DatabaseProblem(
            f"{_explain(path, exc)} It could not be encrypted; the plain file was kept."
        ) from exc
    except DatabaseProblem:
        tmp.unlink(missing_ok=True)
        raise


def _has_outbox(conn: Any) -> bool:
    return (
        conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='outbox'").fetchone()
        is not None
    )


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
    errors: tuple[type[Exception], ...] = (
        sqlite3.Error,
        OperationalError,
        DatabaseError,
        *_cipher_errors(),  # the raw connection of an encrypted replica is sqlcipher3's
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
    except errors as exc:
        return f"{_explain(db.path, exc)} Scans cannot be stored."
    return None
