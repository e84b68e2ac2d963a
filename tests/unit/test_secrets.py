"""app/secrets.py: secrets in the OS keyring through keyring's own API, a 0600 file where no
keyring is usable, and a sentence (never a silent fallback) when the keyring refuses access.

The keyring backends here are real ``keyring`` backends: keyring's own fail and null backends,
its chainer, and ``MemoryKeyring``, a ``KeyringBackend`` subclass that keeps entries in a dict
and can be locked or refuse writes the way a Secret Service does.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null
from keyring.compat import properties
from keyring.errors import InitError, KeyringLocked, PasswordDeleteError, PasswordSetError

from app.logs import scrub
from app.secrets import (
    DEVICE_CREDENTIAL,
    FILE_NAME,
    FOLDER,
    REPLICA_KEY,
    SERVICE,
    SecretStore,
    SecretsUnavailable,
)


class MemoryKeyring(KeyringBackend):
    """An in-process keyring. Never picked by keyring's own detection (not viable)."""

    @properties.classproperty
    def priority(cls) -> float:
        raise RuntimeError("only for tests")

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}
        self.locked = False
        self.refuse_writes = False
        self.broken: Exception | None = None

    def _check(self) -> None:
        if self.broken is not None:
            raise self.broken
        if self.locked:
            raise KeyringLocked("Failed to unlock the collection!")

    def get_password(self, service: str, username: str) -> str | None:
        self._check()
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._check()
        if self.refuse_writes:
            raise PasswordSetError("Access denied by the keyring daemon")
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self._check()
        if (service, username) not in self.entries:
            raise PasswordDeleteError("not found")
        del self.entries[(service, username)]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_secrets_go_to_the_keyring_scoped_to_the_data_dir(tmp_path: Path) -> None:
    keyring = MemoryKeyring()
    store = SecretStore(tmp_path / "a", keyring)
    store.set(DEVICE_CREDENTIAL, "refresh-token-000111")
    store.set("custom_secret", "custom-value-222333")
    assert store.get(DEVICE_CREDENTIAL) == "refresh-token-000111"
    assert store.get("custom_secret") == "custom-value-222333"
    assert store.get(REPLICA_KEY) is None
    assert {s for s, _u in keyring.entries} == {SERVICE}
    assert {u for _s, u in keyring.entries} == {
        f"{DEVICE_CREDENTIAL}@{store.scope}",
        f"custom_secret@{store.scope}",
    }
    status = store.status()
    assert status.kind == "keyring" and not status.fallback and status.problem is None
    assert status.words == "OS keyring (test_secrets)" == store.where()
    assert status.line == "Secrets: OS keyring (test_secrets)."
    assert not (tmp_path / "a" / FOLDER).exists()  # nothing written to disk

    other = SecretStore(tmp_path / "b", keyring)  # another install on the same account
    assert other.get(DEVICE_CREDENTIAL) is None
    other.set(DEVICE_CREDENTIAL, "other-token-444555")
    assert store.get(DEVICE_CREDENTIAL) == "refresh-token-000111"

    store.delete(DEVICE_CREDENTIAL)
    store.delete(DEVICE_CREDENTIAL)  # twice: nothing to remove is fine
    assert store.get(DEVICE_CREDENTIAL) is None
    assert other.get(DEVICE_CREDENTIAL) == "other-token-444555"


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring()], ids=["fail", "null"])
def test_without_a_keyring_secrets_go_to_a_file_only_the_user_can_read(
    tmp_path: Path, backend: KeyringBackend
) -> None:
    store = SecretStore(tmp_path / "data", backend)
    store.set(REPLICA_KEY, "0123456789abcdef" * 4)
    store.set(DEVICE_CREDENTIAL, "refresh-token-abcdef")
    path = tmp_path / "data" / FOLDER / FILE_NAME
    assert store.file == path
    assert json.loads(path.read_text())[REPLICA_KEY] == "0123456789abcdef" * 4
    if os.name == "posix":
        assert _mode(path) == 0o600 and _mode(path.parent) == 0o700
    status = store.status()
    assert status.fallback and status.kind == "file" and status.problem is None
    assert status.words == f"a file only this user can read: {path}"
    assert status.reason and "keyring" in status.reason
    assert status.line == (
        f"Secrets: no OS keyring here, so they are kept in a file only this user can read ({path})."
    )
    store.delete(REPLICA_KEY)
    assert store.get(REPLICA_KEY) is None
    assert store.get(DEVICE_CREDENTIAL) == "refresh-token-abcdef"
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_a_chain_with_no_backend_is_no_keyring(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [])
    store = SecretStore(tmp_path, chainer.ChainerBackend())
    store.set(DEVICE_CREDENTIAL, "token-in-a-file-1")
    assert store.status().fallback and store.file.exists()


