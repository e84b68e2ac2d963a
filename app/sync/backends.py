"""Where the sync engine sends and fetches changes: Supabase over HTTPS, or Postgres directly.

Both call the same SQL functions (``public.showdesk_sync_pull``, ``_sync_push``, ``_register_device``) under the
same role and JWT claims, so the same Row Level Security applies whichever way a kiosk talks.
Every failure is raised as :class:`SyncError` whose ``transient`` flag tells the engine whether
to retry later (network, overload, expired session) or to set the mutation aside (bad data,
refused by policy).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

PUSH_TIMEOUT_SECONDS = 20.0
CONNECT_TIMEOUT_SECONDS = 5


class SyncError(Exception):
    """A failed call to the backend. ``str()`` is a sentence; ``transient`` says retry later."""

    def __init__(self, message: str, *, transient: bool, code: str | None = None) -> None:
        super().__init__(message)
        self.transient = transient
        self.code = code


REVOKED_HINT = "showdesk:device-revoked"


class DeviceRevoked(SyncError):
    """The server refused this device because an organizer removed it. Never retried."""

    def __init__(
        self,
        message: str,
        *,
        organization: str | None = None,
        revoked_at: str | None = None,
        recovery_key: str | None = None,
    ) -> None:
        super().__init__(message, transient=False, code="42501")
        self.organization = organization
        self.revoked_at = revoked_at
        self.recovery_key = recovery_key


def revoked_from(message: str | None, hint: str | None, detail: Any) -> DeviceRevoked | None:
    """The refusal a revoked device gets (hint ``showdesk:device-revoked``), else None."""
    if hint != REVOKED_HINT:
        return None
    info: Any = detail
    if isinstance(detail, str):
        try:
            info = json.loads(detail)
        except json.JSONDecodeError:
            info = {}
    if not isinstance(info, dict):
        info = {}

    def text(key: str) -> str | None:
        value = info.get(key)
        return str(value)[:200] if isinstance(value, str) and value else None

    return DeviceRevoked(
        (message or "This kiosk was removed from its organization.")[:300],
        organization=text("organization"),
        revoked_at=text("revoked_at"),
        recovery_key=text("recovery_key"),
    )


@dataclass
class PullPage:
    changes: list[dict[str, Any]]
    cursor: str
    has_more: bool
    reset: bool = False
    server_time: datetime | None = None


@dataclass
class PushResult:
    mutation_id: str
    status: str  # applied / duplicate / conflict / rejected
    version: int | None = None
    reason: str | None = None
    server_row: dict[str, Any] | None = None
    original_status: str | None = None  # for a duplicate: what the first delivery got


@dataclass
class ProbeResult:
    reachable: bool
    server_time: datetime | None = None
    error: str | None = None


@dataclass
class ServerInfo:
    """What the server says about itself: which platform bridges are active (none: standalone)."""

    bridges: list[str]


def _server_info(data: Any) -> ServerInfo:
    if isinstance(data, str):
        data = json.loads(data)
    if not isinstance(data, dict) or not isinstance(data.get("bridges", []), list):
        raise SyncError(
            "The sync server sent an answer Showdesk does not understand.", transient=True
        )
    return ServerInfo([str(b) for b in data.get("bridges", [])])


class Backend(Protocol):
    name: str

    def pull(self, event_id: str, cursor: str, limit: int) -> PullPage: ...

    def push(self, device_id: str, mutations: list[dict[str, Any]]) -> list[PushResult]: ...

    def probe(self) -> ProbeResult: ...

    def register_device(self, name: str, gate: str) -> str: ...

    def server_info(self) -> ServerInfo: ...

    def close(self) -> None: ...


# --- error classification -------------------------------------------------------------------

_TRANSIENT_SQLSTATES = {"40001", "40P01", "57P01", "57P02", "57P03", "53300", "53400", "08000"}
_TRANSIENT_HTTP = {"408", "425", "429", "500", "502", "503", "504", "520", "521", "522", "524"}
# PostgREST: JWT expired / invalid auth header — solved by signing in again, so retry later.
_AUTH_PGRST = {"PGRST301", "PGRST302", "PGRST303"}
_PERMANENT_SQLSTATE_CLASSES = ("22", "23", "42", "P0")


def classify(code: str | None, message: str = "") -> bool:
    """True when a failure with this SQLSTATE / PostgREST / HTTP ``code`` is worth retrying.

    Unknown failures count as transient: holding a change back costs a retry, dropping it
    would lose a scan.
    """
    if not code:
        text = message.lower()
        return not any(w in text for w in ("invalid input", "violates", "permission denied"))
    code = str(code).strip().upper()
    if code in _TRANSIENT_SQLSTATES or code.startswith("08") or code.startswith("53"):
        return True
    if code in _TRANSIENT_HTTP or (code.isdigit() and len(code) == 3 and code.startswith("5")):
        return True
    if code in _AUTH_PGRST or code == "401":
        return True
    if code == "42501":  # insufficient privilege / row level security
        return False
    if code.startswith(_PERMANENT_SQLSTATE_CLASSES):
        return False
    if code.startswith("PGRST"):
        # PGRST0xx: connection to the database; PGRST1xx: bad request; PGRST2xx: schema.
        return code.startswith("PGRST0")
    if code.isdigit() and len(code) == 3 and code.startswith("4"):
        return False
    return True


def _push_results(data: Any) -> list[PushResult]:
    if isinstance(data, str):
        data = json.loads(data)
    results = (data or {}).get("results") or []
    return [
        PushResult(
            mutation_id=str(r["mutation_id"]),
            status=str(r["status"]),
            version=r.get("version"),
            reason=r.get("reason"),
            server_row=r.get("server_row"),
            original_status=r.get("original_status"),
        )
        for r in results
    ]


def _pull_page(data: Any) -> PullPage:
    if isinstance(data, str):
        data = json.loads(data)
    if not isinstance(data, dict):
        raise SyncError("The server sent an answer Showdesk does not understand.", transient=True)
    server_time = None
    if data.get("server_time"):
        from app.store.types import parse_utc

        server_time = parse_utc(str(data["server_time"]))
    return PullPage(
        changes=list(data.get("changes") or []),
        cursor=data.get("cursor") or "",
        has_more=bool(data.get("has_more")),
        reset=bool(data.get("reset")),
        server_time=server_time,
    )


# --- direct PostgreSQL --------------------------------------------------------------------


class PostgresBackend:
    """A direct connection that behaves like PostgREST: ``SET LOCAL ROLE`` plus JWT claims.

    One connection, reopened after any failure; every call is one transaction.
    """

    name = "postgres"
    connect_timeout: float = CONNECT_TIMEOUT_SECONDS

    def __init__(
        self,
        dsn: str,
        role: str = "authenticated",
        claims: dict | None = None,
        *,
        timeout: float = PUSH_TIMEOUT_SECONDS,
    ) -> None:
        self.dsn = dsn
        self.role = role
        self.claims = dict(claims or {})
        self.claims.setdefault("role", role)
        self.timeout = timeout
        self._conn = None
        self._lock = threading.Lock()

    def _connect(self):
        import psycopg

        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(
                self.dsn,
                connect_timeout=max(1, round(self.connect_timeout)),
                options=f"-c statement_timeout={int(self.timeout * 1000)}",
                # TCP keepalives: a cut cable is noticed instead of hanging forever.
                keepalives=1,
                keepalives_idle=5,
                keepalives_interval=2,
                keepalives_count=2,
            )
        return self._conn

    def _call(self, sql: str, params: tuple, *, whole_row: bool = False) -> Any:
        import psycopg
        from psycopg import sql as pgsql

        with self._lock:
            try:
                conn = self._connect()
                with conn.transaction(), conn.cursor() as cur:
                    cur.execute(pgsql.SQL("SET LOCAL ROLE {}").format(pgsql.Identifier(self.role)))
                    cur.execute(
                        "select set_config('request.jwt.claims', %s, true)",
                        (json.dumps(self.claims),),
                    )
                    cur.execute(sql, params)
                    row = cur.fetchone()
                if whole_row:
                    return row
                return row[0] if row else None
            except psycopg.Error as exc:
                self._drop_if_broken()
                code = getattr(exc, "sqlstate", None)
                diag = getattr(exc, "diag", None)
                revoked = revoked_from(
                    getattr(diag, "message_primary", None),
                    getattr(diag, "message_hint", None),
                    getattr(diag, "message_detail", None),
                )
                if revoked is not None:
                    raise revoked from exc
                if isinstance(exc, psycopg.OperationalError) and code is None:
                    raise SyncError("Cannot reach the sync server.", transient=True) from exc
                raise SyncError(
                    _pg_message(exc), transient=classify(code, str(exc)), code=code
                ) from exc
            except OSError as exc:
                self._drop_if_broken()
                raise SyncError("Cannot reach the sync server.", transient=True) from exc

    def _drop_if_broken(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - closing a broken socket may fail any way
                pass

    def pull(self, event_id: str, cursor: str, limit: int) -> PullPage:
        data, server_time = self._call(
            "select public.showdesk_sync_pull(%s::uuid, %s, %s), now()",
            (event_id, cursor or "", limit),
            whole_row=True,
        )
        page = _pull_page(data)
        page.server_time = page.server_time or server_time.astimezone(UTC)
        return page

    def push(self, device_id: str, mutations: list[dict[str, Any]]) -> list[PushResult]:
        from psycopg.types.json import Jsonb

        data = self._call(
            "select public.showdesk_sync_push(%s::uuid, %s)", (device_id, Jsonb(mutations))
        )
        return _push_results(data)

    def relay_push(
        self, device_id: str, mutations: list[dict[str, Any]], role: str | None = None
    ) -> list[PushResult]:
        """A venue hub forwards its kiosk ``device_id``'s mutations (migrations/supabase/0024);
        ``role`` is the one the hub gave the kiosk (the server prefers its enrolled role)."""
        from psycopg.types.json import Jsonb

        data = self._call(
            "select public.showdesk_relay_push(%s::uuid, %s, %s)",
            (device_id, Jsonb(mutations), role),
        )
        return _push_results(data)

    def register_device(self, name: str, gate: str) -> str:
        data = self._call("select public.showdesk_register_device(%s, %s)", (name, gate))
        if isinstance(data, str):
            data = json.loads(data)
        return str(data["device_id"])

    def server_info(self) -> ServerInfo:
        return _server_info(self._call("select public.showdesk_server_info()", ()))

    # --- enrolment (migrations/supabase/0021; app/sync/enrolment.py is the caller) ---------

    def create_enrolment(
        self, event_id: str, role: str, gate: str | None, device_name: str
    ) -> dict[str, Any]:
        return _json_object(
            self._call(
                "select public.showdesk_create_enrolment(%s::uuid, %s, %s, %s)",
                (event_id, role, gate, device_name),
            )
        )

    def revoke_enrolment(self, enrolment_id: str) -> dict[str, Any]:
        return _json_object(
            self._call("select public.showdesk_revoke_enrolment(%s::uuid)", (enrolment_id,))
        )

    def enrol(self, code: str) -> dict[str, Any]:
        return _json_object(self._call("select public.showdesk_enrol(%s)", (code,)))

    def probe(self) -> ProbeResult:
        try:
            value = self._call("select now()", ())
        except SyncError as exc:
            return ProbeResult(False, error=str(exc))
        return ProbeResult(True, server_time=value.astimezone(UTC))

    def close(self) -> None:
        with self._lock:
            self._drop_if_broken()


def _pg_message(exc: Exception) -> str:
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) or str(exc).splitlines()[0]
    return f"The server refused the change: {primary}"


# --- Supabase over HTTPS ------------------------------------------------------------------


@dataclass
class _Session:
    access_token: str
    refresh_token: str
    expires_at: float


class SupabaseBackend:
    """supabase-py: Auth (email + password) for the session, PostgREST RPC for the calls.

    The session is refreshed a minute before it expires, and again when the server says the
    token expired mid-sync; the call is then repeated once.
    """

    name = "supabase"

    def __init__(
        self,
        url: str,
        anon_key: str,
        email: str | None,
        password: str | None,
        *,
        timeout: float = PUSH_TIMEOUT_SECONDS,
    ) -> None:
        self.url = url.rstrip("/")
        self.anon_key = anon_key
        self.email = email
        # None: read from the secret store (app.secrets) at the first sign-in, never from
        # the settings file
        self.password = password
        self._password_looked_up = password is not None
        self.timeout = timeout
        self._client = None
        self._session: _Session | None = None
        self._lock = threading.Lock()

    def _get_client(self):
        if self._client is None:
            import httpx
            from supabase import ClientOptions, create_client

            options = ClientOptions(
                httpx_client=httpx.Client(
                    timeout=httpx.Timeout(self.timeout, connect=CONNECT_TIMEOUT_SECONDS)
                ),
                postgrest_client_retry=False,  # we retry ourselves, with backoff
                auto_refresh_token=False,
                persist_session=False,
            )
            try:
                self._client = create_client(self.url, self.anon_key, options=options)
            except Exception as exc:  # noqa: BLE001 - bad URL or key: a settings problem
                raise SyncError(
                    f"The Supabase settings are not usable: {exc}", transient=False
                ) from exc
        return self._client

    def _stored_password(self) -> str | None:
        """The sign-in password: the one given, else the secret store's (looked up once)."""
        if not self._password_looked_up and self.email:
            from app.secrets import SUPABASE_PASSWORD, SecretStore, SecretsUnavailable

            try:
                self.password = SecretStore.default().get(SUPABASE_PASSWORD)
            except SecretsUnavailable as exc:  # a locked keyring: said, tried again next round
                raise SyncError(str(exc), transient=True, code="secrets") from exc
            self._password_looked_up = True
        return self.password

    def _sign_in(self) -> None:
        client = self._get_client()
        password = self._stored_password()
        if not (self.email and password):
            return  # anon key only (reads nothing private, but lets probe work)
        try:
            response = client.auth.sign_in_with_password(
                {"email": self.email, "password": password}
            )
        except Exception as exc:  # noqa: BLE001
            raise _auth_error(exc) from exc
        self._remember(response.session)

    def _remember(self, session) -> None:
        if session is None:
            raise SyncError("Sign-in to the sync server failed.", transient=True)
        expires_at = session.expires_at or (time.time() + (session.expires_in or 3600))
        self._session = _Session(session.access_token, session.refresh_token, float(expires_at))

    def _refresh(self) -> None:
        client = self._get_client()
        if self._session is None:
            self._sign_in()
            return
        try:
            response = client.auth.refresh_session(self._session.refresh_token)
            self._remember(response.session)
        except Exception:  # noqa: BLE001 - refresh token gone: sign in from scratch
            self._session = None
            self._sign_in()

    def _ensure_session(self) -> None:
        if self.email and self._stored_password():
            if self._session is None:
                self._sign_in()
            elif self._session.expires_at - time.time() < 60:
                self._refresh()

    def _rpc(self, name: str, params: dict[str, Any]) -> Any:
        with self._lock:
            for attempt in (1, 2):
                self._ensure_session()
                try:
                    return self._get_client().rpc(name, params).execute().data
                except Exception as exc:  # noqa: BLE001 - classified below
                    error = _http_error(exc)
                    if attempt == 1 and error.code in (*_AUTH_PGRST, "401"):
                        self._refresh()  # expired JWT mid-sync: refresh and go on
                        continue
                    raise error from exc
        raise AssertionError("unreachable")

    def pull(self, event_id: str, cursor: str, limit: int) -> PullPage:
        return _pull_page(
            self._rpc(
                "showdesk_sync_pull",
                {"p_event_id": event_id, "p_cursor": cursor or "", "p_limit": limit},
            )
        )

    def push(self, device_id: str, mutations: list[dict[str, Any]]) -> list[PushResult]:
        return _push_results(
            self._rpc("showdesk_sync_push", {"p_device_id": device_id, "p_mutations": mutations})
        )

    def relay_push(
        self, device_id: str, mutations: list[dict[str, Any]], role: str | None = None
    ) -> list[PushResult]:
        """A venue hub forwards its kiosk ``device_id``'s mutations (migrations/supabase/0024)."""
        return _push_results(
            self._rpc(
                "showdesk_relay_push",
                {"p_device_id": device_id, "p_mutations": mutations, "p_role": role},
            )
        )

    def register_device(self, name: str, gate: str) -> str:
        data = self._rpc("showdesk_register_device", {"p_name": name, "p_gate": gate})
        if isinstance(data, str):
            data = json.loads(data)
        return str(data["device_id"])

    def server_info(self) -> ServerInfo:
        return _server_info(self._rpc("showdesk_server_info", {}))

    # --- enrolment (migrations/supabase/0021; app/sync/enrolment.py is the caller) ---------

    def create_enrolment(
        self, event_id: str, role: str, gate: str | None, device_name: str
    ) -> dict[str, Any]:
        return _json_object(
            self._rpc(
                "showdesk_create_enrolment",
                {
                    "p_event_id": event_id,
                    "p_role": role,
                    "p_gate": gate,
                    "p_device_name": device_name,
                },
            )
        )

    def revoke_enrolment(self, enrolment_id: str) -> dict[str, Any]:
        return _json_object(
            self._rpc("showdesk_revoke_enrolment", {"p_enrolment_id": enrolment_id})
        )

    def enrol(self, code: str) -> dict[str, Any]:
        return _json_object(self._rpc("showdesk_enrol", {"p_code": code}))

    def probe(self) -> ProbeResult:
        """Any HTTP answer from the server means it is reachable; its Date header gives its time."""
        import httpx

        try:
            response = httpx.get(
                f"{self.url}/rest/v1/",
                headers={"apikey": self.anon_key},
                timeout=CONNECT_TIMEOUT_SECONDS,
            )
        except httpx.HTTPError as exc:
            return ProbeResult(False, error=f"Cannot reach the sync server ({type(exc).__name__}).")
        server_time = None
        if response.headers.get("date"):
            try:
                server_time = parsedate_to_datetime(response.headers["date"]).astimezone(UTC)
            except (TypeError, ValueError):
                server_time = None
        return ProbeResult(response.status_code < 500, server_time=server_time)

    def close(self) -> None:
        self._client = None


