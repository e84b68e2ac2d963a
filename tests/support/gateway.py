"""A small PostgREST/GoTrue-compatible HTTP gateway in front of a test database.

It is a test fixture, not product code: it does for an RPC call what Supabase's API does,
so the HTTP leg of the sync engine (supabase-py) runs against the real SQL functions.

PostgREST part — ``POST /rest/v1/rpc/<function>``:
- requires an ``apikey`` header holding a key signed with the project's JWT secret (as
  Supabase's API gateway does), takes ``Authorization: Bearer <jwt>`` (or the apikey when
  absent), verifies it (HS256): an expired token gets 401 ``{"code": "PGRST301",
  "message": "JWT expired"}``;
- in one transaction: ``set_config('role', <role claim>, true)`` (the same as SET LOCAL ROLE)
  and ``set_config('request.jwt.claims', <claims>, true)``; STABLE/IMMUTABLE functions run in
  a READ ONLY transaction;
- calls the function with named arguments from the JSON body, the way PostgREST does
  (``fn(a := _.a) FROM json_to_record($1) AS _(a <type>)``), and returns its JSON;
- maps PostgreSQL errors to PostgREST's HTTP statuses and JSON bodies
  (``{"code", "details", "hint", "message"}``), e.g. 42501 → 401 for anon / 403 otherwise,
  23505/23503 → 409, 40xxx → 500, 53xxx/08xxx → 503, P0001 and the rest → 400;
  an unknown function → 404 PGRST202.

GoTrue part — enough for supabase-py's ``auth.sign_in_with_password``, refresh and
``get_user``: ``POST /auth/v1/token?grant_type=password|refresh_token``, ``GET /auth/v1/user``,
``POST /auth/v1/logout``. Users are created by tests with ``create_user``; their
``app_metadata`` carries ``organization_id``, ``staff_role`` and ``device_id``.

Anonymous sign-in (``auth.sign_in_anonymously``, what an enrolling kiosk does, 0021):
``POST /auth/v1/signup`` with no e-mail or phone makes a new user with ``is_anonymous`` true,
``app_metadata`` ``{"provider": "anonymous", "providers": ["anonymous"]}`` and no organization,
and answers with a session. With ``anonymous_sign_ins = False`` (the project setting "Allow
anonymous sign-ins" off, Supabase's default) it answers 422 ``anonymous_provider_disabled``. An
e-mail or phone sign-up is refused (422 ``signup_disabled``): tests create such users with
``create_user``.

Refresh tokens rotate as GoTrue's do (refresh token rotation on, reuse interval 0): a token is
used once and answered with its child; the *parent of the active token* may be used again and
is answered with that same active token (a client that did not store its last refresh can
still come back), and any older token is refused (400 ``refresh_token_already_used``) and
revokes the whole session's tokens (reuse detection).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import jwt
import psycopg

from tests.support.pg import TEST_JWT_SECRET, SupabaseDB, make_claims

API_VERSION = "2024-01-01"


def postgrest_status(sqlstate: str, role: str) -> int:
    """PostgREST's HTTP status for a PostgreSQL error code (docs: references/errors)."""
    if sqlstate == "42501":
        return 401 if role == "anon" else 403
    exact = {
        "23503": 409,
        "23505": 409,
        "25006": 405,
        "53400": 500,
        "P0001": 400,
        "42883": 404,
        "42P01": 404,
        "42P17": 500,
    }
    if sqlstate in exact:
        return exact[sqlstate]
    prefixes = {
        "08": 503,
        "09": 500,
        "0L": 403,
        "0P": 403,
        "25": 500,
        "28": 403,
        "2D": 500,
        "38": 500,
        "39": 500,
        "3B": 500,
        "40": 500,
        "53": 503,
        "54": 500,
        "55": 500,
        "57": 500,
        "58": 500,
        "F0": 500,
        "HV": 500,
        "P0": 500,
        "XX": 500,
    }
    return prefixes.get(sqlstate[:2], 400)


class GatewayError(Exception):
    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        super().__init__(body.get("message") or body.get("msg"))
        self.status = status
        self.body = body
        self.headers = headers or {}


