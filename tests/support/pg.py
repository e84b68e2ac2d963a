"""A real PostgreSQL server for the test session, with the Supabase migrations applied.

Debian's ``postgresql`` package provides the binaries (``/usr/lib/postgresql/<ver>/bin``).
PostgreSQL refuses to run as root, and CI runs the tests as root, so when we are root the
cluster belongs to the ``postgres`` system user and every server command runs as that user.

The server listens on a free loopback port and on a unix socket inside its own temporary
directory; it is stopped at the end of the session and, should the session die without
tearing down, by an ``atexit`` hook. Each test gets a fresh database cloned from a template
that already has ``migrations/supabase`` applied (CREATE DATABASE ... TEMPLATE is fast).
"""

from __future__ import annotations

import atexit
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS_DIR = ROOT / "migrations" / "supabase"
TEMPLATE_DB = "showdesk_template"
SHOWDESK_SEARCH_PATH = "showdesk,public"

TEST_JWT_SECRET = "showdesk-test-jwt-secret-at-least-32-characters-long"
"""HS256 secret the test gateway (and the token helpers here) sign and verify JWTs with."""


class PostgresUnavailable(RuntimeError):
    """PostgreSQL cannot be started here. ``str()`` says what is missing."""


def find_bindir() -> Path:
    """The newest ``/usr/lib/postgresql/<ver>/bin`` that has initdb and pg_ctl."""
    base = Path("/usr/lib/postgresql")
    candidates = []
    if base.is_dir():
        for entry in base.iterdir():
            if (
                entry.name.isdigit()
                and (entry / "bin" / "pg_ctl").exists()
                and (entry / "bin" / "initdb").exists()
            ):
                candidates.append((int(entry.name), entry / "bin"))
    if not candidates:
        raise PostgresUnavailable(
            "PostgreSQL is not installed: expected /usr/lib/postgresql/<version>/bin "
            "(apt-get install postgresql)."
        )
    return max(candidates)[1]


def migration_files() -> list[Path]:
    """The Supabase migrations in the order they must be applied (by their number)."""
    files = [p for p in MIGRATIONS_DIR.glob("*.sql") if re.match(r"^\d{4}_", p.name)]
    return sorted(files)


def apply_migrations(conn: psycopg.Connection) -> None:
    """Apply every migration file, in order, on ``conn`` (autocommit, superuser)."""
    for path in migration_files():
        try:
            conn.execute(path.read_text())
        except psycopg.Error as exc:
            raise RuntimeError(f"migration {path.name} failed: {exc}") from exc


