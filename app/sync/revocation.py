"""A kiosk removed from its organization: save what it could not upload, then forget the event.

When the server refuses a device because it was revoked (``DeviceRevoked``), :func:`retire`
1. writes every change still waiting in the outbox to an encrypted export file, sealed to the
   recovery key the organizer set when revoking (X25519 + HKDF-SHA256 + AES-256-GCM: only the
   holder of the matching private key can open it; the kiosk itself cannot any more),
2. deletes every replicated row, the conflicts and the search index, with SQLite's
   ``secure_delete`` and a VACUUM so the personal data is gone from the file, not just
   unlinked,
3. remembers the refusal (organization, date, export file) so the app shows it on every start
   and never syncs again.

Without a recovery key the outbox cannot be sealed for anyone but a thief: it is kept in the
replica (nothing is lost) and the screen says so. The organizer opens an export on their own
device with ``showdesk outbox import FILE --key KEYFILE``, which queues its changes with their
original mutation ids (a change the server already has answers "duplicate").
"""

from __future__ import annotations

import base64
import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete, select, text

from app.store.db import Database, get_meta, set_meta
from app.store.models import REPLICATED_TABLES, OutboxEntry, SyncConflict
from app.store.types import utcnow

log = logging.getLogger(__name__)

META_REVOKED = "sync.revoked"
EXPORT_FORMAT = "showdesk-outbox-export"
EXPORT_VERSION = 1
_HKDF_INFO = b"showdesk outbox export v1"
_SEARCH_DOCS = "ticket_search_docs"  # the search index's own copy of names, emails, companies
_FTS_TABLES = ("ticket_search", "ticket_numbers")


class ExportProblem(Exception):
    """An export file or key that cannot be used. ``str()`` says why, in words."""


@dataclass
class Retirement:
    """What the kiosk shows after it was removed."""

    message: str  # "This kiosk was removed from Maison Aurel on 2026-12-01 21:30 UTC."
    organization: str | None
    revoked_at: str | None
    export_path: str | None  # the sealed outbox, or None
    exported: int  # changes sealed into it
    kept: int  # changes kept unsealed in the replica (no recovery key)

    def advice(self) -> str:
        """What a person at the kiosk should do, in words."""
        if self.export_path:
            return (
                f"{_changes(self.exported)} that had not reached the server were saved, "
                f"encrypted, to {self.export_path}. Give this device back to your organizer: "
                "only they can open that file."
            )
        if self.kept:
            return (
                f"{_changes(self.kept)} that had not reached the server are still on this "
                "device (no recovery key was set when it was removed). Give this device back "
                "to your organizer."
            )
        return "Every change had reached the server. Give this device back to your organizer."


def _changes(n: int) -> str:
    return "1 change" if n == 1 else f"{n} changes"


# --- keys ---------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def _unb64(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def new_recovery_key() -> tuple[str, bytes]:
    """A fresh key pair: (public key as stored in ``devices.recovery_key``, private key PEM)."""
    private = X25519PrivateKey.generate()
    public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return _b64(public), pem


def _derive(shared: bytes, salt: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=_HKDF_INFO).derive(shared)


def seal(document: dict[str, Any], recovery_key: str, header: dict[str, Any]) -> dict[str, Any]:
    """``document`` encrypted to ``recovery_key``; ``header`` travels in clear, authenticated."""
    try:
        public = X25519PublicKey.from_public_bytes(_unb64(recovery_key))
    except ValueError as exc:
        raise ExportProblem("The recovery key the server sent is not a valid key.") from exc
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = ephemeral.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    key = _derive(ephemeral.exchange(public), salt=ephemeral_public)
    nonce = os.urandom(12)
    sealed = {"format": EXPORT_FORMAT, "v": EXPORT_VERSION, **header}
    aad = json.dumps(sealed, sort_keys=True).encode("utf-8")
    plaintext = json.dumps(document).encode("utf-8")
    ciphertext = AESGCM(key).encrypt(nonce, plaintext, aad)
    return {
        **sealed,
        "ephemeral_key": _b64(ephemeral_public),
        "nonce": _b64(nonce),
        "ciphertext": _b64(ciphertext),
    }