def _pgrst(
    code: str, message: str, details: str | None = None, hint: str | None = None
) -> dict[str, Any]:
    return {"code": code, "details": details, "hint": hint, "message": message}


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


@dataclass
class GatewayUser:
    id: str
    email: str
    password: str
    app_metadata: dict[str, Any]
    created_at: float = field(default_factory=time.time)
    is_anonymous: bool = False

    def as_json(self, last_sign_in: float | None = None) -> dict[str, Any]:
        return {
            "id": self.id,
            "aud": "authenticated",
            "role": "authenticated",
            "email": self.email,
            "email_confirmed_at": _iso(self.created_at),
            "confirmed_at": _iso(self.created_at),
            "phone": "",
            "app_metadata": self.app_metadata,
            "user_metadata": {},
            "identities": [],
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.created_at),
            "last_sign_in_at": _iso(last_sign_in or time.time()),
            "is_anonymous": self.is_anonymous,
        }


class Gateway:
    """The gateway for one database. ``start()``, then talk HTTP to ``url``; ``stop()``."""

    def __init__(
        self, db: SupabaseDB, *, secret: str = TEST_JWT_SECRET, access_token_ttl: int = 3600
    ):
        self.db = db
        self.secret = secret
        self.access_token_ttl = access_token_ttl
        now = int(time.time())
        self.anon_key = jwt.encode(
            {"role": "anon", "iss": "supabase", "iat": now, "exp": now + 10 * 365 * 86400},
            secret,
            algorithm="HS256",
        )
        self.service_key = jwt.encode(
            {"role": "service_role", "iss": "supabase", "iat": now, "exp": now + 10 * 365 * 86400},
            secret,
            algorithm="HS256",
        )
        self.users: dict[str, GatewayUser] = {}
        self._refresh_tokens: dict[str, str] = {}  # token -> user id (rotated on use)
        self._used_refresh_tokens: dict[str, tuple[str, str]] = {}  # token -> (user id, child)
        self._lock = threading.Lock()
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status) — for assertions
        self.forced_status: int | None = None  # set to e.g. 503 to simulate an outage
        self.anonymous_sign_ins = True  # Supabase's "Allow anonymous sign-ins"
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "gateway not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        gateway = self

        class Handler(_Handler):
            gw = gateway

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="test-gateway", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # --- users and tokens -----------------------------------------------------------------

    def create_user(
        self,
        email: str,
        password: str = "correct horse battery staple",
        *,
        organization_id: str | None,
        staff_role: str = "door",
        device_id: str | None = None,
        user_id: str | None = None,
    ) -> GatewayUser:
        app_metadata: dict[str, Any] = {
            "provider": "email",
            "providers": ["email"],
            "staff_role": staff_role,
        }
        if organization_id is not None:
            app_metadata["organization_id"] = str(organization_id)
        if device_id is not None:
            app_metadata["device_id"] = str(device_id)
        # a device's account is the device id unless told otherwise (0017's binding by id)
        user = GatewayUser(
            str(user_id or device_id or uuid.uuid4()), email.lower(), password, app_metadata
        )
        with self._lock:
            self.users[user.email] = user
        return user

    def create_anonymous_user(self) -> GatewayUser:
        """A user like GoTrue's anonymous sign-in makes: no e-mail, no organization."""
        user = GatewayUser(
            str(uuid.uuid4()),
            "",
            "",
            {"provider": "anonymous", "providers": ["anonymous"]},
            is_anonymous=True,
        )
        with self._lock:
            self.users[f"anonymous:{user.id}"] = user
        return user

    def access_token(self, user: GatewayUser, expires_in: int | None = None) -> str:
        ttl = self.access_token_ttl if expires_in is None else expires_in
        claims = make_claims(
            organization_id=user.app_metadata.get("organization_id"),
            staff_role=user.app_metadata.get("staff_role"),
            device_id=user.app_metadata.get("device_id"),
            sub=user.id,
            email=user.email,
            expires_in=ttl,
        )
        claims["app_metadata"] = dict(user.app_metadata)
        claims["is_anonymous"] = user.is_anonymous
        if user.is_anonymous:
            claims["email"] = ""
        claims["session_id"] = str(uuid.uuid4())
        claims["iss"] = self.url + "/auth/v1"
        return jwt.encode(claims, self.secret, algorithm="HS256")

    def session_for(self, user: GatewayUser, refresh: str | None = None) -> dict[str, Any]:
        """A session for ``user``: a new refresh token, or ``refresh`` (already issued) again."""
        if refresh is None:
            refresh = secrets.token_urlsafe(24)
            with self._lock:
                self._refresh_tokens[refresh] = user.id
        now = int(time.time())
        return {
            "access_token": self.access_token(user),
            "token_type": "bearer",
            "expires_in": self.access_token_ttl,
            "expires_at": now + self.access_token_ttl,
            "refresh_token": refresh,
            "user": user.as_json(),
        }

    def rpc(self, function: str, args: dict[str, Any], token: str | None = None) -> tuple[int, Any]:
        """Call ``function`` over HTTP like supabase-py would; returns (status, parsed body)."""
        import httpx

        headers = {"apikey": self.anon_key, "Authorization": f"Bearer {token or self.anon_key}"}
        response = httpx.post(
            f"{self.url}/rest/v1/rpc/{function}", json=args, headers=headers, timeout=30
        )
        try:
            body = response.json()
        except ValueError:
            body = response.text
        return response.status_code, body

    # --- request handling (called on server threads) ---------------------------------------

    def verify(self, token: str) -> dict[str, Any]:
        try:
            return jwt.decode(
                token, self.secret, algorithms=["HS256"], options={"verify_aud": False}
            )
        except jwt.ExpiredSignatureError as exc:
            raise GatewayError(
                401,
                _pgrst("PGRST301", "JWT expired"),
                {
                    "WWW-Authenticate": 'Bearer error="invalid_token", error_description="JWT expired"'
                },
            ) from exc
        except jwt.InvalidTokenError as exc:
            raise GatewayError(
                401,
                _pgrst("PGRST301", f"JWT invalid: {exc}"),
                {
                    "WWW-Authenticate": 'Bearer error="invalid_token", error_description="JWT invalid"'
                },
            ) from exc

    def check_apikey(self, headers) -> None:
        key = headers.get("apikey")
        if not key:
            raise GatewayError(
                401,
                {
                    "message": "No API key found in request",
                    "hint": "No `apikey` request header or url param was found.",
                },
            )
        try:
            jwt.decode(key, self.secret, algorithms=["HS256"], options={"verify_aud": False})
        except jwt.InvalidTokenError as exc:
            raise GatewayError(
                401,
                {
                    "message": "Invalid API key",
                    "hint": "Double check your Supabase `anon` or `service_role` API key.",
                },
            ) from exc

    def call_rpc(self, function: str, headers, body: bytes) -> Any:
        self.check_apikey(headers)
        auth = headers.get("Authorization") or ""
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else headers.get("apikey")
        claims = self.verify(token)
        role = claims.get("role") or "anon"
        try:
            args = json.loads(body or b"{}")
        except ValueError as exc:
            raise GatewayError(400, _pgrst("PGRST102", "Empty or invalid json")) from exc
        if not isinstance(args, dict):
            raise GatewayError(400, _pgrst("PGRST102", "Empty or invalid json"))
        try:
            with psycopg.connect(self.db.dsn, autocommit=False) as conn:
                params, volatile = self._signature(conn, function, set(args))
                if not volatile:
                    conn.execute("SET TRANSACTION READ ONLY")
                conn.execute(
                    "SELECT set_config('role', %s, true), set_config('request.jwt.claims', %s, true),"
                    " set_config('request.method', 'POST', true),"
                    " set_config('request.path', %s, true)",
                    (role, json.dumps(claims), f"/rpc/{function}"),
                )
                given = [(name, typ) for name, typ in params if name in args]
                call_args = ", ".join(f'"{name}" := _."{name}"' for name, _ in given)
                record = ", ".join(f'"{name}" {typ}' for name, typ in given)
                sql = f'SELECT to_jsonb(public."{function}"({call_args})) AS result'
                if given:
                    sql += f" FROM json_to_record(%s::json) AS _({record})"
                    row = conn.execute(sql, (json.dumps(args),)).fetchone()
                else:
                    row = conn.execute(sql).fetchone()
                conn.commit()
                return row[0] if row else None
        except psycopg.OperationalError as exc:
            if getattr(exc, "sqlstate", None):
                raise self._pg_error(exc, role) from exc
            raise GatewayError(
                503, _pgrst("PGRST000", "Could not connect with the database", str(exc))
            ) from exc
        except psycopg.Error as exc:
            raise self._pg_error(exc, role) from exc

    def _pg_error(self, exc: psycopg.Error, role: str) -> GatewayError:
        diag = exc.diag
        state = diag.sqlstate or "XX000"
        return GatewayError(
            postgrest_status(state, role),
            _pgrst(state, diag.message_primary or str(exc), diag.message_detail, diag.message_hint),
        )

    def _signature(
        self, conn: psycopg.Connection, function: str, given: set[str]
    ) -> tuple[list[tuple[str, str]], bool]:
        """(parameters [(name, type)], is volatile) of the overload the named args select."""
        rows = conn.execute(
            """
            SELECT coalesce(p.proargnames, '{}'::text[]) AS names,
                   ARRAY(SELECT format_type(t, NULL) FROM unnest(p.proargtypes) t) AS types,
                   p.pronargs - p.pronargdefaults AS required, p.provolatile
              FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = 'public' AND p.proname = %s
            """,
            (function,),
        ).fetchall()
        for names, types, required, volatility in rows:
            names = list(names)[: len(types)]
            if given <= set(names) and set(names[:required]) <= given:
                return list(zip(names, types, strict=True)), volatility == "v"
        arglist = ", ".join(sorted(given))
        raise GatewayError(
            404,
            _pgrst(
                "PGRST202",
                f"Could not find the function public.{function}({arglist}) in the schema cache",
                f"Searched for the function public.{function} with parameters {arglist}",
                "If a new function was created in the database with this name and parameters,"
                " try reloading the schema cache.",
            ),
        )

    # --- GoTrue ---------------------------------------------------------------------------

    def token(self, grant_type: str, headers, body: bytes) -> dict[str, Any]:
        self.check_apikey(headers)
        try:
            data = json.loads(body or b"{}")
        except ValueError as exc:
            raise GatewayError(
                400, {"code": "bad_json", "message": "Could not parse request body as JSON"}
            ) from exc
        if grant_type == "password":
            user = self.users.get(str(data.get("email") or "").lower())
            if user is None or user.password != data.get("password"):
                raise GatewayError(
                    400, {"code": "invalid_credentials", "message": "Invalid login credentials"}
                )
            return self.session_for(user)
        if grant_type == "refresh_token":
            return self._refresh(str(data.get("refresh_token") or ""))
        raise GatewayError(
            400,
            {"code": "unsupported_grant_type", "message": f"unsupported grant_type {grant_type}"},
        )

    def _refresh(self, token: str) -> dict[str, Any]:
        """GoTrue's rotation: see the module docstring."""
        again: str | None = None
        with self._lock:
            user_id = self._refresh_tokens.pop(token, None)
            child = secrets.token_urlsafe(24)
            if user_id is not None:
                self._refresh_tokens[child] = user_id
                self._used_refresh_tokens[token] = (user_id, child)
            elif token in self._used_refresh_tokens:
                user_id, active = self._used_refresh_tokens[token]
                if active in self._refresh_tokens:
                    again = active  # the parent of the active token: answered with it
                else:
                    while active in self._used_refresh_tokens:  # revoke the session's tokens
                        active = self._used_refresh_tokens[active][1]
                    self._refresh_tokens.pop(active, None)
                    raise GatewayError(
                        400,
                        {
                            "code": "refresh_token_already_used",
                            "message": "Invalid Refresh Token: Already Used",
                        },
                    )
        user = next((u for u in self.users.values() if u.id == user_id), None)
        if user is None:
            raise GatewayError(
                400,
                {
                    "code": "refresh_token_not_found",
                    "message": "Invalid Refresh Token: Refresh Token Not Found",
                },
            )
        if again is not None:
            return self.session_for(user, again)
        return self.session_for(user, child)

    def signup(self, headers, body: bytes) -> dict[str, Any]:
        """Anonymous sign-in (no e-mail, no phone); other sign-ups are refused."""
        self.check_apikey(headers)
        try:
            data = json.loads(body or b"{}")
        except ValueError as exc:
            raise GatewayError(
                400, {"code": "bad_json", "message": "Could not parse request body as JSON"}
            ) from exc
        if not isinstance(data, dict):
            raise GatewayError(
                400, {"code": "bad_json", "message": "Could not parse request body as JSON"}
            )
        if data.get("email") or data.get("phone") or data.get("password"):
            raise GatewayError(422, {"code": "signup_disabled", "message": "Signups not allowed"})
        if not self.anonymous_sign_ins:
            raise GatewayError(
                422,
                {
                    "code": "anonymous_provider_disabled",
                    "message": "Anonymous sign-ins are disabled",
                },
            )
        return self.session_for(self.create_anonymous_user())

    def get_user(self, headers) -> dict[str, Any]:
        self.check_apikey(headers)
        auth = headers.get("Authorization") or ""
        try:
            claims = jwt.decode(
                auth[7:].strip(), self.secret, algorithms=["HS256"], options={"verify_aud": False}
            )
        except jwt.InvalidTokenError as exc:
            raise GatewayError(403, {"code": "bad_jwt", "message": f"invalid JWT: {exc}"}) from exc
        user = next((u for u in self.users.values() if u.id == claims.get("sub")), None)
        if user is None:
            raise GatewayError(
                403,
                {"code": "user_not_found", "message": "User from sub claim in JWT does not exist"},
            )
        return user.as_json()


