"""Configuration: a TOML file in the user's config directory, overridden by SHOWDESK_* variables.

With no file and no variables, Showdesk runs on the embedded default: a local database in the
user's data directory, seeded with the demo event on first start.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import platformdirs

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
    kiosk_pin: str = "0000"
    # Sync
    backend: str = "none"  # none, supabase, postgres
    supabase_url: str | None = None
    supabase_key: str | None = None
    supabase_email: str | None = None
    supabase_password: str | None = None
    postgres_dsn: str | None = None
    postgres_role: str = "authenticated"
    postgres_claims: str | None = None  # JSON: the JWT claims PostgREST would set (sync)
    jwt_secret: str | None = None
    pull_interval_seconds: float = 5.0
    push_debounce_seconds: float = 0.3
    # Backstage
    quick_change_min_looks: int = 3
    call_alert_minutes: int = 10
    no_show_minutes: int = 60  # minutes after a call at which someone not arrived is a no-show

    # Problems found while loading (corrupt file, bad value): shown to the user, never fatal.
    problems: list[str] = field(default_factory=list)
    source: Path | None = None


_TYPES = {f.name: f.type for f in fields(Config)}


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


def load_config(path: Path | None = None, env: dict[str, str] | None = None) -> Config:
    """Read the TOML file (if any) then SHOWDESK_* variables. Never raises on bad input."""
    env = dict(os.environ if env is None else env)
    path = path or config_path()
    config = Config()
    values: dict[str, Any] = {}
    if path.exists():
        config.source = path
        try:
            with path.open("rb") as fh:
                loaded = tomllib.load(fh)
            values.update(loaded.get("showdesk", loaded))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
            config.problems.append(
                f"The settings file {path} could not be read ({exc}); using defaults. "
                "The file was left as it is."
            )
    for key, raw in env.items():
        if key.startswith("SHOWDESK_"):
            name = key[len("SHOWDESK_") :].lower()
            if name in _TYPES and name not in ("problems", "source"):
                values[name] = raw
    for name, raw in values.items():
        if name not in _TYPES or name in ("problems", "source") or isinstance(raw, dict):
            continue
        try:
            setattr(config, name, _coerce(name, raw))
        except (TypeError, ValueError) as exc:
            config.problems.append(f"Setting '{name}' has a bad value ({exc}); using the default.")
    return config


def is_default_setup(config: Config) -> bool:
    """True when nothing was configured: the app seeds the demo event on first start."""
    return config.source is None and config.backend == "none" and "SHOWDESK_DB" not in os.environ
