"""The Supabase backend (supabase-py: Auth + PostgREST RPC) through the PostgREST-compatible
gateway in front of the real database."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import select

from app.store.db import open_database, set_meta
from app.store.models import Ticket
from app.sync.backends import SupabaseBackend, SyncError
from app.sync.engine import SyncEngine

pytestmark = pytest.mark.postgres

PASSWORD = "correct horse battery staple"


def _kiosk(world, gateway, tmp_path, name="Kiosk S"):
    device = world.sdb.create_device(world.org, name, "West")
    user = gateway.create_user(
        f"{device[:8]}@kiosks.example",
        PASSWORD,
        organization_id=world.org.id,
        staff_role="door",
        device_id=device,
    )
    db = open_database(tmp_path / f"{device}.sqlite")
    with db.session() as session:
        set_meta(session, "device_id", device)
    backend = SupabaseBackend(gateway.url, gateway.anon_key, user.email, PASSWORD, timeout=10)
    return SyncEngine(db, backend, world.event_id, device), db


def test_sync_over_https_rpc_with_sign_in(world, gateway, tmp_path):
    engine, db = _kiosk(world, gateway, tmp_path)
    report = engine.sync_once()
    assert report.pull.upserted >= 25
    with db.session() as session:
        code = session.scalars(select(Ticket.qr_code_data)).first()
    from app.store.checkin_service import CheckinService

    result = CheckinService(db, world.event_id, engine.device_id, gate="West").scan(code)
    assert result.verdict == "admitted"
    assert engine.sync_once().push.applied == 1
    assert [str(r["id"]) for r in world.server_checkins()] == [result.checkin_id]
    assert engine.status().online is True
    assert engine.clock_skew_seconds is not None and abs(engine.clock_skew_seconds) < 5
    assert any(path.startswith("/auth/v1/token") for _m, path, _s in gateway.requests)
    db.close()


def test_the_sign_in_password_comes_from_the_secret_store(world, gateway, tmp_path):
    """Settings without a password (as provisioning writes them): the backend the runner builds
    signs in with the one kept in the secret store."""
    from app.config import load_config
    from app.secrets import SUPABASE_PASSWORD, SecretStore
    from app.sync.runner import build_backend

    engine, db = _kiosk(world, gateway, tmp_path)
    email = engine.backend.email
    engine.backend.close()
    settings = tmp_path / "config.toml"
    settings.write_text(
        f'[showdesk]\nbackend = "supabase"\nsupabase_url = "{gateway.url}"\n'
        f'supabase_key = "{gateway.anon_key}"\nsupabase_email = "{email}"\n'
    )
    config = load_config(settings, env={})
    assert config.problems == [] and config.supabase_password is None
    engine.backend = build_backend(config, engine.device_id)
    with pytest.raises(SyncError):  # nothing kept yet: no sign-in, the server refuses
        engine.backend.pull(world.event_id, "", 10)
    engine.backend.close()

    SecretStore.default().set(SUPABASE_PASSWORD, PASSWORD)
    engine.backend = build_backend(config, engine.device_id)
    assert engine.sync_once().pull.upserted >= 25
    assert any(path.startswith("/auth/v1/token") for _m, path, _s in gateway.requests)
    engine.backend.close()
    db.close()


def test_expired_jwt_mid_sync_is_refreshed_and_sync_continues(world, gateway, tmp_path):
    gateway.access_token_ttl = 2  # sessions that die almost at once
    engine, db = _kiosk(world, gateway, tmp_path)
    engine.sync_once()
    # The kiosk believes its token is good for an hour (its clock is wrong, say), but the
    # server's clock says it expired: the RPC answers 401 JWT expired mid-sync.
    engine.backend._session.expires_at = time.time() + 3600
    time.sleep(3)
    gateway.access_token_ttl = 3600
    world.sdb.execute(
        "update attendees set notes = 'after expiry' where id = "
        "(select id from attendees order by id limit 1)"
    )
    report = engine.sync_once()
    assert report.pull.upserted == 1
    statuses = [(path, status) for _m, path, status in gateway.requests]
    assert any(status == 401 for path, status in statuses if path.startswith("/rest/v1/rpc"))
    assert any("refresh_token" in path for path, _ in statuses)
    db.close()


def test_server_outage_is_transient_and_words_say_so(world, gateway, tmp_path):
    engine, db = _kiosk(world, gateway, tmp_path)
    engine.sync_once()
    gateway.forced_status = 503
    with pytest.raises(SyncError) as caught:
        engine.sync_once()
    assert caught.value.transient
    assert engine.status().online is False
    gateway.forced_status = None
    engine.sync_once()
    assert engine.status().online is True
    db.close()


def test_provision_registers_the_device_and_writes_settings(world, gateway, tmp_path, monkeypatch):
    from app.cli import provision as provision_command
    from app.config import load_config
    from app.secrets import SUPABASE_PASSWORD, SecretStore
    from app.sync import provision

    user = gateway.create_user(
        "organizer@maison.example", PASSWORD, organization_id=world.org.id, staff_role="organizer"
    )
    token = gateway.session_for(user)["access_token"]
    code = json.dumps(
        {
            "v": 1,
            "url": gateway.url,
            "key": gateway.anon_key,
            "token": token,
            "email": "kiosk7@maison.example",
            "password": "pw-7",
            "event_id": world.event_id,
            "name": "Kiosk 7",
            "gate": "East",
        }
    )
    config_file = tmp_path / "config.toml"
    monkeypatch.setenv("SHOWDESK_CONFIG", str(config_file))
    monkeypatch.setenv("SHOWDESK_DB", str(tmp_path / "k7.sqlite"))

    class Args:
        pass

    args = Args()
    args.code, args.image, args.json = code, None, True
    assert provision_command.run(args) == 0
    config = load_config(config_file, env={})
    assert (config.backend, config.supabase_url, config.gate) == ("supabase", gateway.url, "East")
    assert config.event_id == world.event_id and config.problems == []
    # the password is in the secret store, never in the settings file
    assert "pw-7" not in config_file.read_text(encoding="utf-8")
    assert SecretStore.default().get(SUPABASE_PASSWORD) == "pw-7"
    assert config.supabase_password is None
    device = world.sdb.scalar("select id::text from devices where name = 'Kiosk 7'")
    assert device is not None
    with pytest.raises(provision.ProvisionProblem):
        provision.parse_code('{"v": 1, "url": "ftp://x"}')
    with pytest.raises(provision.ProvisionProblem):
        provision.parse_code("hello")
