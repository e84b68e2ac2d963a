"""A throwaway PostgreSQL server: initdb + pg_ctl in a temporary folder, on a free loopback port.

Used by ``showdesk bench sync`` (and free for the test fixtures to reuse). When run as root,
the server runs as the ``postgres`` system user, since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from app.resources import supabase_migrations_dir


class PostgresUnavailable(Exception):
    """PostgreSQL is not installed or would not start. ``str()`` says what to do."""


def find_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    if candidates:
        return candidates[0]
    raise PostgresUnavailable(
        f"PostgreSQL's '{name}' was not found. Install PostgreSQL "
        "(Debian/Ubuntu: apt-get install postgresql)."
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LocalPostgres:
    """A PostgreSQL server in ``root``: throwaway (the benchmarks: trust, no fsync, removed on
    stop) or kept (the venue hub: ``durable``, its own ``pg_hba.conf`` and TLS, data kept)."""

    root: Path
    port: int
    user: str = "postgres"
    listen: str = "127.0.0.1"
    durable: bool = False
    keep_data: bool = False
    settings: dict[str, str] = field(default_factory=dict)
    # runs once after initdb, before the first start (the hub writes pg_hba.conf and TLS files)
    after_initdb: Callable[[Path], None] | None = None
    _started: bool = False

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    def dsn(self, dbname: str = "postgres", user: str | None = None) -> str:
        return f"host=127.0.0.1 port={self.port} dbname={dbname} user={user or self.user}"

    def _run(self, args: list[str], **kwargs) -> subprocess.CompletedProcess:
        demote = None
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")

            def demote() -> None:  # noqa: F811 - runs in the child before exec
                os.setgid(entry.pw_gid)
                os.setuid(entry.pw_uid)

        return subprocess.run(
            args, preexec_fn=demote, capture_output=True, text=True, check=False, **kwargs
        )

    @property
    def initialized(self) -> bool:
        return (self.datadir / "PG_VERSION").is_file()

    def chown_to_server(self, *paths: Path) -> None:
        """Give files the server must own (data, keys) to the user it runs as."""
        if os.geteuid() != 0:
            return
        try:
            entry = pwd.getpwnam("postgres")
        except KeyError as exc:
            raise PostgresUnavailable("Running as root needs a 'postgres' system user.") from exc
        for path in paths:
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def chown_tree(self, top: Path) -> None:
        """``chown_to_server`` for ``top`` and everything below it (a copied or unpacked
        cluster)."""
        for folder, _dirs, files in os.walk(top):
            self.chown_to_server(Path(folder), *(Path(folder) / f for f in files))

    def start(self) -> LocalPostgres:
        pg_ctl = find_bin("pg_ctl")
        self.datadir.mkdir(parents=True, exist_ok=True)
        self.chown_to_server(self.root, self.datadir)
        if not self.initialized:
            self._initdb()
        options = f"-p {self.port} -k {self.root} -c listen_addresses={self.listen} "
        if not self.durable:
            options += "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
        options += "-c max_connections=60 -c shared_buffers=64MB"
        for name, value in self.settings.items():
            options += f" -c {name}={value}"
        done = self._run(
            [
                pg_ctl,
                "-D",
                str(self.datadir),
                "-o",
                options,
                "-l",
                str(self.root / "server.log"),
                "-w",
                "-t",
                "60",
                "start",
            ]
        )
        if done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text()[-800:] if log.exists() else done.stderr
            raise PostgresUnavailable(f"PostgreSQL did not start: {tail.strip()}")
        self._started = True
        return self

    def _initdb(self) -> None:
        initdb = find_bin("initdb")
        auth = (
            ["-A", "trust"]
            if not self.durable
            else ["--auth-local=trust", "--auth-host=scram-sha-256"]
        )
        done = self._run(
            [
                initdb,
                "-D",
                str(self.datadir),
                "-U",
                self.user,
                *auth,
                "-E",
                "UTF8",
                "--locale=C",
                *([] if self.durable else ["--no-sync"]),
            ]
        )
        if done.returncode != 0:
            raise PostgresUnavailable(f"initdb failed: {done.stderr.strip()[-500:]}")
        if self.after_initdb is not None:
            self.after_initdb(self.datadir)

    def stop(self) -> None:
        if self._started:
            self._run(
                [
                    find_bin("pg_ctl"),
                    "-D",
                    str(self.datadir),
                    "-m",
                    "fast" if self.durable else "immediate",
                    "-w",
                    "stop",
                ]
            )
            self._started = False
        if not self.keep_data:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> LocalPostgres:
        return self.start() if not self._started else self

    def __exit__(self, *exc) -> None:
        self.stop()


def temporary_postgres() -> LocalPostgres:
    """A not-yet-started server in a fresh temporary folder (call ``start()`` or use ``with``)."""
    root = Path(tempfile.mkdtemp(prefix="showdesk-pg-"))
    os.chmod(root, 0o755)
    return LocalPostgres(root=root, port=free_port())


def apply_sql_dir(dsn: str, folder: Path) -> list[str]:
    """Run every ``*.sql`` file of ``folder`` in name order (the Supabase migrations)."""
    import psycopg

    applied = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        for path in sorted(folder.glob("*.sql")):
            conn.execute(path.read_text())
            applied.append(path.name)
    return applied


SUPABASE_MIGRATIONS = supabase_migrations_dir()