class _Handler(BaseHTTPRequestHandler):
    gw: Gateway
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet test output
        pass

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        payload = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if payload:
            self.wfile.write(payload)
        self.gw.requests.append((self.command, self.path, status))

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _dispatch(self) -> None:
        body = self._body()
        url = urlparse(self.path)
        auth_headers = (
            {"X-Supabase-Api-Version": API_VERSION} if url.path.startswith("/auth/") else {}
        )
        if self.gw.forced_status is not None:
            self._send(self.gw.forced_status, {"message": "Service unavailable (simulated)"})
            return
        try:
            if url.path.startswith("/rest/v1/rpc/") and self.command == "POST":
                result = self.gw.call_rpc(url.path.rsplit("/", 1)[1], self.headers, body)
                self._send(200, result)
            elif url.path == "/auth/v1/token" and self.command == "POST":
                grant = (parse_qs(url.query).get("grant_type") or [""])[0]
                self._send(200, self.gw.token(grant, self.headers, body), auth_headers)
            elif url.path == "/auth/v1/signup" and self.command == "POST":
                self._send(200, self.gw.signup(self.headers, body), auth_headers)
            elif url.path == "/auth/v1/user" and self.command == "GET":
                self._send(200, self.gw.get_user(self.headers), auth_headers)
            elif url.path == "/auth/v1/logout" and self.command == "POST":
                self._send(204, None, auth_headers)
            elif url.path in ("/rest/v1/", "/rest/v1", "/auth/v1/health", "/health"):
                self._send(200, {"status": "ok"})
            else:
                self._send(
                    404, _pgrst("PGRST125", f"Invalid path specified in request URL: {url.path}")
                )
        except GatewayError as exc:
            self._send(exc.status, exc.body, {**auth_headers, **exc.headers})
        except Exception as exc:  # a bug in the gateway must still answer, not hang the client
            self._send(500, _pgrst("XX000", f"gateway error: {exc}"))

    do_POST = _dispatch
    do_GET = _dispatch
