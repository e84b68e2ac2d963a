"""Configuration: a TOML file in the user's config directory, overridden by SHOWDESK_* variables.

With no file and no variables, Showdesk runs on the embedded default: a local database in the
user's data directory, seeded with the demo event on first start.

Nothing here is ever ignored without a word: an unknown key in the file or an unknown SHOWDESK_*
variable is reported in ``Config.problems`` (with the setting it probably meant), and so is a
secret found in the file. Secrets (``SECRET_SETTINGS``) do not belong in the file: one found
there is moved into the secret store (``app.secrets``: the OS keyring, or a file only this user
can read) and the user is told to remove the line; the file's value is never used to sign in.
The file itself is never rewritten (see ``_move_secret``).
"""

from __future__ import annotations

import difflib
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

if TYPE_CHECKING:
    from app.secrets import SecretStore

APP_NAME = "showdesk"


def config_dir() -> Path:
    return Path(os.environ.get("SHOWDESK_CONFIG_DIR") or platformdirs.user_config_dir(APP_NAME))


def data_dir() -> Path:
    return Path(os.environ.get("SHOWDESK_DATA_DIR") or platformdirs.user_data_dir(APP_NAME))


def config_path() -> Path:
    return Path(os.environ.get("SHOWDESK_CONFIG") or config_dir() / "config.toml")


@dataclass
class Config:
    db: Path = field(default_factory=lambda: data_dir() / "showdesk.sqlite")
    event_id: str | None = None
    gate: str = "Main"
    device_name: str = "Kiosk"
    # Scanning
    camera: int = 0
    camera_enabled: bool = True
    decoders: str = "auto"  # auto, or a comma list of zxing,zbar,opencv
    debounce_seconds: float = 3.0
    sound: bool = True
    verdict_seconds: float = 4.0
    # Kiosk
    kiosk: bool = False
    # No default PIN: a kiosk with no kiosk_pin and no staff with PINs in its replica asks a
    # person to choose one at its first lock (kept hashed in the database, not in this file).
    # A secret: a kiosk_pin found in the settings file is moved into the secret store (and
    # read from there by app.ui.kiosk_lock); here only SHOWDESK_KIOSK_PIN, for this process.
    kiosk_pin: str | None = None
    # A self-service kiosk: no guest search at all while locked, only scanning.
    self_service: bool = False
    # A locked kiosk signs its staff member out after this long with no key, mouse or touch;
    # an unlocked one locks again. 0: never.
    idle_lock_seconds: float = 300.0
    # Privacy: attendees' names, emails and phones are forgotten on this device this many days
    # after their event ends (app/store/retention.py); counts and the check-in log stay. An
    # event's own number, set by its organizer (`showdesk event retention`), wins over this.
    retention_days: int = 7
    # Sync
    backend: str = "none"  # none, supabase, postgres
    supabase_url: str | None = None
    # The anon key is public by design: every client of the project carries it, and it grants
    # only what the server's row-level security lets an anonymous caller do. Not a secret.
    supabase_key: str | None = None
    supabase_email: str | None = None
    # A secret: never read from the settings file (moved into app.secrets from there); only a
    # SHOWDESK_SUPABASE_PASSWORD variable sets it, for one process. When None, the backend
    # reads it from the secret store.
    supabase_password: str | None = None
    postgres_dsn: str | None = None
    postgres_role: str = "authenticated"
    postgres_claims: str | None = None  # JSON: the JWT claims PostgREST would set (sync)
    jwt_secret: str | None = None  # a secret, like supabase_password
    # How this device signs in: "password" (supabase_email and the stored password, or the
    # postgres_claims above) or "enrolled" (the device credential it got for an enrolment
    # code, kept in the secret store: see app/sync/enrolment.py and `showdesk enrol join`).
    auth: str = "password"
    device_role: str | None = None  # enrolled: door, producer, organizer or admin
    # a kiosk joined to a venue hub (showdesk hub join): where it is and this kiosk's login;
    # the password is in the secret store (hub_password), the certificate pinned in a file
    hub_addresses: str | None = None  # comma-separated, the one that answered first
    hub_port: int = 5433
    hub_login: str | None = None
    hub_certificate: Path | None = None
    pull_interval_seconds: float = 5.0
    push_debounce_seconds: float = 0.3
    # Backstage
    quick_change_min_looks: int = 3
    call_alert_minutes: int = 10
    no_show_minutes: int = 60  # minutes after a call at which someone not arrived is a no-show

    # Problems found while loading (corrupt file, bad value): shown to the user, never fatal.
    problems: list[str] = field(default_factory=list)
    source: Path | None = None
    # Secret settings found in the settings file (names only): `doctor` says so.
    secrets_in_file: list[str] = field(default_factory=list)