def open_sealed(envelope: dict[str, Any], private_key_pem: bytes) -> dict[str, Any]:
    """The document inside an export, or ExportProblem with a reason."""
    if not isinstance(envelope, dict) or envelope.get("format") != EXPORT_FORMAT:
        raise ExportProblem("This is not a Showdesk outbox export.")
    if envelope.get("v") != EXPORT_VERSION:
        raise ExportProblem("This export was written by a newer Showdesk: update first.")
    try:
        private = serialization.load_pem_private_key(private_key_pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ExportProblem("The key file is not a Showdesk recovery key.") from exc
    if not isinstance(private, X25519PrivateKey):
        raise ExportProblem("The key file is not a Showdesk recovery key.")
    header = {
        k: v for k, v in envelope.items() if k not in ("ephemeral_key", "nonce", "ciphertext")
    }
    try:
        ephemeral_public = _unb64(str(envelope["ephemeral_key"]))
        key = _derive(
            private.exchange(X25519PublicKey.from_public_bytes(ephemeral_public)),
            salt=ephemeral_public,
        )
        aad = json.dumps(header, sort_keys=True).encode("utf-8")
        plaintext = AESGCM(key).decrypt(
            _unb64(str(envelope["nonce"])), _unb64(str(envelope["ciphertext"])), aad
        )
    except Exception as exc:  # noqa: BLE001 - any failure means: not for this key, or altered
        raise ExportProblem(
            "This export cannot be opened with that key: it was sealed for another key, "
            "or the file was altered."
        ) from exc
    return json.loads(plaintext)


# --- retiring a replica ---------------------------------------------------------------------


def retire(
    db: Database,
    *,
    message: str,
    organization: str | None,
    revoked_at: str | None,
    recovery_key: str | None,
    export_dir: Path,
    device_id: str,
) -> Retirement:
    """Seal the outbox (when there is a key), wipe the replica's data, remember the refusal.

    Idempotent: a second call finds nothing left to export or wipe and keeps the first answer.
    """
    done = read_retirement(db)
    if done is not None:
        return done
    export_path: str | None = None
    exported = kept = 0
    with db.session() as session:
        entries = list(session.scalars(select(OutboxEntry).order_by(OutboxEntry.seq)))
        mutations = [_as_mutation(e) for e in entries]
    if mutations and recovery_key:
        export_path = str(
            _write_export(export_dir, mutations, recovery_key, device_id, organization)
        )
        exported = len(mutations)
    else:
        kept = len(mutations)
    _wipe(db, keep_outbox=kept > 0)
    retirement = Retirement(message, organization, revoked_at, export_path, exported, kept)
    with db.session() as session:
        set_meta(session, META_REVOKED, json.dumps(asdict(retirement)))
    log.warning("device revoked: %s; exported %d, kept %d", message, exported, kept)
    return retirement


def read_retirement(db: Database) -> Retirement | None:
    """The refusal this replica already acted on, or None."""
    with db.session() as session:
        raw = get_meta(session, META_REVOKED)
    if not raw:
        return None
    try:
        return Retirement(**json.loads(raw))
    except (TypeError, ValueError):
        return Retirement("This kiosk was removed from its organization.", None, None, None, 0, 0)


def _as_mutation(entry: OutboxEntry) -> dict[str, Any]:
    return {
        "mutation_id": entry.mutation_id,
        "table": entry.table_name,
        "op": entry.op,
        "row_id": entry.row_id,
        "payload": entry.payload,
        "base_version": entry.base_version,
        "schema_version": entry.schema_version,
        "created_at": entry.created_at.isoformat() if entry.created_at else None,
    }


def _write_export(
    folder: Path,
    mutations: list[dict[str, Any]],
    recovery_key: str,
    device_id: str,
    organization: str | None,
) -> Path:
    created = utcnow()
    header = {
        "device_id": device_id,
        "organization": organization,
        "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "count": len(mutations),
    }
    envelope = seal({"mutations": mutations}, recovery_key, header)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"showdesk-unsent-{device_id[:8]}-{created:%Y%m%d-%H%M%S}.sdexport"
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(envelope, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return path


def _wipe(db: Database, *, keep_outbox: bool) -> None:
    """Delete every replicated row (children first), the conflicts, the search index and
    (unless kept) the outbox; then overwrite the freed pages and shrink the file."""
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA secure_delete = ON")
        conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
        for model in reversed(REPLICATED_TABLES):
            conn.execute(delete(model))
        conn.execute(delete(SyncConflict))
        if not keep_outbox:
            conn.execute(delete(OutboxEntry))
        present = set(conn.execute(text("SELECT name FROM sqlite_master")).scalars())
        if _SEARCH_DOCS in present:
            conn.exec_driver_sql(f"DELETE FROM {_SEARCH_DOCS}")
        for table in _FTS_TABLES:
            if table in present:
                conn.exec_driver_sql(f"INSERT INTO {table} ({table}) VALUES ('rebuild')")
        conn.commit()
        try:
            conn.exec_driver_sql("VACUUM")
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.commit()
        except Exception:  # noqa: BLE001 - secure_delete already overwrote the rows' pages
            log.warning("could not shrink the wiped replica", exc_info=True)