def test_a_keyring_that_cannot_start_is_no_keyring(tmp_path: Path) -> None:
    keyring = MemoryKeyring()
    keyring.broken = InitError("Failed to create the collection: no D-Bus session")
    store = SecretStore(tmp_path, keyring)
    store.set(DEVICE_CREDENTIAL, "token-in-a-file-2")
    status = store.status()
    assert status.fallback and "InitError" in (status.reason or "")
    assert store.get(DEVICE_CREDENTIAL) == "token-in-a-file-2"


def test_a_locked_keyring_is_a_sentence_and_never_a_file(tmp_path: Path) -> None:
    keyring = MemoryKeyring()
    store = SecretStore(tmp_path, keyring)
    store.set(DEVICE_CREDENTIAL, "kept-token-777888")
    keyring.locked = True
    locked = SecretStore(tmp_path, keyring)  # a fresh start with the keyring locked
    with pytest.raises(SecretsUnavailable) as caught:
        locked.get(DEVICE_CREDENTIAL)
    text = str(caught.value)
    assert text.startswith("The OS keyring (test_secrets) is locked, so Showdesk cannot read")
    assert "the kiosk's device credential" in text
    assert "(KeyringLocked: Failed to unlock the collection!)" in text
    with pytest.raises(SecretsUnavailable, match="cannot store the key of the local database"):
        locked.set(REPLICA_KEY, "new-key-999000")
    status = locked.status()
    assert status.kind == "keyring" and not status.fallback
    assert status.problem and "is locked" in status.problem
    assert status.line.startswith("Secrets: OS keyring (test_secrets), locked or refusing access.")
    assert not (tmp_path / FOLDER).exists()  # never fell back to writing the file
    keyring.locked = False
    assert locked.get(DEVICE_CREDENTIAL) == "kept-token-777888"  # nothing lost


def test_a_keyring_that_refuses_a_write_loses_nothing(tmp_path: Path) -> None:
    keyring = MemoryKeyring()
    store = SecretStore(tmp_path, keyring)
    store.set(DEVICE_CREDENTIAL, "first-token-123123")
    keyring.refuse_writes = True
    with pytest.raises(SecretsUnavailable) as caught:
        store.set(DEVICE_CREDENTIAL, "second-token-456456")
    assert "refused to store the kiosk's device credential" in str(caught.value)
    assert "PasswordSetError: Access denied" in str(caught.value)
    assert store.get(DEVICE_CREDENTIAL) == "first-token-123123"
    assert not (tmp_path / FOLDER).exists()


def test_a_file_copy_from_before_the_keyring_is_found_then_moved(tmp_path: Path) -> None:
    SecretStore(tmp_path, fail.Keyring()).set(DEVICE_CREDENTIAL, "from-the-file-31337")
    keyring = MemoryKeyring()
    store = SecretStore(tmp_path, keyring)  # a keyring was installed since
    assert store.get(DEVICE_CREDENTIAL) == "from-the-file-31337"
    store.set(DEVICE_CREDENTIAL, "from-the-file-31337")
    assert json.loads(store.file.read_text()) == {}
    assert keyring.entries[(SERVICE, f"{DEVICE_CREDENTIAL}@{store.scope}")] == (
        "from-the-file-31337"
    )


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_a_widened_secrets_file_is_made_private_again(tmp_path: Path) -> None:
    store = SecretStore(tmp_path, fail.Keyring())
    store.set(DEVICE_CREDENTIAL, "token-widened-42")
    store.file.chmod(0o644)
    store.file.parent.chmod(0o755)
    assert store.get(DEVICE_CREDENTIAL) == "token-widened-42"
    assert _mode(store.file) == 0o600 and _mode(store.file.parent) == 0o700


def test_a_damaged_secrets_file_is_said_and_left_alone(tmp_path: Path) -> None:
    store = SecretStore(tmp_path, fail.Keyring())
    store.set(DEVICE_CREDENTIAL, "token-before-damage")
    store.file.write_bytes(b"\xff not json")
    with pytest.raises(SecretsUnavailable, match="cannot be read"):
        store.get(DEVICE_CREDENTIAL)
    with pytest.raises(SecretsUnavailable, match="cannot be read"):
        store.set(REPLICA_KEY, "would-overwrite-the-file")
    assert store.file.read_bytes() == b"\xff not json"


def test_values_read_or_stored_never_reach_a_log_line(tmp_path: Path) -> None:
    store = SecretStore(tmp_path, MemoryKeyring())
    store.set(REPLICA_KEY, "replica-key-5f5f5f5f")
    assert scrub("opened with key replica-key-5f5f5f5f") == "opened with key <redacted>"
    keyring = MemoryKeyring()
    keyring.entries[(SERVICE, f"{DEVICE_CREDENTIAL}@{SecretStore(tmp_path).scope}")] = (
        "read-back-token-8e8e8e"
    )
    assert SecretStore(tmp_path, keyring).get(DEVICE_CREDENTIAL) == "read-back-token-8e8e8e"
    assert "read-back-token-8e8e8e" not in scrub("refresh read-back-token-8e8e8e failed")


def test_an_empty_secret_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        SecretStore(tmp_path, MemoryKeyring()).set(DEVICE_CREDENTIAL, "")