# Config's own bookkeeping, not settings: never read from the file or the environment.
META_FIELDS = frozenset({"problems", "source", "secrets_in_file"})
_TYPES = {f.name: f.type for f in fields(Config)}
SETTINGS = tuple(name for name in _TYPES if name not in META_FIELDS)
# Kept in the secret store, never in the settings file.
SECRET_SETTINGS = ("supabase_password", "jwt_secret", "kiosk_pin")
# Keys an older Showdesk wrote to the file that are no longer read: accepted without a word.
# device_id: 'showdesk provision' wrote it; the registered id lives in the local database.
RETIRED_SETTINGS = frozenset({"device_id"})
# SHOWDESK_* variables that are not settings: where things are, and switches of the tools.
ENVIRONMENT_NOT_SETTINGS = frozenset(
    {
        "SHOWDESK_CONFIG",  # the settings file itself
        "SHOWDESK_CONFIG_DIR",
        "SHOWDESK_DATA_DIR",
        "SHOWDESK_LOG_DIR",  # app/logs.py
        "SHOWDESK_EXIT_WHEN_READY",  # app/ui/main.py, for `bench ui`
        "SHOWDESK_SYNC_PAUSE_BEFORE_ACK",  # app/sync/engine.py, for tests
        "SHOWDESK_WHEEL",  # tests/packaging
        "SHOWDESK_TRIM",  # packaging/showdesk.spec
        "SHOWDESK_LAUNCH_PROBE",  # packaging/showdesk.spec
        "SHOWDESK_CODESIGN_IDENTITY",  # packaging/showdesk.spec
    }
)


def _coerce(name: str, raw: Any) -> Any:
    kind = str(_TYPES[name])
    if "Path" in kind:
        return Path(str(raw)).expanduser()
    if kind.startswith("bool"):
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"expected yes/no, got {raw!r}")
    if kind.startswith("int"):
        return int(raw)
    if kind.startswith("float"):
        return float(raw)
    return None if raw in (None, "") and "None" in kind else str(raw)


def suggestion(name: str) -> str | None:
    """The setting ``name`` was probably meant to be (kiosk-pin → kiosk_pin), or None."""
    normal = name.strip().lower().replace("-", "_").replace(" ", "_")
    if normal in SETTINGS:
        return normal
    close = difflib.get_close_matches(normal, SETTINGS, n=1, cutoff=0.75)
    return close[0] if close else None


def _unknown_key(name: str, path: Path, where: str = "") -> str:
    guess = suggestion(name)
    hint = f" — did you mean '{guess}'?" if guess else "; it is not read."
    return f"Unknown setting '{name}'{where} in {path}{hint}"


def _unknown_variable(key: str) -> str:
    guess = suggestion(key[len("SHOWDESK_") :])
    hint = f" — did you mean SHOWDESK_{guess.upper()}?" if guess else "; it is not read."
    return f"Unknown environment variable {key}: no such setting{hint}"


def _file_values(loaded: dict[str, Any], path: Path, problems: list[str]) -> dict[str, Any]:
    """The settings of a parsed file (its [showdesk] table, or its top level); every key that
    is no setting goes to ``problems``."""
    table = loaded.get("showdesk")
    if isinstance(table, dict):
        values = dict(table)
        for name in loaded:
            if name != "showdesk":
                problems.append(
                    f"Setting '{name}' in {path} is outside the [showdesk] table, so it is "
                    "not read; move it under [showdesk]."
                )
    else:
        values = dict(loaded)
    for name, raw in list(values.items()):
        if name in SETTINGS and not isinstance(raw, dict):
            continue
        del values[name]
        if name in RETIRED_SETTINGS:
            continue
        if isinstance(raw, dict):
            problems.append(_unknown_key(name, path, " (a table)"))
        else:
            problems.append(_unknown_key(name, path))
    return values


def _move_secret(
    name: str, value: str, path: Path, store: SecretStore | None, problems: list[str]
) -> None:
    """A secret found in the settings file goes into the secret store, once; the file's value
    is never used to sign in.

    The file is not rewritten: it is the user's (often written by hand or by a management
    tool, maybe read-only or with comments that a rewrite would lose), and quietly editing it
    would surprise whoever keeps it. The user is told, on the status bar and by `doctor`, to
    remove the line; until then the line is reported at each start and does nothing."""
    from app.secrets import SecretStore, SecretsUnavailable, label

    where = "the secret store"
    try:
        store = store or SecretStore.default()
        where = store.where()
        kept = store.get(name)
        if kept is None:
            store.set(name, str(value))
            problems.append(
                f"The settings file {path} holds {name} ({label(name)}), a secret that does not "
                f"belong there: it was moved into {where}, where Showdesk keeps it from now on. "
                f"Remove the line '{name} = …' from the file (the file was left as it is)."
            )
        elif kept == str(value):
            problems.append(
                f"The settings file {path} still holds {name}, which is already kept in {where}; "
                f"the file's copy is not read. Remove the line '{name} = …' from the file."
            )
        else:
            problems.append(
                f"The settings file {path} holds a {name} that differs from the one kept in "
                f"{where}: the kept one is used and the file's is ignored. Remove the line "
                f"'{name} = …' from the file."
            )
    except SecretsUnavailable as exc:
        problems.append(
            f"The settings file {path} holds {name} ({label(name)}), which Showdesk no longer "
            f"reads from there, and it could not be moved into {where}: {exc} The line is "
            "ignored until then; it stays in the file."
        )


