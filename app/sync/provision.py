"""Setting up a kiosk from a provisioning code (QR or text).

The code is JSON: ``{"v":1,"url":"https://x.supabase.co","key":"<anon key>","token":"<jwt>",
"email":..., "password":..., "event_id":..., "name":..., "gate":...}`` (``v``, ``url``, ``key``
and ``token`` required). The kiosk registers itself with ``register_device`` using the token
and writes its settings file, so the next start syncs that event. The password goes to the
secret store (``app.secrets``: the OS keyring, or a file only this user can read), never to
the settings file.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.config import config_path

if TYPE_CHECKING:
    from app.secrets import SecretStore


class ProvisionProblem(Exception):
    """The code is not a usable provisioning code. ``str()`` says why."""


@dataclass
class ProvisionCode:
    url: str
    key: str
    token: str
    email: str | None = None
    password: str | None = None
    event_id: str | None = None
    name: str = "Kiosk"
    gate: str = "Main"


def parse_code(text: str) -> ProvisionCode:
    text = (text or "").strip()
    if not text:
        raise ProvisionProblem("The provisioning code is empty.")
    data: Any = None
    for candidate in (text, _unb64(text)):
        if candidate is None:
            continue
        try:
            data = json.loads(candidate)
            break
        except json.JSONDecodeError:
            continue
    if not isinstance(data, dict):
        raise ProvisionProblem("This is not a Showdesk provisioning code.")
    if data.get("v") != 1:
        raise ProvisionProblem("This provisioning code is from a newer Showdesk: update first.")
    missing = [k for k in ("url", "key", "token") if not data.get(k)]
    if missing:
        raise ProvisionProblem(f"The provisioning code is missing: {', '.join(missing)}.")
    if not str(data["url"]).startswith(("https://", "http://")):
        raise ProvisionProblem("The provisioning code's server address is not a web address.")
    return ProvisionCode(
        url=str(data["url"]),
        key=str(data["key"]),
        token=str(data["token"]),
        email=data.get("email"),
        password=data.get("password"),
        event_id=data.get("event_id"),
        name=str(data.get("name") or "Kiosk"),
        gate=str(data.get("gate") or "Main"),
    )


def _unb64(text: str) -> str | None:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None


def register(code: ProvisionCode, timeout: float = 15.0) -> str:
    """Call ``register_device`` with the code's token; returns the new device id."""
    import httpx

    try:
        response = httpx.post(
            f"{code.url.rstrip('/')}/rest/v1/rpc/showdesk_register_device",
            json={"p_name": code.name, "p_gate": code.gate},
            headers={"apikey": code.key, "Authorization": f"Bearer {code.token}"},
            timeout=timeout,
        )
    except httpx.HTTPError as exc:
        raise ProvisionProblem(
            "Cannot reach the server in the provisioning code. Check the network and try again."
        ) from exc
    if response.status_code in (401, 403):
        raise ProvisionProblem(
            "The server refused this provisioning code: it has expired or "
            "was revoked. Ask for a new one."
        )
    if response.status_code >= 400:
        raise ProvisionProblem(
            "The server could not register this kiosk. Ask for a new provisioning code."
        )
    data = response.json()
    if isinstance(data, str):
        data = json.loads(data)
    return str(data["device_id"])


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(str(value))  # a JSON string is a valid TOML basic string


def write_config(code: ProvisionCode, device_id: str, path: Path | None = None) -> Path:
    path = path or config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    values: dict[str, Any] = {
        "backend": "supabase",
        "supabase_url": code.url,
        "supabase_key": code.key,
        "device_name": code.name,
        "gate": code.gate,
    }
    if code.email:
        values["supabase_email"] = code.email
    if code.event_id:
        values["event_id"] = code.event_id
    lines = [
        f"# Written by 'showdesk provision' for device {device_id}. The sign-in password is",
        "# kept in the secret store ('showdesk doctor' says where), never in this file.",
        "[showdesk]",
    ]
    lines += [f"{k} = {_toml_value(v)}" for k, v in values.items()]
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.chmod(0o600)  # no secret in it, but whose kiosk this is is nobody else's business
    tmp.replace(path)
    return path


@dataclass(frozen=True)
class Provisioned:
    code: ProvisionCode
    device_id: str
    config_file: Path


def provision(text: str | None) -> Provisioned:
    """Register this kiosk with the code's server, write its settings and remember its
    identity in the replica. Raises ProvisionProblem (a sentence) when it cannot."""
    if not text:
        raise ProvisionProblem("Give the provisioning code as text, or --image with its QR.")
    code = parse_code(text)
    store = _secret_store(code)  # a locked keyring stops here, before the server knows us
    device = register(code)
    if store is not None and code.password:
        _keep_password(store, code.password)
    path = write_config(code, device)
    _remember_identity(device, code.event_id)
    return Provisioned(code, device, path)


def _secret_store(code: ProvisionCode) -> SecretStore | None:
    """The store the code's password will go to, once it is known to answer (one read), so a
    locked keyring is said before registering; None when the code has no password."""
    from app.secrets import SUPABASE_PASSWORD, SecretStore, SecretsUnavailable

    if not code.password:
        return None
    store = SecretStore.default()
    try:
        store.get(SUPABASE_PASSWORD)
    except SecretsUnavailable as exc:
        raise ProvisionProblem(f"{exc} The kiosk was not set up.") from exc
    return store


def _keep_password(store: SecretStore, password: str) -> None:
    """The code's sign-in password into the secret store, replacing an older one."""
    from app.secrets import SUPABASE_PASSWORD, SecretsUnavailable

    try:
        store.set(SUPABASE_PASSWORD, password)
    except SecretsUnavailable as exc:
        raise ProvisionProblem(
            f"The kiosk was registered but its password could not be kept: {exc} Ask for a "
            "new provisioning code once the keyring is unlocked."
        ) from exc


def _remember_identity(device: str, event_id: str | None) -> None:
    """The replica's device id becomes the registered one (scans carry it)."""
    from app.config import load_config
    from app.store.db import open_database, set_meta

    db = open_database(load_config().db)
    try:
        with db.session() as session:
            set_meta(session, "device_id", device)
            if event_id:
                set_meta(session, "event_id", event_id)
    finally:
        db.close()
