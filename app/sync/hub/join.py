"""A kiosk joins a venue hub and talks to it: pinned TLS, its own login, the sync contract.

Joining (``join_hub``): for each address of the join ticket, read the certificate the hub
presents and compare it with the ticket's fingerprint (``tls.pin_certificate``); log in with
the join code's one-time login over ``sslmode=verify-ca`` with that certificate as the only
root; call ``showdesk_hub.redeem_join`` with this kiosk's device id and the SCRAM verifier of
a password made here (the hub stores the verifier, never the password). The kiosk keeps the
password in its secret store and the certificate in its data folder.

``HubBackend`` is the ``postgres`` backend with that login: the same ``showdesk_sync_pull`` /
``showdesk_sync_push`` calls the server answers; the claims it would send are ignored by the
hub (``migrations/hub/hub.sql``), which knows the kiosk by its login.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.sync.backends import PostgresBackend, SyncError
from app.sync.hub.server import (
    DATABASE,
    HubProblem,
    JoinTicket,
    join_login,
    parse_join,
    scram_verifier,
)
from app.sync.hub.tls import CertificateMismatch, pin_certificate

CONNECT_TIMEOUT = 5


@dataclass(frozen=True)
class HubCredential:
    """What a joined kiosk keeps (``password`` goes to the secret store, the rest to settings)."""

    addresses: tuple[str, ...]
    port: int
    login: str
    password: str
    certificate: Path
    event_id: str
    role: str


def hub_dsn(host: str, port: int, login: str, password: str, certificate: Path) -> str:
    from psycopg.conninfo import make_conninfo

    return make_conninfo(
        host=host,
        port=port,
        dbname=DATABASE,
        user=login,
        password=password,
        sslmode="verify-ca",
        sslrootcert=str(certificate),
        sslcertmode="disable",
        # SCRAM bound to this TLS session: a relay in between fails authentication as well
        channel_binding="require",
        application_name="showdesk-kiosk",
    )


def join_hub(
    ticket: JoinTicket, device_id: str, device_name: str, certificate: Path
) -> HubCredential:
    """Join the hub of ``ticket`` as ``device_id``; HubProblem with a sentence when it cannot."""
    import psycopg

    reasons: list[str] = []
    for host in ticket.addresses:
        try:
            pin_certificate(host, ticket.port, ticket.pin, certificate, timeout=CONNECT_TIMEOUT)
        except CertificateMismatch as exc:
            raise HubProblem(str(exc)) from exc
        except OSError as exc:
            reasons.append(f"{host}: {_why_unreachable(exc)}")
            continue
        password = secrets.token_urlsafe(32)
        try:
            with psycopg.connect(
                hub_dsn(host, ticket.port, join_login(ticket.code), ticket.code, certificate),
                connect_timeout=CONNECT_TIMEOUT,
                autocommit=True,
            ) as conn:
                row = conn.execute(
                    "SELECT showdesk_hub.redeem_join(%s::uuid, %s, %s)",
                    (device_id, device_name, scram_verifier(password)),
                ).fetchone()
                answer = row[0] if row else {}
        except psycopg.OperationalError as exc:
            if "password authentication failed" in str(exc) or "not permitted to log in" in str(
                exc
            ):
                raise HubProblem(
                    "The hub did not accept this join code: it was already used, has expired "
                    "(15 minutes) or was mistyped. Ask for a new one at the hub."
                ) from exc
            reasons.append(f"{host}: {_first_line(exc)}")
            continue
        except psycopg.Error as exc:
            diag = getattr(exc, "diag", None)
            raise HubProblem(getattr(diag, "message_primary", None) or _first_line(exc)) from exc
        return HubCredential(
            addresses=(host, *[a for a in ticket.addresses if a != host]),
            port=ticket.port,
            login=str(answer["login"]),
            password=password,
            certificate=certificate,
            event_id=str(answer["event_id"]),
            role=str(answer["staff_role"]),
        )
    raise HubProblem(
        "Could not reach the venue hub at "
        + ", ".join(f"{a}:{ticket.port}" for a in ticket.addresses)
        + (f" ({'; '.join(reasons)})" if reasons else "")
        + ". Check that this kiosk is on the venue's network, that the address is the one on "
        "the hub's screen, and that the hub is running."
    )


def _why_unreachable(exc: OSError) -> str:
    """A few words on why a hub address did not answer, for the join screen."""
    if isinstance(exc, ConnectionRefusedError):
        return "nothing answers on that port"
    if isinstance(exc, TimeoutError):
        return "no answer"
    if getattr(exc, "errno", None) in (101, 113):  # ENETUNREACH, EHOSTUNREACH
        return "this kiosk has no way to that address"
    return str(exc.strerror or exc)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


class HubBackend(PostgresBackend):
    """The sync contract on the venue hub, as this kiosk's own login, over pinned TLS."""

    name = "hub"
    connect_timeout = 2  # the venue's own network: a hub that does not answer in 2 s is gone

    def __init__(self, credential: HubCredential, *, timeout: float = 5.0) -> None:
        self.credential = credential
        self._address = 0
        super().__init__(self._dsn(), "authenticated", {}, timeout=timeout)

    def _dsn(self) -> str:
        c = self.credential
        return hub_dsn(
            c.addresses[self._address % len(c.addresses)],
            c.port,
            c.login,
            c.password,
            c.certificate,
        )

    def _call(self, sql: str, params: tuple, *, whole_row: bool = False) -> Any:
        try:
            try:
                return super()._call(sql, params, whole_row=whole_row)
            except SyncError as exc:
                if exc.code != "57P01":
                    raise
                # the hub closed this connection (a restart, or this kiosk revoked): once more
                return super()._call(sql, params, whole_row=whole_row)
        except SyncError as exc:
            cause = exc.__cause__
            text = str(cause or "")
            if "certificate verify failed" in text:
                raise SyncError(
                    "The venue hub's certificate is not the one this kiosk joined: refusing to "
                    "talk to it (an impostor on the network, or a new hub: join it again).",
                    transient=True,
                    code="hub-certificate",
                ) from exc
            if (
                "password authentication failed" in text
                or "not permitted to log in" in text
                or (exc.code == "42501" and "venue hub" in str(exc))
            ):
                raise SyncError(
                    "The venue hub no longer accepts this kiosk: ask the organizer for a new "
                    "join code.",
                    transient=True,
                    code="hub-revoked",
                ) from exc
            if exc.transient and len(self.credential.addresses) > 1:
                self._address += 1  # try the hub's next address next time
                self.dsn = self._dsn()
            raise

    def status(self) -> dict[str, Any]:
        """The hub's own status: kiosks connected, changes waiting to go up, last relay."""
        import json

        data = self._call("select public.showdesk_hub_status()", ())
        return data if isinstance(data, dict) else json.loads(data)


