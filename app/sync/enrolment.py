"""Enrolling a kiosk with a single-use code (server side: migrations/supabase/0021_enrolment.sql).

An organizer or admin creates an enrolment for one event, role, gate and device name; the
server keeps only the SHA-256 of its secret and answers with the secret once. The app shows it
two ways, and neither carries a password or a long-lived secret:

- **The typed code**: 28 Crockford base32 symbols in 7 groups of 4, ``XXXX-XXXX-...-XXCC``:
  26 symbols of secret (130 bits from the server's CSPRNG) and 2 check symbols (the first two
  bytes of ``SHA-256("SDE1:" + secret)``, each mod 32). Case, dashes and spaces do not matter;
  ``I`` and ``L`` read as ``1``, ``O`` as ``0``. Valid for 15 minutes, once.
- **The QR payload**: ``SDE1:<code>:<server>``, at most 800 characters, where ``<code>`` is the
  typed code (dashes optional) and ``<server>`` is where the kiosk enrols:

  - ``https://<host>[:port][/path][?apikey=<publishable key>]`` for the ``supabase`` backend
    (the project URL; the anon / publishable key is public by design and optional: without
    it the kiosk uses the key in its settings). ``http://`` only for a loopback host.
  - ``postgres://<host>[:port]/<database>`` for the ``postgres`` backend: no user, no password
    and no options (the kiosk's own database login, from its settings, is used).

  Example: ``SDE1:7Q2M-0D4K-...:https://abcd.supabase.co?apikey=sb_publishable_...``.

The exchange (``enrol``): with Supabase, the kiosk signs in anonymously (its own auth user and
refresh token) and calls ``showdesk_enrol`` with the code; the server binds that auth user to
the device. The credential to keep (in the keyring: this module never writes it) is the refresh
token, which Supabase rotates; ``KioskSupabaseBackend`` hands every new one to its
``on_refresh_token``. With the ``postgres`` backend the kiosk's database login is the trust
(see migrations/supabase/README.md) and the credential is the id of its auth user.

Every refusal is an :class:`EnrolmentProblem` whose ``str()`` is a sentence for the person at
the kiosk and whose ``kind`` says which (``unknown``, ``used``, ``expired``, ``revoked``, ...).
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from app.sync.backends import (
    KioskSupabaseBackend,
    PostgresBackend,
    SupabaseBackend,
    SyncError,
)

PREFIX = "SDE1:"
MAX_PAYLOAD = 800
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
SECRET_SYMBOLS = 26  # 130 bits
CODE_SYMBOLS = SECRET_SYMBOLS + 2
ROLES = ("door", "producer", "organizer", "admin")
HINT_PREFIX = "showdesk:enrolment-"
_SYMBOLS = re.compile(f"[{ALPHABET}]+")


class EnrolmentProblem(Exception):
    """An enrolment that cannot go ahead. ``str()`` is a sentence; ``kind`` says which.

    Kinds from parsing: ``empty``, ``too-long``, ``not-enrolment``, ``version``, ``bad-code``
    (length or checksum), ``bad-server``, ``other-server``. From the server (its HINT
    ``showdesk:enrolment-<kind>``): ``unknown``, ``used``, ``expired``, ``revoked``,
    ``forbidden``, ``staff-account``, ``other-organization``, ``unauthenticated``; and
    ``device-revoked``, ``unreachable``, ``refused``.
    """

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


# --- the code -----------------------------------------------------------------------------


def check_symbols(secret: str) -> str:
    digest = hashlib.sha256((PREFIX + secret).encode("ascii")).digest()
    return ALPHABET[digest[0] % 32] + ALPHABET[digest[1] % 32]


def format_code(secret: str) -> str:
    """The typed code of a 26-symbol secret: 7 groups of 4, the checksum last."""
    if len(secret) != SECRET_SYMBOLS or not _SYMBOLS.fullmatch(secret):
        raise ValueError("not an enrolment secret")
    code = secret + check_symbols(secret)
    return "-".join(code[i : i + 4] for i in range(0, CODE_SYMBOLS, 4))


def normalize_code(text: str) -> str:
    """The canonical 28 symbols of a typed code (with its checksum), or EnrolmentProblem."""
    raw = (text or "").strip()
    if not raw:
        raise EnrolmentProblem("The enrolment code is empty.", "empty")
    if len(raw) > 64:
        raise EnrolmentProblem(
            "That is too long for an enrolment code (7 groups of 4 characters).", "too-long"
        )
    symbols = raw.upper().translate(str.maketrans("ILO", "110", "- "))
    if not _SYMBOLS.fullmatch(symbols) or len(symbols) != CODE_SYMBOLS:
        raise EnrolmentProblem(
            "An enrolment code is 7 groups of 4 letters and digits, like "
            "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2345: check what was typed.",
            "bad-code",
        )
    if symbols[SECRET_SYMBOLS:] != check_symbols(symbols[:SECRET_SYMBOLS]):
        raise EnrolmentProblem(
            "This enrolment code has a typing mistake (its last characters do not match the "
            "rest): check it against the organizer's screen.",
            "bad-code",
        )
    return symbols


# --- the server part of a QR ----------------------------------------------------------------


@dataclass(frozen=True)
class EnrolmentServer:
    """Where a kiosk enrols: ``backend`` is ``supabase`` (``url``) or ``postgres`` (host,
    port, database in ``url`` as ``postgres://host:port/db``)."""

    backend: str
    url: str
    anon_key: str | None = None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_server(text: str) -> EnrolmentServer:
    bad = EnrolmentProblem(
        "The server address in this enrolment code is not usable: ask the organizer to show "
        "the code again from the Sync tab.",
        "bad-server",
    )
    if any(ch.isspace() or ord(ch) < 33 or ord(ch) > 126 for ch in text):
        raise bad
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise bad from exc
    host = (parts.hostname or "").lower()
    if not host or parts.username is not None or parts.password is not None or parts.fragment:
        raise bad
    bare = f"[{host}]" if ":" in host else host
    netloc = bare if port is None else f"{bare}:{port}"
    if parts.scheme in ("https", "http"):
        if parts.scheme == "http" and not _is_loopback(host):
            raise EnrolmentProblem(
                "This enrolment code points to a server without encryption (http://): "
                "Showdesk enrols only over https.",
                "bad-server",
            )
        query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=False)
        if parts.query and (set(query) != {"apikey"} or len(query["apikey"]) != 1):
            raise bad
        key = query["apikey"][0] if parts.query else None
        if key is not None and not re.fullmatch(r"[A-Za-z0-9._\-]{20,600}", key):
            raise bad
        path = parts.path.rstrip("/")
        return EnrolmentServer("supabase", f"{parts.scheme}://{netloc}{path}", key)
    if parts.scheme in ("postgres", "postgresql"):
        database = parts.path.lstrip("/")
        if parts.query or not re.fullmatch(r"[A-Za-z0-9_\-]{1,63}", database):
            raise bad
        return EnrolmentServer("postgres", f"postgres://{bare}:{port or 5432}/{database}")
    raise bad


