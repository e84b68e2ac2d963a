"""Settings are never ignored without a word: unknown keys and SHOWDESK_* variables are reported
with the setting they probably meant; a secret in the settings file is moved into the secret
store once, never used from the file, and the file is left as it is. `doctor` says all of it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from app.cli import doctor as doctor_command
from app.config import load_config
from app.doctor import OK, PROBLEM, WARNING, check_secrets, check_settings
from app.secrets import SUPABASE_PASSWORD, SecretStore
from tests.unit.test_secrets import MemoryKeyring


@pytest.fixture
def os_keyring():
    """keyring's process-wide backend, set for the test and put back after it."""
    before = keyring.get_keyring()

    def use(backend):
        keyring.set_keyring(backend)
        return backend

    yield use
    keyring.set_keyring(before)


def _settings(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_an_unknown_key_is_reported_with_the_near_miss(tmp_path: Path) -> None:
    path = _settings(tmp_path, '[showdesk]\nkiosk-pin = "4321"\ngate = "East"\nflavour = 3\n')
    config = load_config(path, env={})
    assert config.kiosk_pin is None and config.gate == "East"
    assert config.problems == [
        f"Unknown setting 'kiosk-pin' in {path} — did you mean 'kiosk_pin'?",
        f"Unknown setting 'flavour' in {path}; it is not read.",
    ]


def test_typos_tables_and_keys_outside_the_table_are_reported(tmp_path: Path) -> None:
    path = _settings(
        tmp_path,
        "debounce = 1\n[showdesk]\ndebounce_secnds = 2.0\n[showdesk.sync]\nx = 1\n",
    )
    problems = load_config(path, env={}).problems
    assert (
        f"Setting 'debounce' in {path} is outside the [showdesk] table, so it is not read; "
        "move it under [showdesk]." in problems
    )
    assert f"Unknown setting 'debounce_secnds' in {path} — did you mean 'debounce_seconds'?" in (
        problems
    )
    assert f"Unknown setting 'sync' (a table) in {path}; it is not read." in problems


def test_a_file_from_an_older_provision_is_accepted(tmp_path: Path) -> None:
    path = _settings(tmp_path, '[showdesk]\nbackend = "none"\ndevice_id = "d-1"\n')
    assert load_config(path, env={}).problems == []


def test_unknown_environment_variables_are_reported_tools_variables_are_not(
    tmp_path: Path,
) -> None:
    env = {
        "SHOWDESK_KIOSKPIN": "1",
        "SHOWDESK_NONSENSE": "1",
        "SHOWDESK_GATE": "West",
        "SHOWDESK_DB": str(tmp_path / "x.sqlite"),
        "SHOWDESK_CONFIG_DIR": "/c",
        "SHOWDESK_DATA_DIR": "/d",
        "SHOWDESK_LOG_DIR": "/l",
        "SHOWDESK_CONFIG": "/c/config.toml",
        "SHOWDESK_EXIT_WHEN_READY": "1",
        "SHOWDESK_SYNC_PAUSE_BEFORE_ACK": "1",
        "SHOWDESK_WHEEL": "x.whl",
    }
    config = load_config(tmp_path / "none.toml", env=env)
    assert config.gate == "West"
    assert config.problems == [
        "Unknown environment variable SHOWDESK_KIOSKPIN: no such setting — did you mean "
        "SHOWDESK_KIOSK_PIN?",
        "Unknown environment variable SHOWDESK_NONSENSE: no such setting; it is not read.",
    ]


def test_a_password_in_the_file_is_moved_once_and_never_read_from_there(tmp_path: Path) -> None:
    text = '[showdesk]\nsupabase_email = "k@x.example"\nsupabase_password = "File-Pw-4711"\n'
    path = _settings(tmp_path, text)
    store = SecretStore(tmp_path / "data", fail.Keyring())
    config = load_config(path, env={}, secrets=store)
    assert config.supabase_password is None  # the file's value is not used to sign in
    assert config.secrets_in_file == ["supabase_password"]
    assert store.get(SUPABASE_PASSWORD) == "File-Pw-4711"
    [problem] = config.problems
    assert problem.startswith(f"The settings file {path} holds supabase_password")
    assert f"moved into a file only this user can read: {store.file}" in problem
    assert "Remove the line 'supabase_password = …' from the file" in problem
    assert "File-Pw-4711" not in problem
    assert path.read_text(encoding="utf-8") == text  # the user's file is left as it is

    [again] = load_config(path, env={}, secrets=store).problems
    assert "still holds supabase_password, which is already kept" in again

    path.write_text(text.replace("File-Pw-4711", "Older-Pw-0001"), encoding="utf-8")
    [differs] = load_config(path, env={}, secrets=store).problems
    assert "differs from the one kept in" in differs and "the kept one is used" in differs
    assert store.get(SUPABASE_PASSWORD) == "File-Pw-4711"


def test_a_password_in_the_file_with_a_locked_keyring_is_said_and_ignored(tmp_path: Path) -> None:
    text = '[showdesk]\nsupabase_password = "File-Pw-4711"\njwt_secret = "jwt-0123456"\n'
    path = _settings(tmp_path, text)
    backend = MemoryKeyring()
    backend.locked = True
    store = SecretStore(tmp_path / "data", backend)
    config = load_config(path, env={}, secrets=store)
    assert config.supabase_password is None and config.jwt_secret is None
    assert config.secrets_in_file == ["supabase_password", "jwt_secret"]
    assert len(config.problems) == 2
    assert "could not be moved into OS keyring (test_secrets)" in config.problems[0]
    assert "is locked" in config.problems[0] and "it stays in the file" in config.problems[0]
    assert backend.entries == {} and not store.file.exists()
    assert path.read_text(encoding="utf-8") == text


def test_a_password_variable_is_for_this_process_only(tmp_path: Path) -> None:
    store = SecretStore(tmp_path / "data", MemoryKeyring())
    config = load_config(
        tmp_path / "none.toml", env={"SHOWDESK_SUPABASE_PASSWORD": "Env-Pw-123"}, secrets=store
    )
    assert config.supabase_password == "Env-Pw-123" and config.problems == []
    assert store.get(SUPABASE_PASSWORD) is None


# --- doctor -------------------------------------------------------------------------------------


def test_doctor_reports_unknown_settings_as_a_warning(tmp_path: Path, capsys) -> None:
    path = _settings(tmp_path, '[showdesk]\nkiosk-pin = "1"\n')
    check = check_settings(load_config(path, env={}))
    assert check.status == WARNING
    assert check.message == f"Unknown setting 'kiosk-pin' in {path} — did you mean 'kiosk_pin'?"
    assert check_settings(load_config(tmp_path / "none.toml", env={})).status == OK


def test_doctor_says_where_secrets_are(tmp_path: Path, os_keyring) -> None:
    os_keyring(fail.Keyring())
    check = check_secrets(load_config(tmp_path / "none.toml", env={}))
    assert check.status == WARNING
    assert check.message.startswith(
        "No OS keyring here — secrets are in a file only this user can read ("
        f"{SecretStore.default().file}); keyring found no backend here"
    )
    assert check.message.endswith("None is in the settings file.")

    os_keyring(MemoryKeyring())
    check = check_secrets(load_config(tmp_path / "none.toml", env={}))
    assert check.status == OK
    assert check.message == (
        "Secrets are kept in the OS keyring (test_secrets). None is in the settings file."
    )

    path = _settings(tmp_path, '[showdesk]\nsupabase_password = "File-Pw-4711"\n')
    check = check_secrets(load_config(path, env={}))
    assert check.status == WARNING and check.details["in_settings_file"] == ["supabase_password"]
    assert f"The settings file {path} still holds supabase_password" in check.message


def test_doctor_says_a_locked_keyring_is_a_problem(tmp_path: Path, os_keyring, capsys) -> None:
    backend = os_keyring(MemoryKeyring())
    backend.locked = True
    check = check_secrets(load_config(tmp_path / "none.toml", env={}))
    assert check.status == PROBLEM
    assert "is locked, so Showdesk cannot read" in check.message

    code = doctor_command.run(argparse.Namespace(db=tmp_path / "k.sqlite", json=True))
    checks = {c["name"]: c for c in json.loads(capsys.readouterr().out)["checks"]}
    assert code == 1 and checks["secrets"]["status"] == PROBLEM


def test_a_locked_keyring_stops_sign_in_with_a_sentence(os_keyring) -> None:
    from app.sync.backends import SupabaseBackend, SyncError

    backend = os_keyring(MemoryKeyring())
    backend.locked = True
    supabase = SupabaseBackend("http://127.0.0.1:9", "anon", "kiosk@x.example", None)
    with pytest.raises(SyncError) as caught:
        supabase.pull("event", "", 10)  # stops before any request: nothing to sign in with
    assert caught.value.code == "secrets" and caught.value.transient
    assert "is locked, so Showdesk cannot read the kiosk's Supabase sign-in password" in str(
        caught.value
    )


def test_a_kiosk_pin_in_the_file_is_moved_and_still_unlocks_the_kiosk(tmp_path: Path) -> None:
    from app.secrets import KIOSK_PIN
    from app.store.db import open_database
    from app.ui.kiosk_lock import KioskAuthority

    path = _settings(tmp_path, '[showdesk]\nkiosk_pin = "8642"\n')
    store = SecretStore(tmp_path / "data", fail.Keyring())
    config = load_config(path, env={}, secrets=store)
    assert config.kiosk_pin is None and config.secrets_in_file == ["kiosk_pin"]
    assert store.get(KIOSK_PIN) == "8642"
    [problem] = config.problems
    assert "holds kiosk_pin (the PIN that unlocks this kiosk)" in problem and "8642" not in problem

    db = open_database(tmp_path / "replica.db")
    authority = KioskAuthority(db, None, config.kiosk_pin, secrets=lambda: store)
    assert authority.state().has_kiosk_pin
    assert not authority.check("", "1111", roles=None, kiosk_pin=True).ok
    assert authority.check("", "8642", roles=None, kiosk_pin=True).ok


def test_five_wrong_kiosk_pins_pause_it_across_a_restart(tmp_path: Path) -> None:
    from app.store.db import open_database
    from app.ui.kiosk_lock import KioskAuthority
    from tests.unit.test_staff import FIVE_WRONG_PINS

    db = open_database(tmp_path / "replica.db")
    authority = KioskAuthority(db, None, "8642")
    said = [authority.check("", "1111", roles=None, kiosk_pin=True).message for _ in range(5)]
    assert said == FIVE_WRONG_PINS
    db.close()
    restarted = KioskAuthority(open_database(tmp_path / "replica.db"), None, "8642")
    answer = restarted.check("", "8642", roles=None, kiosk_pin=True)  # right, but paused
    assert not answer.ok and answer.message.startswith("Too many wrong PINs — try again in")
