"""A kiosk reported stolen, end to end: the organizer revokes it with the command line, the
kiosk's next sync is refused, it seals its unsent scans to the organizer's recovery key, wipes
its replica and stops; the organizer imports the sealed file and the scans reach the server.

Both backends, each with the README's set-up: a kiosk account with its organization and role
in app_metadata and no device id; the device is the one the account registered.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.cli.devices import run_import, run_revoke
from app.store.db import open_database, set_meta
from app.store.models import Attendee, OutboxEntry, Ticket
from app.sync.backends import DeviceRevoked, PostgresBackend, SupabaseBackend
from app.sync.engine import SyncEngine
from app.sync.revocation import ExportProblem, new_recovery_key, open_sealed, read_retirement
from app.sync.runner import SyncRunner

pytestmark = pytest.mark.postgres


def _postgres_backend(world, gateway, role: str, sub: str) -> PostgresBackend:
    claims = world.sdb.claims(world.org, role, sub=sub)
    return PostgresBackend(world.sdb.dsn, "authenticated", claims, timeout=5)


def _supabase_backend(world, gateway, role: str, sub: str) -> SupabaseBackend:
    email = f"{role}-{sub[:8]}@maison.test"
    gateway.create_user(
        email, "pw-123456", organization_id=world.org.id, staff_role=role, user_id=sub
    )
    return SupabaseBackend(gateway.url, gateway.anon_key, email, "pw-123456")


BACKENDS = {"postgres": _postgres_backend, "supabase": _supabase_backend}


def _replica(world, name: str, backend) -> tuple[SyncEngine, str]:
    device = backend.register_device(name, "North")
    db = open_database(world.folder / f"{name}.sqlite")
    with db.session() as session:
        set_meta(session, "device_id", device)
        set_meta(session, "event_id", world.event_id)
    return SyncEngine(db, backend, world.event_id, device), device


@pytest.mark.parametrize("kind", sorted(BACKENDS))
def test_a_revoked_kiosk_seals_wipes_stops_and_the_organizer_recovers(
    kind, world, gateway, tmp_path, monkeypatch
):
    make = BACKENDS[kind]
    kiosk, kiosk_device = _replica(world, "kiosk", make(world, gateway, "door", str(uuid.uuid4())))
    runner = SyncRunner(kiosk, pull_interval=3600)
    runner.run_once()
    with kiosk.db.session() as session:
        codes = list(session.scalars(select(Ticket.qr_code_data).order_by(Ticket.ticket_number)))
        assert session.scalar(select(func.count()).select_from(Attendee)) == 12
    # the venue's internet is down: three scans stay queued
    from app.store.checkin_service import CheckinService

    door = CheckinService(kiosk.db, world.event_id, kiosk_device, "North")
    unsent = [door.scan(code) for code in codes[:3]]
    assert all(r.verdict == "admitted" for r in unsent)

    organizer, organizer_device = _replica(
        world, "organizer", make(world, gateway, "organizer", str(uuid.uuid4()))
    )
    organizer.sync_once()  # the organizer's replica knows the kiosk by name
    config_file = tmp_path / "organizer.toml"
    _write_config(config_file, organizer, world, gateway, kind)
    monkeypatch.setenv("SHOWDESK_CONFIG", str(config_file))
    key_file = tmp_path / "keys" / "kiosk.pem"
    assert (
        run_revoke(
            argparse.Namespace(device="kiosk", key_out=key_file, json=True, db=organizer.db.path)
        )
        == 0
    )
    assert key_file.stat().st_mode & 0o077 == 0  # the organizer's eyes only

    # the kiosk's next sync: refused, sealed, wiped, stopped
    published = []
    runner.add_listener(published.append)
    assert runner.run_once() is None
    retirement = runner.retirement
    assert retirement is not None and published[-1].revoked == retirement
    assert retirement.message.startswith("This kiosk was removed from Maison Sync on ")
    assert retirement.exported == 3 and retirement.kept == 0
    assert runner.run_once() is None  # stopped: no request goes out again
    with kiosk.db.session() as session:
        for model in (Ticket, Attendee, OutboxEntry):
            assert session.scalar(select(func.count()).select_from(model)) == 0, model
    raw = Path(kiosk.db.path).read_bytes()
    assert b"Guest0" not in raw  # the attendees' names are gone from the file itself
    export = Path(retirement.export_path)
    sealed = json.loads(export.read_text())
    assert sealed["count"] == 3 and "Guest" not in export.read_text()
    # a restart still knows, and still does not sync
    assert read_retirement(kiosk.db) == retirement
    again = SyncRunner(kiosk, pull_interval=3600)
    again.start()
    assert again.run_once() is None

    # the organizer opens it with the key and the three scans reach the server
    assert (
        run_import(argparse.Namespace(file=export, key=key_file, json=True, db=organizer.db.path))
        == 0
    )
    report = organizer.sync_once()
    assert report.push.applied == 3
    server = {str(r["id"]) for r in world.server_checkins()}
    assert {r.checkin_id for r in unsent} <= server
    # importing twice queues nothing new, and the server would answer "duplicate" anyway
    run_import(argparse.Namespace(file=export, key=key_file, json=True, db=organizer.db.path))
    assert organizer.sync_once().push.applied == 0
    organizer.backend.close()
    organizer.db.close()


def _write_config(path: Path, organizer: SyncEngine, world, gateway, kind: str) -> None:
    backend = organizer.backend
    if kind == "postgres":
        lines = [
            'backend = "postgres"',
            f"postgres_dsn = {json.dumps(world.sdb.dsn)}",
            f"postgres_claims = {json.dumps(json.dumps(backend.claims))}",
        ]
    else:
        lines = [
            'backend = "supabase"',
            f"supabase_url = {json.dumps(gateway.url)}",
            f"supabase_key = {json.dumps(gateway.anon_key)}",
            f"supabase_email = {json.dumps(backend.email)}",
            'supabase_password = "pw-123456"',
        ]
    lines.append(f"db = {json.dumps(str(organizer.db.path))}")
    path.write_text("\n".join(lines) + "\n")


def test_without_a_recovery_key_the_outbox_is_kept(world, tmp_path):
    backend = _postgres_backend(world, None, "door", str(uuid.uuid4()))
    kiosk, device = _replica(world, "kiosk", backend)
    kiosk.sync_once()
    from app.store.checkin_service import CheckinService

    with kiosk.db.session() as session:
        code = session.scalar(select(Ticket.qr_code_data).limit(1))
    CheckinService(kiosk.db, world.event_id, device, "North").scan(code)
    world.sdb.execute("UPDATE devices SET revoked_at = now() WHERE id = %s", (device,))
    runner = SyncRunner(kiosk, pull_interval=3600)
    runner.run_once()
    assert runner.retirement.export_path is None and runner.retirement.kept == 1
    assert "still on this device" in runner.retirement.advice()
    with kiosk.db.session() as session:
        assert session.scalar(select(func.count()).select_from(OutboxEntry)) == 1
        assert session.scalar(select(func.count()).select_from(Ticket)) == 0


def test_a_sealed_export_opens_only_with_its_key(tmp_path):
    from app.sync.revocation import seal

    public, private = new_recovery_key()
    _, other = new_recovery_key()
    envelope = seal({"mutations": [{"x": 1}]}, public, {"count": 1})
    assert open_sealed(envelope, private) == {"mutations": [{"x": 1}]}
    with pytest.raises(ExportProblem, match="another key"):
        open_sealed(envelope, other)
    tampered = dict(envelope, count=2)  # the clear header is authenticated too
    with pytest.raises(ExportProblem, match="altered"):
        open_sealed(tampered, private)
    with pytest.raises(ExportProblem, match="not a Showdesk recovery key"):
        open_sealed(envelope, b"-----BEGIN NOTHING-----")
    with pytest.raises(ExportProblem, match="not a Showdesk outbox export"):
        open_sealed({"hello": 1}, private)


def test_the_refusal_is_recognised_from_either_backend_error_shape():
    from postgrest.exceptions import APIError

    from app.sync.backends import _http_error, revoked_from

    detail = json.dumps({"organization": "Maison", "revoked_at": "2026-12-01T21:30:00Z"})
    error = _http_error(
        APIError(
            {
                "message": "This kiosk was removed from Maison on 2026-12-01 21:30 UTC.",
                "code": "42501",
                "hint": "showdesk:device-revoked",
                "details": detail,
            }
        )
    )
    assert isinstance(error, DeviceRevoked) and not error.transient
    assert error.organization == "Maison" and error.recovery_key is None
    # any other 42501 is an ordinary refusal
    assert revoked_from("permission denied", None, None) is None
    assert revoked_from("x", "showdesk:device-revoked", "not json").organization is None


def test_the_wiped_file_has_no_wal_left_with_names(world):
    backend = _postgres_backend(world, None, "door", str(uuid.uuid4()))
    kiosk, device = _replica(world, "kiosk", backend)
    kiosk.sync_once()
    world.sdb.execute("UPDATE devices SET revoked_at = now() WHERE id = %s", (device,))
    SyncRunner(kiosk, pull_interval=3600).run_once()
    kiosk.db.close()
    for path in Path(kiosk.db.path).parent.glob(Path(kiosk.db.path).name + "*"):
        assert b"Guest0" not in path.read_bytes(), path.name
    with sqlite3.connect(kiosk.db.path) as conn:
        assert conn.execute("SELECT count(*) FROM tickets").fetchone()[0] == 0