def server_of_dsn(dsn: str) -> EnrolmentServer:
    """The ``postgres://host:port/db`` identity of a kiosk's own database connection string."""
    from psycopg.conninfo import conninfo_to_dict

    info = conninfo_to_dict(dsn)
    host = str(info.get("host") or "localhost").lower()
    netloc = f"[{host}]" if ":" in host else host
    return EnrolmentServer(
        "postgres", f"postgres://{netloc}:{info.get('port') or 5432}/{info.get('dbname') or ''}"
    )


def same_server(a: EnrolmentServer, b: EnrolmentServer) -> bool:
    def key(server: EnrolmentServer) -> tuple[str, str]:
        url = server.url
        if server.backend == "supabase":
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
            url = f"{parts.scheme}://{parts.hostname}:{port}{parts.path.rstrip('/')}"
        return server.backend, url

    return key(a) == key(b)


# --- the QR payload -------------------------------------------------------------------------


@dataclass(frozen=True)
class EnrolmentTicket:
    """A parsed QR payload or typed code: ``code`` is canonical (28 symbols); ``server`` is
    None for a typed code (the kiosk's settings name the server)."""

    code: str
    server: EnrolmentServer | None = None

    @property
    def typed(self) -> str:
        return "-".join(self.code[i : i + 4] for i in range(0, CODE_SYMBOLS, 4))


def qr_payload(code: str, server: EnrolmentServer) -> str:
    """The QR text for ``code`` (typed or canonical) and ``server``."""
    symbols = normalize_code(code)
    if server.backend == "supabase":
        where = server.url + (f"?apikey={server.anon_key}" if server.anon_key else "")
    else:
        where = server.url
    payload = f"{PREFIX}{symbols}:{where}"
    if len(payload) > MAX_PAYLOAD:
        raise ValueError("the enrolment QR would be too long")
    parse_enrolment(payload)  # what we show, we can read
    return payload


