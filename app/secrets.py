"""Secrets (the device credential, the replica key, the kiosk's sign-in password) kept out of
the settings file: in the OS keyring, or in a file only this user can read where there is none.

The keyring is reached through ``keyring`` (macOS Keychain, Windows Credential Locker, Secret
Service, KWallet): service ``showdesk``, user name ``<secret name>@<scope>``, where the scope is
derived from the data directory, so two installs (or two test runs) on one account never read
each other's secrets.

Where ``keyring`` has no usable backend (a headless Linux kiosk without a Secret Service, a
frozen build that lost its backends, ``PYTHON_KEYRING_BACKEND`` set to the fail or null
backend), the secrets go to ``<data dir>/secrets/secrets.json``: the folder is created 0700 and
the file 0600, and both are put back to that if found wider. ``status()`` says which is in use
in words, for ``doctor`` and the Sync tab.

A keyring that exists but refuses access (locked, or access denied) raises
``SecretsUnavailable`` with a sentence; it never falls back to the file then (see
``_keyring_call``). No value is ever logged: values read or written are handed to
``app.logs.hide`` so a line that carries one anyway shows ``<redacted>``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.config import data_dir

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

SERVICE = "showdesk"
DEVICE_CREDENTIAL = "device_credential"
REPLICA_KEY = "replica_key"
SUPABASE_PASSWORD = "supabase_password"
JWT_SECRET = "jwt_secret"
KIOSK_PIN = "kiosk_pin"
HUB_PASSWORD = "hub_password"
FOLDER = "secrets"
FILE_NAME = "secrets.json"

# What each well-known secret is, for sentences; other names are said as they are.
LABELS = {
    DEVICE_CREDENTIAL: "the kiosk's device credential",
    REPLICA_KEY: "the key of the local database",
    SUPABASE_PASSWORD: "the kiosk's Supabase sign-in password",
    JWT_SECRET: "the JWT signing secret",
    KIOSK_PIN: "the PIN that unlocks this kiosk",
    HUB_PASSWORD: "the kiosk's venue-hub login",
}

log = logging.getLogger(__name__)
# One read-modify-write of a secrets file at a time in this process (the sync thread stores a
# rotated credential while the window reads another); the file is replaced whole, atomically.
_file_lock = threading.RLock()
_said: set[str] = set()


class SecretsUnavailable(Exception):
    """The keyring refused access (locked, denied) or the secrets file cannot be used.
    ``str()`` is a sentence for a person; nothing was changed."""


@dataclass(frozen=True)
class SecretsStatus:
    kind: str  # "keyring" or "file"
    words: str  # "OS keyring (SecretService)", "a file only this user can read: /…/secrets.json"
    backend: str  # the keyring backend's name, or "file"
    reason: str | None = None  # why the file is used (no usable keyring): a sentence
    problem: str | None = None  # the keyring exists but refuses access: a sentence
    file: Path | None = None  # the fallback file, when in use

    @property
    def fallback(self) -> bool:
        return self.kind == "file"

    @property
    def line(self) -> str:
        """One line for the Sync tab: where secrets are, and what is wrong with that."""
        if self.problem:
            return f"Secrets: {self.words}, locked or refusing access. {self.problem}"
        if self.fallback:
            return (
                "Secrets: no OS keyring here, so they are kept in a file only this user can "
                f"read ({self.file})."
            )
        return f"Secrets: {self.words}."


def label(name: str) -> str:
    return LABELS.get(name, f"the secret '{name}'")


def _scope(directory: Path) -> str:
    resolved = str(directory.expanduser().resolve())
    return hashlib.sha256(resolved.encode("utf-8")).hexdigest()[:12]


def _no_keyring_reason(backend: KeyringBackend) -> str | None:
    """Why ``backend`` stores nothing (the fail or null backend, an empty chain), or None."""
    from keyring.backends import chainer, fail, null

    if isinstance(backend, fail.Keyring):
        return "keyring found no backend here (no Secret Service, KWallet, Keychain or Credential Locker)"
    if isinstance(backend, null.Keyring):
        return "keyring is set to its null backend, which keeps nothing (PYTHON_KEYRING_BACKEND)"
    if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
        return "keyring found no backend here (no Secret Service, KWallet, Keychain or Credential Locker)"
    return None


def _backend_words(backend: KeyringBackend) -> str:
    """'SecretService', 'macOS', 'Windows', 'kwallet'; a chain lists its members."""
    from keyring.backends import chainer

    if isinstance(backend, chainer.ChainerBackend):
        return ", ".join(_backend_words(b) for b in backend.backends)
    return type(backend).__module__.rpartition(".")[2] or type(backend).__name__


class SecretStore:
    """get / set / delete named secrets in the OS keyring, or the 0600 file where none is usable.

    ``directory`` is the data directory (default: the user's, or ``SHOWDESK_DATA_DIR``); it
    scopes the keyring entries and holds the fallback file. ``backend`` is a keyring backend
    (default: the one ``keyring`` picks for this machine)."""

    def __init__(
        self, directory: Path | None = None, backend: KeyringBackend | None = None
    ) -> None:
        self.directory = Path(directory) if directory is not None else data_dir()
        self.file = self.directory / FOLDER / FILE_NAME
        self.scope = _scope(self.directory)
        self._backend = backend
        self._checked: tuple[str, str | None] | None = None  # (kind, reason)

    @classmethod
    def default(cls) -> SecretStore:
        return cls(data_dir())

    # --- which store ------------------------------------------------------------------------

    def _keyring(self) -> KeyringBackend:
        if self._backend is None:
            import keyring

            self._backend = keyring.get_keyring()
        return self._backend

    def _kind(self) -> tuple[str, str | None]:
        """("keyring", None) or ("file", why); decided once per store, on first use."""
        if self._checked is None:
            try:
                backend = self._keyring()
                reason = _no_keyring_reason(backend)
            except Exception as exc:  # noqa: BLE001 - a broken keyring install: no keyring
                reason = f"keyring could not start ({type(exc).__name__}: {exc})"
            if reason is None:
                reason = self._probe(backend)
            self._checked = ("file", reason) if reason else ("keyring", None)
            if reason and str(self.file) not in _said:  # once per process: doctor says it too
                _said.add(str(self.file))
                log.info("secrets: no usable OS keyring (%s); using %s", reason, self.file)
        return self._checked

    def _probe(self, backend: KeyringBackend) -> str | None:
        """One read: a backend that cannot even start (no D-Bus session, a Secret Service that
        is not running) is no keyring; a locked or refusing one is a keyring (None here: its
        sentence comes with the first real call)."""
        from keyring.errors import InitError, KeyringError, NoKeyringError

        try:
            backend.get_password(SERVICE, f"probe@{self.scope}")
        except (InitError, NoKeyringError) as exc:
            return f"the keyring could not be used ({type(exc).__name__}: {exc})"
        except KeyringError:
            return None  # locked or denied: a keyring that exists (see _keyring_call)
        except Exception as exc:  # noqa: BLE001 - D-Bus errors that keyring does not wrap
            return f"the keyring could not be used ({type(exc).__name__}: {exc})"
        return None

    def status(self) -> SecretsStatus:
        """Where secrets are kept, in words; ``problem`` when the keyring refuses access."""
        kind, reason = self._kind()
        if kind == "file":
            words = f"a file only this user can read: {self.file}"
            return SecretsStatus("file", words, "file", reason, file=self.file)
        backend = self._keyring()
        name = _backend_words(backend)
        problem = None
        try:
            self._keyring_call("read", DEVICE_CREDENTIAL, backend.get_password)
        except SecretsUnavailable as exc:
            problem = str(exc)
        return SecretsStatus("keyring", f"OS keyring ({name})", name, problem=problem)

    def where(self) -> str:
        return self.status().words

    # --- the three operations ---------------------------------------------------------------

    def get(self, name: str) -> str | None:
        """The secret, or None when it was never stored. Raises SecretsUnavailable."""
        kind, _ = self._kind()
        if kind == "file":
            value = self._read_file().get(name)
        else:
            backend = self._keyring()
            value = self._keyring_call("read", name, backend.get_password)
            if value is None:
                # stored in the file while this machine had no keyring: still there, not lost
                value = self._read_file_if_any().get(name)
        _hide(value)
        return value

    def set(self, name: str, value: str) -> None:
        """Store ``value`` under ``name`` (replacing any). Raises SecretsUnavailable."""
        if not value:
            raise ValueError("an empty secret cannot be stored; use delete()")
        _hide(value)
        kind, _ = self._kind()
        if kind == "file":
            with _file_lock:
                data = self._read_file()
                data[name] = value
                self._write_file(data)
            return
        backend = self._keyring()
        self._keyring_call("write", name, lambda s, u: backend.set_password(s, u, value))
        # a copy left in the file from a time without a keyring is moved, not duplicated
        self._drop_from_file(name)

    def delete(self, name: str) -> None:
        """Forget the secret (nothing happens when there is none). Raises SecretsUnavailable."""
        from keyring.errors import PasswordDeleteError

        kind, _ = self._kind()
        if kind == "keyring":
            backend = self._keyring()

            def remove(service: str, user: str) -> None:
                try:
                    backend.delete_password(service, user)
                except PasswordDeleteError:  # keyring's "no such password"
                    pass

            self._keyring_call("delete", name, remove)
        self._drop_from_file(name)

    # --- the keyring ------------------------------------------------------------------------

    def _keyring_call(self, action: str, name: str, call: Any) -> Any:
        """``call(service, user)``; a refusal becomes SecretsUnavailable with a sentence.

        No fallback to the file here, on purpose: a locked keyring still holds this kiosk's
        secrets. Writing a file copy would leave two versions of one credential that drift
        apart (the device credential rotates at every refresh), and would move a secret the
        user chose to keep encrypted into a plain file without asking. Unlocking the keyring
        and trying again loses nothing."""
        from keyring.errors import KeyringError, KeyringLocked

        backend = self._keyring()
        user = f"{name}@{self.scope}"
        verb = {"read": "read", "write": "store", "delete": "remove"}[action]
        try:
            return call(SERVICE, user)
        except KeyringLocked as exc:
            raise SecretsUnavailable(
                f"The OS keyring ({_backend_words(backend)}) is locked, so Showdesk cannot "
                f"{verb} {label(name)}: unlock it (log in to the desktop session, or open the "
                f"keyring) and try again. Nothing was changed. ({type(exc).__name__}: {exc})"
            ) from exc
        except KeyringError as exc:
            raise SecretsUnavailable(
                f"The OS keyring ({_backend_words(backend)}) refused to {verb} {label(name)}. "
                f"Nothing was changed. ({type(exc).__name__}: {exc})"
            ) from exc

    # --- the file ---------------------------------------------------------------------------

    def _drop_from_file(self, name: str) -> None:
        with _file_lock:
            data = self._read_file_if_any()
            if name in data:
                del data[name]
                self._write_file(data)

    def _read_file_if_any(self) -> dict[str, str]:
        try:
            return self._read_file() if self.file.exists() else {}
        except SecretsUnavailable:
            return {}

    def _read_file(self) -> dict[str, str]:
        if not self.file.exists():
            return {}
        self._tighten()
        try:
            data = json.loads(self.file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            # never overwritten: the file may hold the only copy of a credential
            raise SecretsUnavailable(
                f"The secrets file {self.file} cannot be read ({type(exc).__name__}); "
                "it was left as it is. Move it aside to start again with no stored secrets."
            ) from exc
        if not isinstance(data, dict):
            raise SecretsUnavailable(
                f"The secrets file {self.file} is not Showdesk's; it was left as it is."
            )
        return {str(k): str(v) for k, v in data.items()}

    def _tighten(self) -> None:
        """Put the folder back to 0700 and the file to 0600 if someone widened them (POSIX;
        on Windows the user's AppData folder is already private to the user)."""
        if os.name != "posix":
            return
        for path, mode in ((self.file.parent, 0o700), (self.file, 0o600)):
            try:
                if path.exists() and stat.S_IMODE(path.stat().st_mode) != mode:
                    path.chmod(mode)
                    log.warning("secrets: %s was readable by others; made private again", path)
            except OSError:
                pass

    def _write_file(self, data: dict[str, str]) -> None:
        folder = self.file.parent
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            if os.name == "posix":
                folder.chmod(0o700)
            tmp = folder / f".{FILE_NAME}.{os.getpid()}.tmp"
            # created 0600 from the start: never readable by others, not even for a moment
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump(data, fh, indent=1, sort_keys=True)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, self.file)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise SecretsUnavailable(
                f"The secrets file {self.file} cannot be written ({exc.strerror or exc}); "
                "nothing was changed."
            ) from exc


def _hide(value: str | None) -> None:
    if value:
        from app.logs import hide

        hide(value)