def join_and_keep(text: str, address: str | None, config: Any) -> HubCredential:
    """Join the hub named by ``text`` (a join QR's payload, or a typed code with ``address``)
    as this device, then keep the login: password in the secret store, the rest in the
    settings file. The command line and the kiosk's join screen both call this (the screen
    off the UI thread). HubProblem (a sentence) when it cannot; SecretsUnavailable when the
    password could not be kept, checked before the code is spent."""
    from app.config import config_path, data_dir, write_settings
    from app.secrets import HUB_PASSWORD, SecretStore
    from app.store.db import get_meta, open_database

    ticket = parse_join(text, address)
    store = SecretStore.default()
    store.get(HUB_PASSWORD)  # a locked keyring stops here, code unspent
    db = open_database(config.db)
    try:
        with db.session() as session:
            device_id = get_meta(session, "device_id")
    finally:
        db.close()
    if not device_id:
        raise HubProblem(
            "This device has no device id yet: enrol it with the organization first "
            "('showdesk enrol join'), then join the hub."
        )
    certificate = Path(config.db).parent / "hub-certificate.pem"
    if not certificate.parent.is_dir():
        certificate = data_dir() / "hub-certificate.pem"
    credential = join_hub(ticket, device_id, config.device_name, certificate)
    store.set(HUB_PASSWORD, credential.password)
    write_settings(
        {
            "hub_addresses": ",".join(credential.addresses),
            "hub_port": credential.port,
            "hub_login": credential.login,
            "hub_certificate": str(credential.certificate),
        },
        config.source or config_path(),
        header="Written by Showdesk when this device joined a venue hub.",
    )
    return credential


def leave(config: Any) -> None:
    """Forget the hub: its settings and this kiosk's hub password (the hub keeps its record)."""
    from app.config import config_path, write_settings
    from app.secrets import HUB_PASSWORD, SecretStore

    write_settings(
        {"hub_addresses": None, "hub_login": None, "hub_certificate": None},
        config.source or config_path(),
    )
    SecretStore.default().delete(HUB_PASSWORD)