def _http_error(exc: Exception) -> SyncError:
    import httpx
    from postgrest.exceptions import APIError

    if isinstance(exc, SyncError):
        return exc
    if isinstance(exc, httpx.TimeoutException):
        return SyncError("The sync server did not answer in time.", transient=True, code="timeout")
    if isinstance(exc, (httpx.TransportError, OSError)):
        return SyncError("Cannot reach the sync server.", transient=True, code="network")
    if isinstance(exc, APIError):
        code = exc.code
        text = exc.message or ""
        revoked = revoked_from(text, exc.hint, exc.details)
        if revoked is not None:
            return revoked
        if code is None and "jwt expired" in text.lower():
            code = "PGRST303"
        return SyncError(
            f"The server refused the request: {text}".strip(),
            transient=classify(code, text),
            code=code,
        )
    if isinstance(exc, (ValueError, json.JSONDecodeError)):
        return SyncError(
            "The sync server sent an answer Showdesk does not understand.",
            transient=True,
            code="bad-response",
        )
    return SyncError(f"Sync failed: {exc}", transient=True)


def _auth_error(exc: Exception) -> SyncError:
    import httpx

    status = getattr(exc, "status", None)
    if (
        isinstance(exc, (httpx.TransportError, OSError))
        or type(exc).__name__ == "AuthRetryableError"
    ):
        return SyncError("Cannot reach the sync server to sign in.", transient=True, code="network")
    if status in (400, 401, 403, 422):
        return SyncError(
            "The sync server refused this kiosk's sign-in. Check supabase_email in the "
            "settings and the password kept in the secret store ('showdesk doctor' says where).",
            transient=True,
            code=str(status),
        )
    return SyncError(f"Sign-in to the sync server failed: {exc}", transient=True)