OWNER_FILE = "owner.pid"
"""Pid of the test process that started a cluster, so a later run can stop it if that died."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_orphans() -> None:
    """Stop clusters left running by test sessions that were killed (SIGKILL skips atexit)."""
    for tmp in Path(tempfile.gettempdir()).glob("showdesk-pg-*"):
        try:
            owner = int((tmp / OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue
        if _alive(owner):
            continue
        if (tmp / "data" / "postmaster.pid").exists():
            cmd = [
                str(find_bindir() / "pg_ctl"),
                "-D",
                str(tmp / "data"),
                "-m",
                "immediate",
                "stop",
            ]
            if os.geteuid() == 0:
                cmd = ["runuser", "-u", "postgres", "--", *cmd]
            subprocess.run(cmd, capture_output=True, timeout=60)
        shutil.rmtree(tmp, ignore_errors=True)


def _stop_on_sigterm(server: PgServer) -> None:
    """On SIGTERM, stop the server before dying (the default action would skip atexit)."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return

    def handler(signum, frame):
        server.stop()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)

    signal.signal(signal.SIGTERM, handler)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PgServer:
    """One throw-away PostgreSQL cluster. ``start()`` then ``dsn(dbname)``; ``stop()``."""

    def __init__(self) -> None:
        self.bindir = find_bindir()
        self.tmp = Path(tempfile.mkdtemp(prefix="showdesk-pg-"))
        self.data = self.tmp / "data"
        self.log = self.tmp / "server.log"
        self.port = 0
        self.superuser = "postgres"
        self._as_postgres = os.geteuid() == 0
        self._running = False

    # --- process control ----------------------------------------------------------------

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120)

    def start(self) -> None:
        stop_orphans()
        (self.tmp / OWNER_FILE).write_text(str(os.getpid()))
        if self._as_postgres:
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError as exc:
                raise PostgresUnavailable(
                    "Running as root but there is no 'postgres' system user to run the server."
                ) from exc
            os.chown(self.tmp, pw.pw_uid, pw.pw_gid)
            os.chmod(self.tmp, 0o700)
        done = self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            self.superuser,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync",
        )
        if done.returncode != 0:
            raise PostgresUnavailable(
                f"initdb failed: {done.stderr.strip() or done.stdout.strip()}"
            )
        last_error = ""
        for _attempt in range(5):
            self.port = _free_port()
            options = " ".join(
                [
                    f"-p {self.port}",
                    "-c listen_addresses=127.0.0.1",
                    f"-c unix_socket_directories={self.tmp}",
                    "-c fsync=off",
                    "-c synchronous_commit=off",
                    "-c full_page_writes=off",
                    "-c max_connections=100",
                    "-c timezone=UTC",
                ]
            )
            done = self._run(
                "pg_ctl",
                "-D",
                str(self.data),
                "-l",
                str(self.log),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            )
            if done.returncode == 0:
                self._running = True
                atexit.register(self.stop)
                _stop_on_sigterm(self)
                return
            last_error = self._log_tail() or done.stderr
        raise PostgresUnavailable(f"PostgreSQL did not start: {last_error.strip()}")

    def _log_tail(self) -> str:
        try:
            return "\n".join(self.log.read_text().splitlines()[-10:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self._running:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
            self._running = False
        shutil.rmtree(self.tmp, ignore_errors=True)

    # --- connections ----------------------------------------------------------------------

    def dsn(self, dbname: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} dbname={dbname} user={self.superuser}"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{self.superuser}@127.0.0.1:{self.port}/{dbname}"

    def connect(self, dbname: str = "postgres", **kwargs: Any) -> psycopg.Connection:
        kwargs.setdefault("autocommit", True)
        return psycopg.connect(self.dsn(dbname), **kwargs)

    def create_template(self) -> None:
        """Create the template database with every Supabase migration applied."""
        with self.connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}"')
            conn.execute(f'CREATE DATABASE "{TEMPLATE_DB}"')
        with self.connect(TEMPLATE_DB) as conn:
            apply_migrations(conn)
        with self.connect() as conn:
            conn.execute(f'ALTER DATABASE "{TEMPLATE_DB}" WITH IS_TEMPLATE true')

    def create_database(self, template: str | None = TEMPLATE_DB) -> str:
        """A new uniquely named database (a clone of ``template``); returns its name."""
        name = "t_" + uuid.uuid4().hex[:12]
        with self.connect() as conn:
            if template:
                # FILE_COPY (PostgreSQL 15+) clones a small template about twice as fast as
                # the default WAL_LOG strategy
                strategy = " STRATEGY FILE_COPY" if conn.info.server_version >= 150000 else ""
                conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"{strategy}')
            else:
                conn.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        with self.connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- JWTs and claims -------------------------------------------------------------------------


def make_claims(
    *,
    organization_id: str | None,
    staff_role: str = "door",
    device_id: str | None = None,
    sub: str | None = None,
    role: str = "authenticated",
    email: str | None = None,
    expires_in: int = 3600,
) -> dict[str, Any]:
    """JWT claims shaped like a Supabase access token, with Showdesk's app_metadata."""
    now = int(time.time())
    app_metadata: dict[str, Any] = {"provider": "email", "providers": ["email"]}
    if organization_id is not None:
        app_metadata["organization_id"] = str(organization_id)
    if staff_role is not None:
        app_metadata["staff_role"] = staff_role
    if device_id is not None:
        app_metadata["device_id"] = str(device_id)
    return {
        # a device's auth user is the device id unless told otherwise (0017's binding by id)
        "sub": str(sub or device_id or uuid.uuid4()),
        "role": role,
        "aud": "authenticated" if role == "authenticated" else role,
        "email": email,
        "iat": now,
        "exp": now + expires_in,
        "app_metadata": app_metadata,
        "user_metadata": {},
    }


def sign_jwt(claims: dict[str, Any], secret: str = TEST_JWT_SECRET) -> str:
    import jwt

    return jwt.encode(claims, secret, algorithm="HS256")


def apply_claims(
    conn: psycopg.Connection, claims: dict[str, Any] | None, role: str | None = None
) -> None:
    """Inside the current transaction, become ``role`` with ``claims`` — what PostgREST does.

    ``SET LOCAL ROLE`` plus ``request.jwt.claims`` (transaction-local), so ``auth.uid()``,
    ``auth.jwt()`` and Row Level Security see the caller. ``claims=None`` is the anon key.
    """
    role = role or (claims or {}).get("role") or "anon"
    conn.execute(
        "SELECT set_config('role', %s, true), set_config('request.jwt.claims', %s, true)",
        (role, json.dumps(claims or {"role": "anon"})),
    )


# --- a fresh database per test ---------------------------------------------------------------


@dataclass
class OrgFixture:
    """An organization with one venue, one event and one ticket type."""

    id: str
    name: str
    venue_id: str
    event_id: str
    ticket_type_id: str
    devices: list[str] = field(default_factory=list)


@dataclass
class SupabaseDB:
    """A fresh database with ``migrations/supabase`` applied, plus helpers to fill it."""

    server: PgServer
    name: str
    _conn: psycopg.Connection | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _claims_conn: psycopg.Connection | None = field(default=None, repr=False)
    _claims_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def dsn(self) -> str:
        return self.server.dsn(self.name)

    @property
    def url(self) -> str:
        return self.server.url(self.name)

    def connect(self, **kwargs: Any) -> psycopg.Connection:
        """A superuser connection (autocommit unless told otherwise; rows as dicts).

        Tests name Showdesk's tables unqualified, as the migrations do: the connection resolves
        names in schema ``showdesk`` first (the product's own connections qualify every name).
        """
        kwargs.setdefault("row_factory", dict_row)
        kwargs.setdefault("options", f"-c search_path={SHOWDESK_SEARCH_PATH}")
        return self.server.connect(self.name, **kwargs)

    @contextmanager
    def as_claims(
        self, claims: dict[str, Any] | None, role: str | None = None
    ) -> Iterator[psycopg.Connection]:
        """One transaction running as ``role`` with ``claims`` (RLS applies). Commits on success.

        Reuses one connection (the settings are transaction-local); a nested or concurrent
        use gets a connection of its own.
        """
        if not self._claims_lock.acquire(blocking=False):
            with self.connect(autocommit=False) as conn:
                apply_claims(conn, claims, role)
                yield conn
                conn.commit()
            return
        try:
            if self._claims_conn is None or self._claims_conn.closed:
                self._claims_conn = self.connect(autocommit=False)
            conn = self._claims_conn
            try:
                apply_claims(conn, claims, role)
                yield conn
                conn.commit()
            except BaseException:
                try:
                    conn.rollback()
                except psycopg.Error:
                    conn.close()
                raise
        finally:
            self._claims_lock.release()

    def execute(self, sql: str, params: Any = None) -> list[dict[str, Any]]:
        """Run one statement as superuser (autocommit); return its rows (none: empty list)."""
        with self._lock:
            if self._conn is None or self._conn.closed:
                self._conn = self.connect()
            cur = self._conn.execute(sql, params)
            return cur.fetchall() if cur.description else []

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
        with self._claims_lock:
            if self._claims_conn is not None:
                self._claims_conn.close()
                self._claims_conn = None

    def scalar(self, sql: str, params: Any = None) -> Any:
        rows = self.execute(sql, params)
        return next(iter(rows[0].values())) if rows else None

    # --- data helpers -----------------------------------------------------------------------

    def create_org(self, name: str = "Maison Test", *, event_name: str | None = None) -> OrgFixture:
        now = datetime.now(UTC)
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "org"
        with self.connect() as conn:
            org_id = conn.execute(
                "INSERT INTO organizations (name, slug) VALUES (%s, %s) RETURNING id", (name, slug)
            ).fetchone()["id"]
            venue_id = conn.execute(
                "INSERT INTO venues (organization_id, name, city, country, timezone)"
                " VALUES (%s, %s, 'Paris', 'FR', 'Europe/Paris') RETURNING id",
                (org_id, f"{name} Hall"),
            ).fetchone()["id"]
            event_id = conn.execute(
                "INSERT INTO events (organization_id, venue_id, name, slug, timezone, starts_at, ends_at)"
                " VALUES (%s, %s, %s, %s, 'Europe/Paris', %s, %s) RETURNING id",
                (
                    org_id,
                    venue_id,
                    event_name or f"{name} Show",
                    f"{slug}-show",
                    now,
                    now + timedelta(hours=4),
                ),
            ).fetchone()["id"]
            tt_id = conn.execute(
                "INSERT INTO ticket_types (event_id, name, tier, price) VALUES (%s, 'General', 'general', 25.00)"
                " RETURNING id",
                (event_id,),
            ).fetchone()["id"]
        return OrgFixture(str(org_id), name, str(venue_id), str(event_id), str(tt_id))

    def create_event(self, org: OrgFixture, name: str = "Second show") -> str:
        """Another event of ``org``, at the same venue and times as its first."""
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        return str(
            self.scalar(
                "INSERT INTO events (organization_id, venue_id, name, slug, timezone, starts_at,"
                " ends_at) SELECT organization_id, venue_id, %s, %s, timezone, starts_at, ends_at"
                " FROM events WHERE id = %s RETURNING id",
                (name, slug, org.event_id),
            )
        )

    def create_device(
        self, org: OrgFixture | str, name: str = "Kiosk 1", gate: str = "Main"
    ) -> str:
        org_id = org.id if isinstance(org, OrgFixture) else org
        device_id = self.scalar(
            "INSERT INTO devices (organization_id, name, gate) VALUES (%s, %s, %s) RETURNING id",
            (org_id, name, gate),
        )
        if isinstance(org, OrgFixture):
            org.devices.append(str(device_id))
        return str(device_id)

    def create_tickets(self, org: OrgFixture, count: int = 3) -> list[str]:
        """``count`` valid tickets (with attendees and one order) for the org's event."""
        ids = []
        with self.connect() as conn:
            order_id = conn.execute(
                "INSERT INTO orders (event_id, order_number, buyer_name, total) VALUES (%s, %s, 'Buyer', 0)"
                " RETURNING id",
                (org.event_id, "ORD-" + uuid.uuid4().hex[:8]),
            ).fetchone()["id"]
            for i in range(count):
                attendee_id = conn.execute(
                    "INSERT INTO attendees (event_id, first_name, last_name) VALUES (%s, %s, %s) RETURNING id",
                    (org.event_id, f"Guest{i}", org.name.split()[0]),
                ).fetchone()["id"]
                ids.append(
                    str(
                        conn.execute(
                            "INSERT INTO tickets (event_id, ticket_type_id, attendee_id, order_id, ticket_number,"
                            " qr_code_data) VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
                            (
                                org.event_id,
                                org.ticket_type_id,
                                attendee_id,
                                order_id,
                                f"T{i:05d}",
                                "LEGACY-" + uuid.uuid4().hex,
                            ),
                        ).fetchone()["id"]
                    )
                )
        return ids

    def create_backstage(self, org: OrgFixture) -> dict[str, Any]:
        """A show with one segment, a designer, two models and looks walking in order, a person
        with a call time, and a staff member. Returns their ids."""
        with self.connect() as conn:

            def one(sql: str, *params: Any) -> str:
                return str(conn.execute(sql, params).fetchone()["id"])

            show = one(
                "INSERT INTO runway_shows (event_id, name) VALUES (%s, 'SS27') RETURNING id",
                org.event_id,
            )
            segment = one(
                "INSERT INTO runway_segments (show_id, name, order_key) VALUES (%s, 'Opening', 'a0') RETURNING id",
                show,
            )
            designer = one(
                "INSERT INTO designers (event_id, name, brand) VALUES (%s, 'Ada Vane', 'VANE') RETURNING id",
                org.event_id,
            )
            models, looks, appearances = [], [], []
            for i, key in enumerate(("a0", "a1")):
                models.append(
                    one(
                        "INSERT INTO models (event_id, first_name, last_name) VALUES (%s, %s, 'Model') RETURNING id",
                        org.event_id,
                        f"M{i}",
                    )
                )
                looks.append(
                    one(
                        "INSERT INTO looks (event_id, designer_id, title) VALUES (%s, %s, %s) RETURNING id",
                        org.event_id,
                        designer,
                        f"Look {i + 1}",
                    )
                )
                appearances.append(
                    one(
                        "INSERT INTO runway_appearances (segment_id, look_id, model_id, order_key)"
                        " VALUES (%s, %s, %s, %s) RETURNING id",
                        segment,
                        looks[i],
                        models[i],
                        key,
                    )
                )
            person = one(
                "INSERT INTO people (event_id, full_name, role, department, model_id)"
                " VALUES (%s, 'M0 Model', 'Model', 'models', %s) RETURNING id",
                org.event_id,
                models[0],
            )
            call_time = one(
                "INSERT INTO call_times (event_id, person_id, call_at)"
                " VALUES (%s, %s, now() + interval '1 hour') RETURNING id",
                org.event_id,
                person,
            )
            staff = one(
                "INSERT INTO staff (organization_id, event_id, name, role) VALUES (%s, %s, 'Sam', 'door') RETURNING id",
                org.id,
                org.event_id,
            )
        return {
            "show": show,
            "segment": segment,
            "designer": designer,
            "models": models,
            "looks": looks,
            "appearances": appearances,
            "person": person,
            "call_time": call_time,
            "staff": staff,
        }

    def claims(
        self,
        org: OrgFixture | str | None,
        staff_role: str = "door",
        device_id: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        org_id = org.id if isinstance(org, OrgFixture) else org
        return make_claims(
            organization_id=org_id, staff_role=staff_role, device_id=device_id, **kwargs
        )

    def execute_as(
        self, claims: dict[str, Any] | None, sql: str, params: Any = None
    ) -> list[dict[str, Any]]:
        """Rows of ``sql`` run as the caller ``claims`` (RLS and all)."""
        with self.as_claims(claims) as conn:
            return conn.execute(sql, params).fetchall()

    def jwt(self, claims: dict[str, Any]) -> str:
        return sign_jwt(claims)

    # --- the RPC functions, called as a given caller -----------------------------------------

    def pull(
        self, claims: dict[str, Any], event_id: str, cursor: str | None = None, limit: int = 500
    ) -> dict[str, Any]:
        with self.as_claims(claims) as conn:
            return conn.execute(
                "SELECT public.showdesk_sync_pull(%s, %s, %s) AS r", (event_id, cursor, limit)
            ).fetchone()["r"]

    def pull_all(
        self, claims: dict[str, Any], event_id: str, cursor: str | None = None, limit: int = 500
    ) -> tuple[list[dict[str, Any]], str]:
        """Every page from ``cursor`` on: (changes, final cursor)."""
        changes: list[dict[str, Any]] = []
        while True:
            page = self.pull(claims, event_id, cursor, limit)
            changes.extend(page["changes"])
            cursor = page["cursor"]
            if not page["has_more"]:
                return changes, cursor

    def push(
        self, claims: dict[str, Any], device_id: str, mutations: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        with self.as_claims(claims) as conn:
            result = conn.execute(
                "SELECT public.showdesk_sync_push(%s, %s::jsonb) AS r",
                (device_id, json.dumps(mutations)),
            ).fetchone()["r"]
        return result["results"]


def mutation(
    table: str,
    op: str,
    row_id: str,
    payload: dict[str, Any] | None = None,
    base_version: int | None = None,
    mutation_id: str | None = None,
) -> dict[str, Any]:
    """One element of sync_push's p_mutations, shaped like the client's outbox entries."""
    return {
        "mutation_id": mutation_id or str(uuid.uuid4()),
        "table": table,
        "op": op,
        "row_id": row_id,
        "payload": {"id": row_id, **(payload or {})},
        "base_version": base_version,
        "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }


def admission(event_id: str, device_id: str, ticket_id: str, *, offline: bool = True) -> dict:
    """A door's admission of ``ticket_id`` as one element of sync_push's p_mutations."""
    return mutation(
        "checkins",
        "insert",
        str(uuid.uuid4()),
        {
            "event_id": event_id,
            "ticket_id": ticket_id,
            "device_id": device_id,
            "gate": "North",
            "direction": "in",
            "method": "qr",
            "kind": "scan",
            "scanned_at": "2026-12-03T18:00:00.000000Z",
            "verdict": "admitted",
            "offline": offline,
        },
    )
