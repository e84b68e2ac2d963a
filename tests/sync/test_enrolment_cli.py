"""`showdesk enrol create|revoke|join` end to end (app/cli/enrol.py): an organizer's device
creates the code against the real PostgreSQL (directly, or through the PostgREST/GoTrue
gateway), a kiosk joins with the QR image or the typed code, then `showdesk sync --once`
syncs with the enrolled credential (build_backend reads it from the secret store)."""

from __future__ import annotations

import json
import tomllib
import uuid

import pytest

from app.cli.program import main
from app.config import config_path

pytestmark = pytest.mark.postgres

PASSWORD = "correct horse battery staple"


def _run(capsys, *argv: str) -> tuple[int, dict]:
    capsys.readouterr()
    code = main([*argv, "--json"])
    out = capsys.readouterr().out.strip().splitlines()
    return code, json.loads(out[-1]) if out else {}


def _as_organizer(monkeypatch, world) -> None:
    claims = world.sdb.claims(world.org, "organizer", sub=str(uuid.uuid4()))
    monkeypatch.setenv("SHOWDESK_BACKEND", "postgres")
    monkeypatch.setenv("SHOWDESK_POSTGRES_DSN", world.sdb.dsn)
    monkeypatch.setenv("SHOWDESK_POSTGRES_CLAIMS", json.dumps(claims))


def _as_new_kiosk(monkeypatch, world) -> None:
    monkeypatch.delenv("SHOWDESK_POSTGRES_CLAIMS")  # its own database login, no claims
    monkeypatch.setenv("SHOWDESK_BACKEND", "postgres")
    monkeypatch.setenv("SHOWDESK_POSTGRES_DSN", world.sdb.dsn)


def test_create_then_join_with_the_qr_image_then_sync(world, monkeypatch, capsys, tmp_path):
    from app.scan.decoders import decode_image_file
    from app.secrets import DEVICE_CREDENTIAL, SecretStore

    _as_organizer(monkeypatch, world)
    png = tmp_path / "enrol.png"
    code, made = _run(
        capsys,
        "enrol", "create", "--event", world.event_id, "--role", "door",
        "--name", "Kiosk 3", "--gate", "North door", "--qr-out", str(png),
    )  # fmt: skip
    assert code == 0, made
    assert (made["device_name"], made["gate"], made["role"]) == ("Kiosk 3", "North door", "door")
    assert made["qr"].startswith("SDE1:") and made["expires_at"]
    assert decode_image_file(png) == made["qr"]  # the printed QR reads back

    _as_new_kiosk(monkeypatch, world)
    db = tmp_path / "kiosk.sqlite"
    code, joined = _run(capsys, "enrol", "join", "--image", str(png), "--db", str(db))
    assert code == 0, joined
    assert (joined["device_name"], joined["gate"], joined["event_id"]) == (
        "Kiosk 3",
        "North door",
        world.event_id,
    )
    settings = tomllib.loads(config_path().read_text())["showdesk"]
    assert settings["auth"] == "enrolled" and settings["device_role"] == "door"
    assert settings["event_id"] == world.event_id and settings["device_name"] == "Kiosk 3"
    credential = SecretStore.default().get(DEVICE_CREDENTIAL)
    assert credential and credential not in config_path().read_text()

    monkeypatch.delenv("SHOWDESK_BACKEND")  # from now on the written settings alone
    monkeypatch.delenv("SHOWDESK_POSTGRES_DSN")
    code, synced = _run(capsys, "--db", str(db), "sync", "--once")
    assert code == 0, synced
    assert synced["pulled"] >= 12

    # the same code again: the sentence, exit 1
    capsys.readouterr()
    assert main(["enrol", "join", made["qr"], "--db", str(tmp_path / "again.sqlite")]) == 1
    assert "already used" in capsys.readouterr().err


def test_revoke_and_bad_codes_have_their_exit_codes(world, monkeypatch, capsys, tmp_path):
    _as_organizer(monkeypatch, world)
    code, made = _run(capsys, "enrol", "create", "--event", world.event_id, "--name", "Kiosk W")
    assert code == 0
    code, revoked = _run(capsys, "enrol", "revoke", made["enrolment_id"])
    assert code == 0 and revoked["revoked_at"]

    _as_new_kiosk(monkeypatch, world)
    code, answer = _run(capsys, "enrol", "join", made["code"], "--db", str(tmp_path / "k.sqlite"))
    assert (code, answer["kind"]) == (1, "revoked") and "withdrawn" in answer["error"]
    code, answer = _run(capsys, "enrol", "join", "ABCD-EFGH", "--db", str(tmp_path / "k.sqlite"))
    assert (code, answer["kind"]) == (2, "bad-code")
    assert not config_path().exists()  # nothing written for a refused code

    # a door account may not create one: the server's sentence, exit 1
    claims = world.sdb.claims(world.org, "door", sub=str(uuid.uuid4()))
    monkeypatch.setenv("SHOWDESK_POSTGRES_CLAIMS", json.dumps(claims))
    code, answer = _run(capsys, "enrol", "create", "--event", world.event_id, "--name", "X")
    assert (code, answer["kind"]) == (1, "forbidden")


def test_typed_code_through_the_gateway_then_sync_with_a_rotating_credential(
    world, gateway, monkeypatch, capsys, tmp_path
):
    from app.secrets import DEVICE_CREDENTIAL, SUPABASE_PASSWORD, SecretStore

    email = f"boss-{uuid.uuid4().hex[:6]}@example.org"
    gateway.create_user(email, PASSWORD, organization_id=world.org.id, staff_role="organizer")
    SecretStore.default().set(SUPABASE_PASSWORD, PASSWORD)
    monkeypatch.setenv("SHOWDESK_BACKEND", "supabase")
    monkeypatch.setenv("SHOWDESK_SUPABASE_URL", gateway.url)
    monkeypatch.setenv("SHOWDESK_SUPABASE_KEY", gateway.anon_key)
    monkeypatch.setenv("SHOWDESK_SUPABASE_EMAIL", email)
    code, made = _run(
        capsys, "enrol", "create", "--event", world.event_id, "--name", "Kiosk 4", "--gate", "West"
    )
    assert code == 0, made

    # the kiosk knows the server (its settings), and types the code in lower case
    monkeypatch.delenv("SHOWDESK_SUPABASE_EMAIL")
    db = tmp_path / "kiosk.sqlite"
    code, joined = _run(capsys, "enrol", "join", made["code"].lower(), "--db", str(db))
    assert code == 0, joined
    first = SecretStore.default().get(DEVICE_CREDENTIAL)
    for name in ("SHOWDESK_BACKEND", "SHOWDESK_SUPABASE_URL", "SHOWDESK_SUPABASE_KEY"):
        monkeypatch.delenv(name)
    code, synced = _run(capsys, "--db", str(db), "sync", "--once")
    assert code == 0, synced
    assert synced["pulled"] >= 12
    rotated = SecretStore.default().get(DEVICE_CREDENTIAL)
    assert rotated and rotated != first  # the new refresh token was stored back