def _json_object(data: Any) -> dict[str, Any]:
    if isinstance(data, str):
        data = json.loads(data)
    if not isinstance(data, dict):
        raise SyncError(
            "The sync server sent an answer Showdesk does not understand.",
            transient=True,
            code="bad-response",
        )
    return data


class KioskSupabaseBackend(SupabaseBackend):
    """A kiosk enrolled with a code (migrations/supabase/0021): no e-mail, no password.

    The kiosk's credential is the refresh token of its own anonymous Supabase auth user.
    Supabase rotates it at every refresh; each new one goes to ``on_refresh_token`` (store it
    in the keyring there). Until the new token has been used once, Supabase answers the
    previous one too (with the same new token), so a kiosk that stopped before storing the new
    token comes back with the old one: rotation is offline-safe.
    """

    def __init__(
        self,
        url: str,
        anon_key: str,
        refresh_token: str | None = None,
        *,
        on_refresh_token: Callable[[str], None] | None = None,
        timeout: float = PUSH_TIMEOUT_SECONDS,
    ) -> None:
        super().__init__(url, anon_key, None, None, timeout=timeout)
        self.refresh_token = refresh_token
        self.on_refresh_token = on_refresh_token

    def sign_in_anonymously(self) -> str:
        """A new anonymous auth user for this kiosk (enrolment's first step); its id."""
        client = self._get_client()
        with self._lock:
            try:
                response = client.auth.sign_in_anonymously()
            except Exception as exc:  # noqa: BLE001 - classified below
                raise _auth_error(exc) from exc
            self._remember(response.session)
            return str(response.user.id) if response.user is not None else ""

    def _sign_in(self) -> None:
        if not self.refresh_token:
            return  # not enrolled yet: the anon key only
        client = self._get_client()
        try:
            response = client.auth.refresh_session(self.refresh_token)
        except Exception as exc:  # noqa: BLE001 - classified below
            if isinstance(exc, _network_errors()) or type(exc).__name__ == "AuthRetryableError":
                raise _auth_error(exc) from exc
            # transient for the engine (never set a scan aside for it), but said plainly
            raise SyncError(
                "The sync server no longer accepts this kiosk's credential: enrol it again "
                "with a new code from the organizer.",
                transient=True,
                code="credential-refused",
            ) from exc
        self._remember(response.session)

    def _remember(self, session) -> None:
        super()._remember(session)
        token = self._session.refresh_token if self._session is not None else None
        if token and token != self.refresh_token:
            self.refresh_token = token
            if self.on_refresh_token is not None:
                self.on_refresh_token(token)

    def _refresh(self) -> None:
        self._session = None
        self._sign_in()

    def _ensure_session(self) -> None:
        if self._session is None:
            self._sign_in()
        elif self._session.expires_at - time.time() < 60:
            self._refresh()


def _network_errors() -> tuple[type[BaseException], ...]:
    import httpx

    return (httpx.TransportError, OSError)
