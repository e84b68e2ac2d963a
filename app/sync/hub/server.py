"""Running the venue hub: PostgreSQL in the hub's folder with the server's own SQL.

The folder (``Hub.root``) holds the whole hub: ``pg/data`` (the cluster, its TLS key and
certificate, ``pg_hba.conf``), ``pg/server.log``, and the unix socket the hub's own process
uses as superuser. Kiosks reach it over TCP with TLS only (``hostssl`` lines, SCRAM
passwords; no plain ``host`` line, so an unencrypted connection is refused) and log in with
their own kiosk login (``migrations/hub/hub.sql``). Moving the hub to another laptop is
moving this folder (``showdesk hub export`` / ``import``) while it is stopped.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import socket
import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from app.resources import data_root, supabase_migrations_dir
from app.sync.hub.tls import make_certificate, pem_fingerprint
from app.sync.localpg import LocalPostgres, PostgresUnavailable, find_bin

DEFAULT_PORT = 5433
DATABASE = "showdesk"
JOIN_MINUTES = 15
CERT_FILE = "hub-cert.pem"
KEY_FILE = "hub-key.pem"
QR_SCHEME = "showdesk-hub"
# Crockford base32 without I, L, O, U: easy to read aloud and type.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_SYMBOLS = 12


class HubProblem(Exception):
    """Something a person must know about the hub. ``str()`` is a sentence."""


def hub_sql_path() -> Path:
    return data_root() / "migrations" / "hub" / "hub.sql"


@dataclass(frozen=True)
class JoinCode:
    """A single-use join code: what the hub screen shows (QR payload and typed form)."""

    addresses: tuple[str, ...]
    port: int
    fingerprint: str
    code: str
    role: str
    expires_at: datetime

    @property
    def typed(self) -> str:
        """``XXXX-XXXX-XXXX-ffffffff``: the secret, then the certificate's last 8 hex digits."""
        groups = "-".join(self.code[i : i + 4] for i in range(0, CODE_SYMBOLS, 4))
        return f"{groups}-{self.fingerprint[-8:]}"

    @property
    def payload(self) -> str:
        query = urlencode(
            {"a": ",".join(self.addresses), "p": self.port, "f": self.fingerprint, "c": self.code}
        )
        return f"{QR_SCHEME}:?{query}"


@dataclass(frozen=True)
class JoinTicket:
    """What a kiosk read from a QR or was typed: where the hub is and how to join it."""

    addresses: tuple[str, ...]
    port: int
    pin: str  # full fingerprint (QR) or its last 8 hex digits (typed)
    code: str


def join_login(code: str) -> str:
    """The join code's one-time login: derived from its first 4 symbols."""
    return "join_" + code[:4].lower()


def normalize_join_code(text: str) -> tuple[str, str]:
    """(code, pin) from a typed ``XXXX-XXXX-XXXX-ffffffff``; HubProblem when misshapen."""
    raw = re.sub(r"[\s-]", "", (text or "").upper()).translate(str.maketrans("ILO", "110"))
    code, pin = raw[:CODE_SYMBOLS], raw[CODE_SYMBOLS:].lower()
    if (
        len(code) != CODE_SYMBOLS
        or any(c not in ALPHABET for c in code)
        or not re.fullmatch(r"[0-9a-f]{8}", pin)
    ):
        raise HubProblem(
            "A hub join code is 3 groups of 4 letters and digits and 8 more characters, like "
            "ABCD-EFGH-JKMN-1a2b3c4d: check what was typed against the hub's screen."
        )
    return code, pin


def parse_join(text: str, address: str | None = None) -> JoinTicket:
    """A join QR's payload, or a typed code with the hub's ``address[:port]``."""
    text = (text or "").strip()
    if text.startswith(f"{QR_SCHEME}:"):
        query = parse_qs(urlsplit(text).query)

        def one(key: str) -> str:
            values = query.get(key) or [""]
            return values[0]

        addresses = tuple(a for a in one("a").split(",") if a)
        fingerprint = one("f").lower()
        try:
            port = int(one("p") or DEFAULT_PORT)
        except ValueError:
            port = -1
        code = one("c").upper()
        if (
            not addresses
            or not 0 < port < 65536
            or not re.fullmatch(r"[0-9a-f]{64}", fingerprint)
            or len(code) != CODE_SYMBOLS
            or any(c not in ALPHABET for c in code)
        ):
            raise HubProblem("This QR code is not a complete venue-hub join code.")
        return JoinTicket(addresses, port, fingerprint, code)
    if not address:
        raise HubProblem(
            "Give the hub's address (shown on its screen, like 192.168.1.20) with the code."
        )
    code, pin = normalize_join_code(text)
    host, _, port_text = address.strip().rpartition(":") if ":" in address else (address, "", "")
    try:
        port = int(port_text) if port_text else DEFAULT_PORT
    except ValueError as exc:
        raise HubProblem(
            f"'{address}' is not an address like 192.168.1.20 or 192.168.1.20:5433."
        ) from exc
    return JoinTicket((host.strip() or address.strip(),), port, pin, code)


