"""``showdesk devices revoke`` and ``showdesk outbox import``: removing a lost kiosk, and taking
in what it could not upload.

Revoking (an organizer's or admin's device, online): the device row gets ``revoked_at`` and a
fresh recovery public key; the matching private key is written to a file only the organizer
keeps. From its next sync on, the kiosk is refused everything; it seals its unsent changes to
that public key and wipes its replica (app.sync.revocation). The organizer then brings the
export file to their own device and runs ``showdesk outbox import FILE --key KEYFILE``.
"""

from __future__ import annotations

import argparse
import json
import os
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select

from app.config import data_dir, load_config
from app.store.db import device_id, open_database
from app.store.models import Device, OutboxEntry
from app.store.types import utcnow
from app.sync.backends import SyncError
from app.sync.revocation import ExportProblem, new_recovery_key, open_sealed
from app.sync.runner import build_backend


def _say(as_json: bool, payload: dict[str, Any], text: str) -> None:
    print(json.dumps(payload) if as_json else text, flush=True)


def _find_device(session, wanted: str) -> list[Device]:
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


def cli_devices_revoke(args: argparse.Namespace) -> int:
    as_json = bool(getattr(args, "json", False))
    config = load_config()
    if getattr(args, "db", None):
        config.db = args.db
    db = open_database(config.db)
    with db.session() as session:
        me = device_id(session)
        found = [(d.id, d.name, d.revoked_at) for d in _find_device(session, args.device)]
    if len(found) != 1:
        words = "No device" if not found else f"{len(found)} devices"
        _say(
            as_json,
            {"error": "device not found" if not found else "ambiguous", "matches": len(found)},
            f"showdesk: {words} of this event's organization match '{args.device}': give its "
            "name as the Sync tab shows it, or its id.",
        )
        return 2
    target, name, revoked_at = found[0]
    if target == me:
        _say(as_json, {"error": "self"}, "showdesk: a device cannot revoke itself.")
        return 2
    try:
        backend = build_backend(config, me)
    except SyncError as exc:
        _say(as_json, {"error": str(exc)}, f"showdesk: {exc}")
        return 2
    if backend is None:
        _say(
            as_json,
            {"error": "no backend"},
            "showdesk: revoking needs the sync server; this device works offline only.",
        )
        return 2
    public, private_pem = new_recovery_key()
    key_path = Path(args.key_out) if args.key_out else _default_key_path(name, target)
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
        _say(as_json, {"error": str(exc)}, f"showdesk: the device was not revoked: {exc}")
        return 1
    finally:
        backend.close()
    if result.status not in ("applied", "duplicate"):
        key_path.unlink(missing_ok=True)
        reason = result.reason or "the server refused it"
        _say(as_json, {"error": reason}, f"showdesk: the device was not revoked: {reason}")
        return 1
    _say(
        as_json,
        {"device_id": target, "name": name, "revoked_at": when, "recovery_key_file": str(key_path)},
        f"Revoked '{name}'. At its next sync it stops, seals what it had not uploaded and erases "
        f"the guest list. Keep {key_path} safe: it is the only key that opens that file "
        "(showdesk outbox import FILE --key KEYFILE).",
    )
    return 0


def _default_key_path(name: str, device: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in name).strip("-") or "device"
    return data_dir() / "recovery-keys" / f"{safe}-{device[:8]}.pem"


def _write_private(path: Path, pem: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)


def cli_outbox_import(args: argparse.Namespace) -> int:
    """Queue the changes of a revoked kiosk's export on this device, with their own ids."""
    as_json = bool(getattr(args, "json", False))
    try:
        envelope = json.loads(Path(args.file).read_text(encoding="utf-8"))
        document = open_sealed(envelope, Path(args.key).read_bytes())
    except OSError as exc:
        _say(as_json, {"error": str(exc)}, f"showdesk: cannot read {exc.filename}: {exc.strerror}.")
        return 2
    except json.JSONDecodeError:
        _say(as_json, {"error": "not json"}, "showdesk: this is not a Showdesk outbox export.")
        return 2
    except ExportProblem as exc:
        _say(as_json, {"error": str(exc)}, f"showdesk: {exc}")
        return 2
    config = load_config()
    if getattr(args, "db", None):
        config.db = args.db
    db = open_database(config.db)
    queued = skipped = 0
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
    origin = envelope.get("device_id", "?")
    _say(
        as_json,
        {"queued": queued, "skipped": skipped, "from_device": origin},
        f"Queued {queued} change(s) from device {str(origin)[:8]} for upload with this device's "
        f"next sync ({skipped} already queued here). A change the server already has is "
        "answered 'duplicate' and not applied twice.",
    )
    return 0
