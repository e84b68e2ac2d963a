"""`showdesk hub ...`: run this laptop as the venue hub, and join kiosks to it.

On the hub (an organizer's or admin's device): ``serve`` runs it until stopped (Ctrl+C or
SIGTERM); ``code`` makes a single-use join code (QR payload, typed form, optional PNG);
``kiosks`` lists who joined; ``revoke`` withdraws one kiosk; ``status``; ``export`` /
``import`` move a stopped hub to another laptop. On a kiosk: ``join`` and ``leave``.
The hub's folder defaults to ``hub/`` in the user's data folder.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from pathlib import Path
from typing import Any

from app.cli.options import add_json, settings_for
from app.cli.output import EXIT_FAILED, EXIT_OK, fail, print_json, say

SERVE_HELP = "run this device as the venue hub until stopped (Ctrl+C)"
CODE_HELP = "make a single-use join code for one kiosk (valid 15 minutes)"
KIOSKS_HELP = "the kiosks that joined this hub"
REVOKE_HELP = "withdraw a kiosk's hub login (its next request is refused)"
STATUS_HELP = "is the hub running, how many kiosks, what waits to go up"
EXPORT_HELP = "pack a stopped hub's folder to move it to another laptop"
IMPORT_HELP = "unpack a hub exported from another laptop into an empty folder"
JOIN_HELP = "join this kiosk to a venue hub with its QR payload, or its address and code"
LEAVE_HELP = "forget the venue hub (this kiosk syncs with the server only)"
FIND_HELP = "look for venue hubs on this network (mDNS; a convenience: the QR always works)"
GROUP_HELP = "the venue hub: doors see each other's scans with no internet"

log = logging.getLogger(__name__)


def _default_dir() -> Path:
    from app.config import data_dir

    return data_dir() / "hub"


def _add_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dir", type=Path, default=None, help="the hub's folder (default: <data>/hub)")
    p.add_argument("--port", type=int, default=5433, help="the hub's TCP port on the venue network")


def _hub(args: argparse.Namespace):
    from app.sync.hub.server import Hub

    return Hub(args.dir or _default_dir(), args.port)


def _running_hub(args: argparse.Namespace):
    hub = _hub(args)
    if not hub.running():
        fail("The venue hub is not running here: start it with 'showdesk hub serve'.")
    return hub


# --- serve ------------------------------------------------------------------------------------


def configure_serve(p: argparse.ArgumentParser) -> None:
    _add_dir(p)
    p.add_argument(
        "--listen", default="*", help="addresses to listen on ('*': every network of this laptop)"
    )
    p.add_argument("--event", metavar="ID", help="the event (default: this device's event)")
    p.add_argument("--device", metavar="ID", help="this device's id (default: from its database)")
    p.add_argument("--db", type=Path, help="this device's database (its device and event ids)")
    p.add_argument(
        "--interval", type=float, default=2.0, help="seconds between relays with the server"
    )
    add_json(p)


def _device_and_event(args: argparse.Namespace, config: Any) -> tuple[str, str]:
    from app.store.db import get_meta, open_database

    device, event = args.device, args.event or config.event_id
    if not (device and event):
        db = open_database(config.db)
        try:
            with db.session() as session:
                device = device or get_meta(session, "device_id")
                event = event or get_meta(session, "event_id")
        finally:
            db.close()
    if not device or not event:
        fail(
            "This device has no device or event id yet: enrol it as an organizer or admin "
            "device first ('showdesk enrol join'), or give --device and --event."
        )
    return str(device), str(event)


def run_serve(args: argparse.Namespace) -> int:
    from app.sync.hub.relay import run_relay
    from app.sync.hub.server import HubProblem, PostgresUnavailable
    from app.sync.runner import _server_backend

    config = settings_for(args)
    device, event = _device_and_event(args, config)
    role = (config.device_role or "organizer").lower()
    if role not in ("organizer", "admin"):
        fail(f"Only an organizer's or admin's device can be the venue hub; this one is {role}.")
    from app.sync.hub.server import Hub

    hub = Hub(args.dir or _default_dir(), args.port, args.listen)
    try:
        hub.start()
        hub.configure(None, event, device)
    except (PostgresUnavailable, HubProblem) as exc:
        fail(str(exc))
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())

    def upstream():
        backend = _server_backend(config, device)
        if backend is None:
            from app.sync.backends import SyncError

            raise SyncError(
                "No sync server is set up: the hub serves the venue only.", transient=False
            )
        return backend

    relay = threading.Thread(
        target=run_relay, args=(hub, upstream, event, stop, args.interval), name="hub-relay"
    )
    relay.start()
    from app.sync.hub.discovery import Advertisement
    from app.sync.hub.server import lan_addresses

    addresses = [args.listen] if args.listen not in ("*", "0.0.0.0") else lan_addresses()
    advertisement = Advertisement(
        f"Showdesk hub {device[:8]}", hub.port, addresses or ["127.0.0.1"], event, hub.fingerprint
    )
    ready = {
        "ready": True,
        "port": hub.port,
        "fingerprint": hub.fingerprint,
        "folder": str(hub.root),
        "pid_hint": "stop with Ctrl+C or SIGTERM",
    }
    say(
        args.json,
        ready,
        f"Venue hub running on port {hub.port} (certificate {hub.fingerprint[-8:]}). "
        "Make a join code for each kiosk with 'showdesk hub code'. Ctrl+C stops it.",
    )
    try:
        while not stop.wait(0.5):
            pass
    finally:
        advertisement.close()
        stop.set()
        relay.join(timeout=30)
        hub.stop()
    return EXIT_OK


# --- codes, kiosks, revocation, status --------------------------------------------------------


def configure_code(p: argparse.ArgumentParser) -> None:
    _add_dir(p)
    p.add_argument(
        "--role",
        default="door",
        choices=("door", "producer", "organizer", "admin"),
        help="what the kiosk may do",
    )
    p.add_argument("--minutes", type=int, default=15, help="how long the code is valid")
    p.add_argument(
        "--address",
        action="append",
        default=None,
        help="the hub's address kiosks use (repeatable; default: this laptop's networks)",
    )
    p.add_argument("--qr", type=Path, help="also write the join QR as a PNG here")
    add_json(p)


def run_code(args: argparse.Namespace) -> int:
    from app.sync.hub.server import HubProblem

    hub = _running_hub(args)
    try:
        code = hub.create_join_code(args.role, args.address, minutes=args.minutes)
    except HubProblem as exc:
        fail(str(exc))
    if args.qr is not None:
        import qrcode

        qrcode.make(code.payload, border=4).save(str(args.qr))
    say(
        args.json,
        {
            "payload": code.payload,
            "typed": code.typed,
            "addresses": list(code.addresses),
            "port": code.port,
            "fingerprint": code.fingerprint,
            "role": code.role,
            "expires_at": code.expires_at.isoformat(),
        },
        f"Join code for one {code.role} kiosk, valid until "
        f"{code.expires_at.astimezone().strftime('%H:%M')}:\n"
        f"  scan the QR{' in ' + str(args.qr) if args.qr else ''}, or type on the kiosk\n"
        f"  address {', '.join(code.addresses)} (port {code.port}) and code {code.typed}",
    )
    return EXIT_OK


def configure_kiosks(p: argparse.ArgumentParser) -> None:
    _add_dir(p)
    add_json(p)


def run_kiosks(args: argparse.Namespace) -> int:
    kiosks = _running_hub(args).kiosks()
    rows = [
        {
            "device_id": k["device_id"],
            "name": k["name"],
            "role": k["staff_role"],
            "connected": k["connected"],
            "joined_at": k["joined_at"].isoformat(),
            "revoked_at": k["revoked_at"].isoformat() if k["revoked_at"] else None,
        }
        for k in kiosks
    ]
    if args.json:
        print_json(rows)
        return EXIT_OK
    if not rows:
        print("No kiosk has joined this hub yet.")
    for row in rows:
        state = "revoked" if row["revoked_at"] else "connected" if row["connected"] else "away"
        print(f"{row['name']:<24} {row['role']:<10} {state:<10} {row['device_id']}")
    return EXIT_OK


def configure_revoke(p: argparse.ArgumentParser) -> None:
    _add_dir(p)
    p.add_argument("who", help="the kiosk's device id or name (see 'showdesk hub kiosks')")
    add_json(p)


def run_revoke(args: argparse.Namespace) -> int:
    n = _running_hub(args).revoke(args.who)
    if not n:
        fail(f"No joined kiosk matches '{args.who}' (see 'showdesk hub kiosks').")
    say(args.json, {"revoked": n}, f"Revoked: '{args.who}' can no longer use this hub.")
    return EXIT_OK


def configure_status(p: argparse.ArgumentParser) -> None:
    _add_dir(p)
    add_json(p)


def run_status(args: argparse.Namespace) -> int:
    hub = _hub(args)
    if not hub.running():
        say(args.json, {"running": False}, "The venue hub is not running here.")
        return EXIT_FAILED
    status = {"running": True, **hub.status(), "fingerprint": hub.fingerprint}
    say(
        args.json,
        status,
        f"Venue hub running: {status['kiosks']} kiosk(s) connected, {status['waiting']} "
        f"change(s) waiting to go to the server, last relay {status.get('upstream_at') or 'never'}.",
    )
    return EXIT_OK


# --- moving the hub ----------------------------------------------------------------------------


def configure_export(p: argparse.ArgumentParser) -> None:
    _add_dir(p)
    p.add_argument("archive", type=Path, help="the .tar.gz to write")
    add_json(p)


def run_export(args: argparse.Namespace) -> int:
    from app.sync.hub.server import HubProblem

    try:
        path = _hub(args).export(args.archive)
    except HubProblem as exc:
        fail(str(exc))
    say(args.json, {"archive": str(path)}, f"Hub packed into {path}.")
    return EXIT_OK


def configure_import(p: argparse.ArgumentParser) -> None:
    _add_dir(p)
    p.add_argument("archive", type=Path, help="a .tar.gz from 'showdesk hub export'")
    add_json(p)


def run_import(args: argparse.Namespace) -> int:
    from app.sync.hub.server import Hub, HubProblem

    try:
        hub = Hub.import_(args.archive, args.dir or _default_dir(), args.port)
    except (HubProblem, OSError) as exc:
        fail(str(exc))
    say(
        args.json,
        {"folder": str(hub.root), "fingerprint": hub.fingerprint},
        f"Hub unpacked into {hub.root}; start it with 'showdesk hub serve'. Kiosks that joined "
        "it keep working if this laptop takes over the old one's address; otherwise join "
        "them again.",
    )
    return EXIT_OK


# --- the kiosk's side ----------------------------------------------------------------------------


def configure_join(p: argparse.ArgumentParser) -> None:
    p.add_argument("code", help="the join QR's text (showdesk-hub:?...), or the typed code")
    p.add_argument("--address", help="the hub's address[:port], with a typed code")
    p.add_argument("--db", type=Path, help="this kiosk's database (its device id)")
    add_json(p)


def run_join(args: argparse.Namespace) -> int:
    from app.secrets import SecretsUnavailable
    from app.sync.hub.join import join_and_keep
    from app.sync.hub.server import HubProblem

    config = settings_for(args)
    try:
        credential = join_and_keep(args.code, args.address, config)
    except HubProblem as exc:
        fail(str(exc))
    except SecretsUnavailable as exc:
        fail(f"{exc} This kiosk did not join; the code was not used.")
    say(
        args.json,
        {
            "address": credential.addresses[0],
            "port": credential.port,
            "role": credential.role,
            "event_id": credential.event_id,
        },
        f"Joined the venue hub at {credential.addresses[0]}:{credential.port} as a "
        f"{credential.role} kiosk. Doors now see each other's scans through it.",
    )
    return EXIT_OK


def configure_leave(p: argparse.ArgumentParser) -> None:
    add_json(p)


def run_leave(args: argparse.Namespace) -> int:
    from app.sync.hub.join import leave

    leave(settings_for(args))
    say(args.json, {"left": True}, "This kiosk no longer uses a venue hub.")
    return EXIT_OK


def configure_find(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seconds", type=float, default=2.0, help="how long to listen")
    add_json(p)


def run_find(args: argparse.Namespace) -> int:
    from app.sync.hub.discovery import browse

    found = browse(args.seconds)
    hubs = [
        {
            "name": h.name,
            "addresses": list(h.addresses),
            "port": h.port,
            "event_id": h.event_id,
            "certificate_ends_with": h.fingerprint_tail,
        }
        for h in found.hubs
    ]
    lines = [
        f"{h.name}: {', '.join(h.addresses)} port {h.port} (certificate ...{h.fingerprint_tail})"
        for h in found.hubs
    ]
    say(
        args.json,
        {"hubs": hubs, "problem": found.problem},
        "\n".join(lines)
        or f"No venue hub found ({found.problem}). Use the address on the hub's screen.",
    )
    return EXIT_OK