def parse_enrolment(text: str, *, expected: EnrolmentServer | None = None) -> EnrolmentTicket:
    """Read a scanned QR payload (``SDE1:...``) or a typed code; EnrolmentProblem otherwise.

    ``expected``: the server this kiosk already talks to, if any; a QR naming another one is
    refused (a code from another organization's screen, or a planted one).
    """
    text = (text or "").strip()
    if not text:
        raise EnrolmentProblem("The enrolment code is empty.", "empty")
    if len(text) > MAX_PAYLOAD:
        raise EnrolmentProblem("That is too long to be a Showdesk enrolment code.", "too-long")
    if text[: len(PREFIX)].upper() != PREFIX:
        if re.match(r"SDE\d+:", text[:12].upper()):
            raise EnrolmentProblem(
                "This enrolment code is from a newer Showdesk: update this kiosk first.",
                "version",
            )
        if ":" in text or "/" in text or len(text) > 64:
            raise EnrolmentProblem(
                "This is not a Showdesk enrolment code (it should start with SDE1: or be "
                "7 groups of 4 characters).",
                "not-enrolment",
            )
        return EnrolmentTicket(normalize_code(text))
    rest = text[len(PREFIX) :]
    code_text, sep, where = rest.partition(":")
    if not sep or not where:
        raise EnrolmentProblem(
            "This enrolment code names no server: ask the organizer to show it again.",
            "bad-server",
        )
    ticket = EnrolmentTicket(normalize_code(code_text), parse_server(where))
    if (
        expected is not None
        and ticket.server is not None
        and not same_server(ticket.server, expected)
    ):
        raise EnrolmentProblem(
            f"This enrolment code is for another server ({ticket.server.url}); this kiosk "
            f"syncs with {expected.url}. Ask the organizer for a code from this kiosk's server.",
            "other-server",
        )
    return ticket


# --- the exchange ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Credential:
    """What the kiosk keeps in its keyring. ``kind``: ``supabase-refresh-token`` (``secret`` is
    the refresh token; rotated, see KioskSupabaseBackend) or ``postgres-auth-user`` (``secret``
    is the auth user id its claims carry; the database login is the real trust)."""

    kind: str
    secret: str = field(repr=False)  # never in a log line
    user_id: str = ""


@dataclass(frozen=True)
class Enrolled:
    """What the settings need after an enrolment, plus the credential to store."""

    backend: str  # supabase / postgres
    server_url: str  # the Supabase URL, or postgres://host:port/db
    anon_key: str | None
    device_id: str
    device_name: str
    organization_id: str
    organization_name: str | None
    event_id: str
    event_name: str | None
    role: str
    gate: str | None
    replaced: bool  # the device existed: its previous credential no longer works
    credential: Credential


def _refusal(exc: SyncError) -> EnrolmentProblem:
    """A server refusal as an EnrolmentProblem (its sentence and kind from the HINT)."""
    from app.sync.backends import DeviceRevoked

    if isinstance(exc, DeviceRevoked):
        return EnrolmentProblem(str(exc), "device-revoked")
    cause = exc.__cause__
    hint = getattr(cause, "hint", None) or getattr(
        getattr(cause, "diag", None), "message_hint", None
    )
    message = getattr(cause, "message", None) or getattr(
        getattr(cause, "diag", None), "message_primary", None
    )
    if isinstance(hint, str) and hint.startswith(HINT_PREFIX) and message:
        return EnrolmentProblem(str(message)[:300], hint[len(HINT_PREFIX) :])
    if exc.transient:
        return EnrolmentProblem(
            "Cannot reach the server to enrol this kiosk: check the network and try again.",
            "unreachable",
        )
    return EnrolmentProblem(f"The server refused the enrolment: {exc}"[:300], "refused")


