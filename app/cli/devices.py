"""`showdesk devices revoke NAME [--key-out FILE]` and `showdesk outbox import FILE --key KEY`:
removing a lost or stolen device, and taking in the changes it sealed."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli.options import add_json, settings_for
from app.cli.output import EXIT_FAILED, EXIT_OK, EXIT_USAGE, fail, say

if TYPE_CHECKING:
    pass

REVOKE_HELP = (
    "remove a lost or stolen device: it stops syncing, seals its unsent changes to a "
    "recovery key and erases its guest list (organizer or admin, online)"
)
IMPORT_HELP = "queue the unsent changes a revoked device sealed, for upload from here"


def configure_revoke(p: argparse.ArgumentParser) -> None:
    p.add_argument("device", help="the device's name (as on the Sync tab) or id")
    p.add_argument(
        "--key-out",
        type=Path,
        metavar="FILE",
        help="where to write the recovery key that opens its export "
        "(default: recovery-keys/ in the app's data folder)",
    )
    add_json(p)


def configure_import(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", type=Path, help="the .sdexport file the revoked device wrote")
    p.add_argument("--key", type=Path, required=True, help="the key file 'devices revoke' wrote")
    add_json(p)


def run_revoke(args: argparse.Namespace) -> int:
    from app.sync.devices import DeviceProblem, NotRevoked, revoke_device

    try:
        done = revoke_device(settings_for(args), args.device, args.key_out)
    except DeviceProblem as exc:
        fail(str(exc), EXIT_USAGE, reason=exc.reason, **exc.details)
    except NotRevoked as exc:
        fail(f"The device was not revoked: {exc}", EXIT_FAILED)
    say(
        args.json,
        {
            "device_id": done.device_id,
            "name": done.name,
            "revoked_at": done.revoked_at,
            "recovery_key_file": str(done.recovery_key_file),
        },
        f"Revoked '{done.name}'. At its next sync it stops, seals what it had not uploaded and "
        f"erases the guest list. Keep {done.recovery_key_file} safe: it is the only key that "
        "opens that file (showdesk outbox import FILE --key KEYFILE).",
    )
    return EXIT_OK


def run_import(args: argparse.Namespace) -> int:
    from app.sync.devices import DeviceProblem, import_outbox

    try:
        done = import_outbox(settings_for(args), Path(args.file), Path(args.key))
    except DeviceProblem as exc:
        fail(str(exc), EXIT_USAGE, reason=exc.reason)
    say(
        args.json,
        {"queued": done.queued, "skipped": done.skipped, "from_device": done.from_device},
        f"Queued {done.queued} change(s) from device {done.from_device[:8]} for upload with this "
        f"device's next sync ({done.skipped} already queued here). A change the server already "
        "has is answered 'duplicate' and not applied twice.",
    )
    return EXIT_OK