def scram_verifier(password: str, iterations: int = 4096) -> str:
    """PostgreSQL's stored SCRAM-SHA-256 form of ``password``: the hub never sees the password."""
    salt = secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def lan_addresses() -> list[str]:
    """This machine's non-loopback IPv4 addresses, the route to the outside first."""
    found: list[str] = []
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: only picks the outgoing route
            found.append(probe.getsockname()[0])
    except OSError:
        pass
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            address = str(info[4][0])
            if address not in found:
                found.append(address)
    except OSError:
        pass
    return [a for a in found if not a.startswith("127.")]


class Hub:
    """The hub's PostgreSQL: start (first time: initdb, TLS certificate, migrations), stop,
    and the administrative calls (join codes, kiosks, revocation) over its unix socket."""

    def __init__(self, root: Path, port: int = DEFAULT_PORT, listen: str = "*") -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.pg = LocalPostgres(
            root=self.root / "pg",
            port=port,
            listen=listen,
            durable=True,
            keep_data=True,
            settings={
                "ssl": "on",
                "ssl_cert_file": CERT_FILE,
                "ssl_key_file": KEY_FILE,
                "password_encryption": "scram-sha-256",
                "unix_socket_permissions": "0700",
            },
            after_initdb=self._prepare,
        )
        self.port = port

    # --- the cluster ---------------------------------------------------------------------

    def _prepare(self, datadir: Path) -> None:
        (datadir / "pg_hba.conf").write_text(
            "# Showdesk venue hub: the hub's own process over its unix socket, kiosks over TLS\n"
            "local all all trust\n"
            "hostssl all all 0.0.0.0/0 scram-sha-256\n"
            "hostssl all all ::/0 scram-sha-256\n"
        )
        make_certificate(datadir / CERT_FILE, datadir / KEY_FILE, "Showdesk venue hub")
        self.pg.chown_to_server(datadir / CERT_FILE, datadir / KEY_FILE, datadir / "pg_hba.conf")

    @property
    def fingerprint(self) -> str:
        return pem_fingerprint(self.pg.datadir / CERT_FILE)

    @property
    def certificate(self) -> Path:
        return self.pg.datadir / CERT_FILE

    def running(self) -> bool:
        if not self.pg.initialized:
            return False
        done = self.pg._run([find_bin("pg_ctl"), "-D", str(self.pg.datadir), "status"])
        return done.returncode == 0

    def start(self) -> Hub:
        """Start the cluster (stopping a leftover one of this folder), then bring its SQL up
        to date: the server's migrations not yet applied, then the hub layer."""
        self.pg.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.pg.root, 0o755)
        if self.running():
            self.pg._started = True
            self.pg.stop()
        try:
            self.pg.start()
        except PostgresUnavailable as exc:
            if "Address already in use" in str(exc):
                raise HubProblem(
                    f"Port {self.port} is already used on this laptop (another venue hub or "
                    "database): stop it, or start the hub on another port."
                ) from exc
            raise
        self._ensure_database()
        self._migrate()
        return self

    def stop(self) -> None:
        self.pg._started = self.pg._started or self.running()
        self.pg.stop()

    def connect(self, dbname: str = DATABASE, **kwargs: Any):
        """A superuser connection over the unix socket (autocommit)."""
        import psycopg

        kwargs.setdefault("autocommit", True)
        return psycopg.connect(
            host=str(self.pg.root), port=self.port, user=self.pg.user, dbname=dbname, **kwargs
        )

    def _ensure_database(self) -> None:
        with self.connect("postgres") as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{DATABASE}"')

    def _migrate(self) -> None:
        with self.connect() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS public.showdesk_hub_applied ("
                " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {r[0] for r in conn.execute("SELECT name FROM public.showdesk_hub_applied")}
            for path in sorted(supabase_migrations_dir().glob("*.sql")):
                if path.name in done:
                    continue
                with conn.transaction():
                    conn.execute(path.read_text())
                    conn.execute(
                        "INSERT INTO public.showdesk_hub_applied (name) VALUES (%s)", (path.name,)
                    )
            conn.execute(hub_sql_path().read_text())

    # --- settings ----------------------------------------------------------------------------

    def setting(self, key: str, conn=None) -> Any:
        """A value of showdesk_hub.settings (None when unset), on ``conn`` or a connection of
        its own."""
        sql = "SELECT value FROM showdesk_hub.settings WHERE key = %s"
        if conn is not None:
            row = conn.execute(sql, (key,)).fetchone()
        else:
            with self.connect() as own:
                row = own.execute(sql, (key,)).fetchone()
        return row[0] if row else None

    def set_setting(self, key: str, value: Any, conn=None) -> None:
        from psycopg.types.json import Jsonb

        sql = (
            "INSERT INTO showdesk_hub.settings (key, value) VALUES (%s, %s)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        )
        if conn is not None:
            conn.execute(sql, (key, Jsonb(value)))
            return
        with self.connect() as own:
            own.execute(sql, (key, Jsonb(value)))

    def configure(self, organization_id: str | None, event_id: str, device_id: str) -> None:
        """Whose hub this is: the event it serves, the device it relays as, and the
        organization (None: learnt from the event's row at the first relay)."""
        current = self.setting("event_id")
        if current and current != event_id:
            raise HubProblem(
                "This hub folder already serves another event; start a new hub in another "
                "folder for this one."
            )
        if organization_id:
            self.set_setting("organization_id", organization_id)
        self.set_setting("event_id", event_id)
        self.set_setting("device_id", device_id)

    # --- kiosks --------------------------------------------------------------------------------

    def create_join_code(
        self,
        role: str = "door",
        addresses: list[str] | None = None,
        minutes: int = JOIN_MINUTES,
    ) -> JoinCode:
        """A new single-use join code for one kiosk of ``role``, valid ``minutes``."""
        from psycopg import sql

        if role not in ("door", "producer", "organizer", "admin"):
            raise HubProblem(f"'{role}' is not a role: door, producer, organizer or admin.")
        if not self.setting("organization_id"):
            raise HubProblem(
                "The hub has not reached the server yet, so it knows no kiosks: connect it to "
                "the internet once before doors join."
            )
        expires = datetime.now(UTC) + timedelta(minutes=minutes)
        with self.connect() as conn:
            for _ in range(20):
                code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_SYMBOLS))
                login = join_login(code)
                taken = conn.execute(
                    "SELECT 1 FROM pg_roles WHERE rolname = %s", (login,)
                ).fetchone()
                if not taken:
                    break
            else:
                raise HubProblem("Too many join codes are open; wait for some to expire.")
            with conn.transaction():
                conn.execute(
                    sql.SQL(
                        "CREATE ROLE {} LOGIN PASSWORD {} VALID UNTIL {} IN ROLE showdesk_hub_joiner"
                    ).format(
                        sql.Identifier(login),
                        sql.Literal(scram_verifier(code)),
                        sql.Literal(expires.isoformat()),
                    )
                )
                conn.execute(
                    "INSERT INTO showdesk_hub.join_codes (login, staff_role, expires_at)"
                    " VALUES (%s, %s, %s)",
                    (login, role, expires),
                )
            self._drop_expired_codes(conn)
        return JoinCode(
            tuple(addresses if addresses is not None else lan_addresses() or ["127.0.0.1"]),
            self.port,
            self.fingerprint,
            code,
            role,
            expires,
        )

    def _drop_expired_codes(self, conn) -> None:
        from psycopg import sql

        rows = conn.execute(
            "DELETE FROM showdesk_hub.join_codes WHERE expires_at < now() - interval '1 day'"
            " RETURNING login"
        ).fetchall()
        for (login,) in rows:
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(login)))

    def kiosks(self) -> list[dict[str, Any]]:
        from psycopg.rows import dict_row

        with self.connect(row_factory=dict_row) as conn:
            return conn.execute(
                "SELECT k.login, k.device_id::text AS device_id, k.name, k.staff_role,"
                " k.joined_at, k.revoked_at,"
                " EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.usename = k.login) AS connected"
                " FROM showdesk_hub.kiosks k ORDER BY k.joined_at"
            ).fetchall()

    def revoke(self, who: str) -> int:
        """Withdraw a kiosk's hub login (by device id, login or name); its open connections
        are closed, so its next request is refused. Returns how many logins were revoked."""
        with self.connect() as conn:
            devices = [
                r[0]
                for r in conn.execute(
                    "SELECT DISTINCT device_id FROM showdesk_hub.kiosks"
                    " WHERE revoked_at IS NULL"
                    " AND (device_id::text = %s OR login = %s OR lower(name) = lower(%s))",
                    (who, who, who),
                )
            ]
            return sum(
                conn.execute("SELECT showdesk_hub.revoke_device(%s)", (d,)).fetchone()[0]
                for d in devices
            )

    def status(self) -> dict[str, Any]:
        with self.connect() as conn:
            data = conn.execute("SELECT public.showdesk_hub_status()").fetchone()[0]
        return data if isinstance(data, dict) else json.loads(data)

    # --- moving the hub --------------------------------------------------------------------------

    def export(self, archive: Path) -> Path:
        """The stopped hub's whole folder as a .tar.gz (cluster, certificate, settings)."""
        if self.running():
            raise HubProblem("Stop the hub before exporting it (its data must be at rest).")
        with tarfile.open(archive, "w:gz") as tar:
            tar.add(self.pg.root, arcname="pg")
        return archive

    @classmethod
    def import_(cls, archive: Path, root: Path, port: int = DEFAULT_PORT) -> Hub:
        root = Path(root)
        if (root / "pg" / "data" / "PG_VERSION").exists():
            raise HubProblem(f"{root} already holds a hub; import into an empty folder.")
        root.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(root, filter="data")
        hub = cls(root, port)
        hub.pg.chown_tree(hub.pg.root)
        os.chmod(hub.pg.datadir, 0o700)
        return hub


__all__ = [
    "DEFAULT_PORT",
    "Hub",
    "HubProblem",
    "JoinCode",
    "JoinTicket",
    "PostgresUnavailable",
    "lan_addresses",
    "parse_join",
]