def _enrolled(
    data: dict[str, Any], server: EnrolmentServer, anon_key: str | None, credential: Credential
) -> Enrolled:
    try:
        return Enrolled(
            backend=server.backend,
            server_url=server.url,
            anon_key=anon_key,
            device_id=str(uuid.UUID(str(data["device_id"]))),
            device_name=str(data["device_name"]),
            organization_id=str(uuid.UUID(str(data["organization_id"]))),
            organization_name=data.get("organization_name"),
            event_id=str(uuid.UUID(str(data["event_id"]))),
            event_name=data.get("event_name"),
            role=str(data["role"]),
            gate=data.get("gate"),
            replaced=bool(data.get("replaced")),
            credential=credential,
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise EnrolmentProblem(
            "The server's answer to the enrolment is not one Showdesk understands.", "refused"
        ) from exc


def enrol_supabase(
    ticket: EnrolmentTicket,
    *,
    url: str | None = None,
    anon_key: str | None = None,
    timeout: float = 15.0,
) -> Enrolled:
    """Sign in anonymously at the ticket's Supabase project (else ``url``) and exchange the
    code for this kiosk's own credential (a refresh token)."""
    server = ticket.server or (EnrolmentServer("supabase", url.rstrip("/")) if url else None)
    if server is None or server.backend != "supabase":
        raise EnrolmentProblem(
            "This kiosk syncs through Supabase, but the enrolment code names a database.",
            "other-server",
        )
    key = server.anon_key or anon_key
    if not key:
        raise EnrolmentProblem(
            "The Supabase project's anon (publishable) key is missing: enter it in the Sync "
            "settings, or scan the QR code, which carries it.",
            "bad-server",
        )
    backend = KioskSupabaseBackend(server.url, key, timeout=timeout)
    try:
        try:
            user_id = backend.sign_in_anonymously()
        except SyncError as exc:
            if exc.code in ("400", "401", "403", "422"):
                raise EnrolmentProblem(
                    "The server does not allow a new kiosk to sign in: in Supabase, turn on "
                    "Authentication > Sign In / Providers > Allow anonymous sign-ins.",
                    "refused",
                ) from exc
            raise EnrolmentProblem(
                "Cannot reach the server to enrol this kiosk: check the network and try again.",
                "unreachable",
            ) from exc
        try:
            data = backend.enrol(ticket.code)
        except SyncError as exc:
            raise _refusal(exc) from exc
        token = backend.refresh_token
        if not token:
            raise EnrolmentProblem("The server gave this kiosk no session.", "refused")
        return _enrolled(data, server, key, Credential("supabase-refresh-token", token, user_id))
    finally:
        backend.close()


def postgres_claims(user_id: str) -> dict[str, Any]:
    """The claims an enrolled kiosk's ``postgres`` backend runs with: its auth user only (the
    organization, role and event come from its binding on the server)."""
    return {
        "sub": user_id,
        "role": "authenticated",
        "aud": "authenticated",
        "is_anonymous": True,
        "app_metadata": {"provider": "anonymous", "providers": ["anonymous"]},
    }


def enrol_postgres(ticket: EnrolmentTicket, dsn: str, *, timeout: float = 15.0) -> Enrolled:
    """Exchange the code over the kiosk's own database connection (``dsn`` from its settings),
    as a new auth user of its own."""
    own = server_of_dsn(dsn)
    if ticket.server is not None and not same_server(ticket.server, own):
        raise EnrolmentProblem(
            f"This enrolment code is for another server ({ticket.server.url}); this kiosk "
            f"syncs with {own.url}.",
            "other-server",
        )
    user_id = str(uuid.uuid4())
    backend = PostgresBackend(dsn, claims=postgres_claims(user_id), timeout=timeout)
    try:
        data = backend.enrol(ticket.code)
    except SyncError as exc:
        raise _refusal(exc) from exc
    finally:
        backend.close()
    return _enrolled(data, own, None, Credential("postgres-auth-user", user_id, user_id))


def enrol(
    text: str,
    *,
    backend: str,
    url: str | None = None,
    anon_key: str | None = None,
    dsn: str | None = None,
) -> Enrolled:
    """The kiosk's enrolment screen: parse ``text`` (QR payload or typed code) and exchange it.

    ``backend`` is the kiosk's setting (``supabase`` or ``postgres``); ``url`` / ``anon_key``
    (supabase) or ``dsn`` (postgres) are its current settings, if any: a QR naming another
    server is refused when they are given, and a typed code needs them.
    """
    if backend == "postgres":
        if not dsn:
            raise EnrolmentProblem(
                "Enter the database connection of this kiosk in the Sync settings first.",
                "bad-server",
            )
        return enrol_postgres(parse_enrolment(text, expected=server_of_dsn(dsn)), dsn)
    if backend == "supabase":
        expected = EnrolmentServer("supabase", url.rstrip("/")) if url else None
        ticket = parse_enrolment(text, expected=expected)
        if ticket.server is not None and ticket.server.backend != "supabase":
            raise EnrolmentProblem(
                "This kiosk syncs through Supabase, but the enrolment code names a database.",
                "other-server",
            )
        if ticket.server is None and not url:
            raise EnrolmentProblem(
                "A typed code needs the server's address: enter it in the Sync settings, or "
                "scan the QR code instead.",
                "bad-server",
            )
        return enrol_supabase(ticket, url=url, anon_key=anon_key)
    raise EnrolmentProblem(f"Unknown sync backend {backend!r}.", "bad-server")


# --- the organizer's side -------------------------------------------------------------------


@dataclass(frozen=True)
class Invitation:
    """A new enrolment, to show once: ``code`` (typed) and ``qr`` (payload)."""

    enrolment_id: str
    code: str
    qr: str
    expires_at: str
    event_id: str
    role: str
    gate: str | None
    device_name: str


def create_enrolment(
    backend: PostgresBackend | SupabaseBackend,
    server: EnrolmentServer,
    *,
    event_id: str,
    role: str,
    device_name: str,
    gate: str | None = None,
) -> Invitation:
    """Create an enrolment as the signed-in organizer or admin (``backend``) and render it for
    ``server`` (what the kiosk will reach: the Supabase URL with its publishable key, or the
    ``postgres://host:port/db`` of ``server_of_dsn``). EnrolmentProblem on refusal."""
    if role not in ROLES:
        raise EnrolmentProblem("A kiosk's role is door, producer, organizer or admin.", "refused")
    try:
        data = backend.create_enrolment(event_id, role, gate, device_name)
    except SyncError as exc:
        raise _refusal(exc) from exc
    code = str(data.get("code") or "")
    if normalize_code(code)[:SECRET_SYMBOLS] != str(data.get("token") or ""):
        raise EnrolmentProblem(
            "The server's enrolment code does not check out: update the server.", "refused"
        )
    return Invitation(
        enrolment_id=str(data["enrolment_id"]),
        code=code,
        qr=qr_payload(code, server),
        expires_at=str(data["expires_at"]),
        event_id=str(data["event_id"]),
        role=str(data["role"]),
        gate=data.get("gate"),
        device_name=str(data["device_name"]),
    )


def revoke_enrolment(backend: PostgresBackend | SupabaseBackend, enrolment_id: str) -> str:
    """Withdraw an unused enrolment; returns when (ISO UTC). EnrolmentProblem on refusal."""
    try:
        data = backend.revoke_enrolment(enrolment_id)
    except SyncError as exc:
        raise _refusal(exc) from exc
    return str(data["revoked_at"])


def join(text: str, config: Any) -> Enrolled:
    """Enrol this device with ``text`` (QR payload or typed code) and keep what it got: the
    credential in the secret store, the settings file, the replica's device and event ids.
    The command line and the enrolment screen both call this (the screen off the UI thread).
    EnrolmentProblem (a sentence, with ``kind``) when it cannot; SecretsUnavailable when the
    credential could not be kept, checked before the code is spent."""
    from app.config import keep_enrolment
    from app.secrets import DEVICE_CREDENTIAL, SecretStore
    from app.store.db import open_database, set_meta

    SecretStore.default().get(DEVICE_CREDENTIAL)  # a locked keyring stops here, code unspent
    backend = (config.backend or "none").strip().lower()
    if backend == "none":
        ticket = parse_enrolment(text)
        backend = ticket.server.backend if ticket.server is not None else "supabase"
    enrolled = enrol(
        text,
        backend=backend,
        url=config.supabase_url if backend == "supabase" else None,
        anon_key=config.supabase_key if backend == "supabase" else None,
        dsn=config.postgres_dsn if backend == "postgres" else None,
    )
    keep_enrolment(enrolled, config)
    db = open_database(config.db)
    try:
        with db.session() as session:
            set_meta(session, "device_id", enrolled.device_id)
            set_meta(session, "event_id", enrolled.event_id)
    finally:
        db.close()
    return enrolled


def enrolled_sentence(enrolled: Enrolled) -> str:
    where = f" at {enrolled.gate}" if enrolled.gate else ""
    event = enrolled.event_name or enrolled.event_id
    return f"Enrolled as {enrolled.device_name}{where} for {event}."
