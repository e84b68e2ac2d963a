"""Removing a lost kiosk, and taking in what it could not upload (the work behind
``showdesk devices revoke`` and ``showdesk outbox import``).

Revoking (an organizer's or admin's device, online): the device row gets ``revoked_at`` and a
fresh recovery public key; the matching private key is written to a file only the organizer
keeps. From its next sync on, the kiosk is refused everything; it seals its unsent changes to
that public key and wipes its replica (app.sync.revocation). The organizer then brings the
export file to their own device and imports it with :func:`import_outbox`.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select

from app.config import Config, data_dir
from app.store.db import device_id, open_database
from app.store.models import Device, OutboxEntry
from app.store.types import utcnow
from app.sync.backends import SyncError
from app.sync.revocation import ExportProblem, new_recovery_key, open_sealed
from app.sync.runner import build_backend


class DeviceProblem(Exception):
    """Nothing was done: the request cannot be carried out as given (no such device, no sync
    server, an unreadable export). ``str()`` says why; ``reason`` is a short word for JSON."""

    def __init__(self, message: str, reason: str, **details: Any) -> None:
        super().__init__(message)
        self.reason = reason
        self.details = details


class NotRevoked(Exception):
    """The server did not take the revocation (network, refusal). ``str()`` says why."""


@dataclass(frozen=True)
class Revoked:
    device_id: str
    name: str
    revoked_at: str
    recovery_key_file: Path


@dataclass(frozen=True)
class Imported:
    queued: int
    skipped: int
    from_device: str


def _find_device(session: Any, wanted: str) -> list[Device]:
    wanted = wanted.strip()
    return list(
        session.scalars(
            select(Device).where(
                or_(
                    Device.id == wanted, Device.id.startswith(wanted.lower()), Device.name == wanted
                )
            )
        )
    )


def revoke_device(config: Config, device: str, key_out: Path | None = None) -> Revoked:
    """Revoke ``device`` (its name or id) through the server and write its recovery key."""
    db = open_database(config.db)
    try:
        with db.session() as session:
            me = device_id(session)
            found = [(d.id, d.name, d.revoked_at) for d in _find_device(session, device)]
    finally:
        db.close()
    if len(found) != 1:
        words = "No device" if not found else f"{len(found)} devices"
        raise DeviceProblem(
            f"{words} of this event's organization match '{device}': give its "
            "name as the Sync tab shows it, or its id.",
            "device not found" if not found else "ambiguous",
            matches=len(found),
        )
    target, name, _revoked_at = found[0]
    if target == me:
        raise DeviceProblem("A device cannot revoke itself.", "self")
    try:
        backend = build_backend(config, me)
    except SyncError as exc:
        raise DeviceProblem(str(exc), "backend") from exc
    if backend is None:
        raise DeviceProblem(
            "Revoking needs the sync server; this device works offline only.", "no backend"
        )
    public, private_pem = new_recovery_key()
    key_path = Path(key_out) if key_out else _default_key_path(name, target)
    _write_private(key_path, private_pem)
    when = utcnow().strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    mutation = {
        "mutation_id": str(uuid.uuid4()),
        "table": "devices",
        "op": "update",
        "row_id": target,
        "payload": {"id": target, "revoked_at": when, "recovery_key": public},
        "base_version": None,
    }
    try:
        [result] = backend.push(me, [mutation])
    except SyncError as exc:
        key_path.unlink(missing_ok=True)
        raise NotRevoked(str(exc)) from exc
    finally:
        backend.close()
    if result.status not in ("applied", "duplicate"):
        key_path.unlink(missing_ok=True)
        raise NotRevoked(result.reason or "the server refused it")
    return Revoked(target, name, when, key_path)


def _default_key_path(name: str, device: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in name).strip("-") or "device"
    return data_dir() / "recovery-keys" / f"{safe}-{device[:8]}.pem"


def _write_private(path: Path, pem: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)


def import_outbox(config: Config, export: Path, key: Path) -> Imported:
    """Queue the changes of a revoked kiosk's export on this device, with their own ids."""
    try:
        envelope = json.loads(Path(export).read_text(encoding="utf-8"))
        document = open_sealed(envelope, Path(key).read_bytes())
    except OSError as exc:
        raise DeviceProblem(f"Cannot read {exc.filename}: {exc.strerror}.", str(exc)) from exc
    except json.JSONDecodeError as exc:
        raise DeviceProblem("This is not a Showdesk outbox export.", "not json") from exc
    except ExportProblem as exc:
        raise DeviceProblem(str(exc), str(exc)) from exc
    db = open_database(config.db)
    queued = skipped = 0
    try:
        with db.session() as session:
            known = set(session.scalars(select(OutboxEntry.mutation_id)))
            for m in document.get("mutations", []):
                if not isinstance(m, dict) or m.get("mutation_id") in known:
                    skipped += 1
                    continue
                session.add(
                    OutboxEntry(
                        mutation_id=str(m["mutation_id"]),
                        table_name=str(m["table"]),
                        row_id=str(m["row_id"]),
                        op=str(m["op"]),
                        payload=m.get("payload") or {},
                        base_version=m.get("base_version"),
                        schema_version=int(m.get("schema_version") or 1),
                    )
                )
                queued += 1
    finally:
        db.close()
    return Imported(queued, skipped, str(envelope.get("device_id", "?")))
