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
from dataclasses import dataclass
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
    root: Path
    port: int
    user: str = "postgres"
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

    def start(self) -> LocalPostgres:
        initdb, pg_ctl = find_bin("initdb"), find_bin("pg_ctl")
        self.datadir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            try:
                entry = pwd.getpwnam("postgres")
            except KeyError as exc:
                raise PostgresUnavailable(
                    "Running as root needs a 'postgres' system user."
                ) from exc
            for path in (self.root, self.datadir):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        done = self._run(
            [
                initdb,
                "-D",
                str(self.datadir),
                "-U",
                self.user,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ]
        )
        if done.returncode != 0:
            raise PostgresUnavailable(f"initdb failed: {done.stderr.strip()[-500:]}")
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=60 -c shared_buffers=64MB"
        )
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

    def stop(self) -> None:
        if self._started:
            self._run(
                [find_bin("pg_ctl"), "-D", str(self.datadir), "-m", "immediate", "-w", "stop"]
            )
            self._started = False
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