def load_config(
    path: Path | None = None, env: dict[str, str] | None = None, secrets: SecretStore | None = None
) -> Config:
    """Read the TOML file (if any) then SHOWDESK_* variables. Never raises on bad input.

    ``secrets`` is where a secret found in the file is moved (default: the user's store)."""
    env = dict(os.environ if env is None else env)
    path = path or config_path()
    config = Config()
    values: dict[str, Any] = {}
    if path.exists():
        config.source = path
        try:
            with path.open("rb") as fh:
                loaded = tomllib.load(fh)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
            config.problems.append(
                f"The settings file {path} could not be read ({exc}); using defaults. "
                "The file was left as it is."
            )
        else:
            values.update(_file_values(loaded, path, config.problems))
    for name in SECRET_SETTINGS:
        if name in values:
            raw = values.pop(name)
            if raw not in (None, ""):
                config.secrets_in_file.append(name)
                _move_secret(name, str(raw), path, secrets, config.problems)
    for key, raw in sorted(env.items()):
        if not key.startswith("SHOWDESK_") or key in ENVIRONMENT_NOT_SETTINGS:
            continue
        name = key[len("SHOWDESK_") :].lower()
        if name in SETTINGS:
            values[name] = raw  # a secret's variable too: for this process, never stored
        else:
            config.problems.append(_unknown_variable(key))
    for name, raw in values.items():
        try:
            setattr(config, name, _coerce(name, raw))
        except (TypeError, ValueError) as exc:
            config.problems.append(f"Setting '{name}' has a bad value ({exc}); using the default.")
    return config


def is_default_setup(config: Config) -> bool:
    """True when nothing was configured: the app seeds the demo event on first start."""
    return config.source is None and config.backend == "none" and "SHOWDESK_DB" not in os.environ


def write_settings(values: dict[str, Any], path: Path | None = None, header: str = "") -> Path:
    """Set ``values`` in the settings file's [showdesk] table and write it back (0600, atomic).

    The file's other settings are kept (its comments are not: ``header`` becomes the new
    first lines). Secrets are never written: a secret setting in ``values`` is a bug. Used
    when a device is enrolled (``showdesk enrol join``, the kiosk's enrolment screen)."""
    import json

    if set(values) & set(SECRET_SETTINGS):
        raise ValueError("secrets are never written to the settings file")
    path = path or config_path()
    kept: dict[str, Any] = {}
    if path.exists():
        try:
            with path.open("rb") as fh:
                loaded = tomllib.load(fh)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError):
            loaded = {}
        table = loaded.get("showdesk")
        kept = dict(table) if isinstance(table, dict) else dict(loaded)
    merged = {
        k: v
        for k, v in {**kept, **values}.items()
        if k in SETTINGS and k not in SECRET_SETTINGS and v is not None
    }

    def toml(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return repr(value)
        return json.dumps(str(value))  # a JSON string is a valid TOML basic string

    lines = [f"# {line}" for line in header.splitlines()]
    lines += ["[showdesk]", *(f"{k} = {toml(v)}" for k, v in merged.items())]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.chmod(0o600)
    tmp.replace(path)
    return path


def keep_enrolment(enrolled: Any, config: Config, path: Path | None = None) -> Path:
    """After an enrolment (``app.sync.enrolment.Enrolled``): the device credential into the
    secret store, then the settings that sync with it into the settings file. Raises
    SecretsUnavailable (a sentence) before writing anything when the credential cannot be
    kept. The replica's device id is the caller's (``app.sync.provision``)."""
    from app.secrets import DEVICE_CREDENTIAL, SecretStore

    SecretStore.default().set(DEVICE_CREDENTIAL, enrolled.credential.secret)
    values: dict[str, Any] = {
        "backend": enrolled.backend,
        "auth": "enrolled",
        "device_name": enrolled.device_name,
        "event_id": enrolled.event_id,
        "device_role": enrolled.role,
        "gate": enrolled.gate,
    }
    if enrolled.backend == "supabase":
        values.update(supabase_url=enrolled.server_url, supabase_key=enrolled.anon_key)
    else:
        values["postgres_dsn"] = config.postgres_dsn  # the kiosk's own login, as it was
    if config.kiosk:
        values["kiosk"] = True
    return write_settings(
        values,
        path or config.source or config_path(),
        header=(
            f"Written by Showdesk when this device was enrolled as {enrolled.device_name}.\n"
            "Its credential is kept in the secret store ('showdesk doctor' says where)."
        ),
    )
