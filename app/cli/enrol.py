"""`showdesk enrol create|revoke|join`: enrolling a kiosk with a single-use code.

An organizer or admin creates an enrolment (``create``: a typed code, a QR text, an expiry),
and withdraws an unused one (``revoke``); the new kiosk exchanges the code for a credential of
its own (``join``). The server side is migrations/supabase/0021_enrolment.sql; the rules of
the code are app/sync/enrolment.py.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.cli.options import add_json
from app.cli.output import EXIT_FAILED, EXIT_OK, EXIT_USAGE, fail, say

if TYPE_CHECKING:
    from app.config import Config

GROUP_HELP = "enrol kiosks with single-use codes"
CREATE_HELP = (
    "create a single-use enrolment code for a new kiosk (organizer or admin, online): prints "
    "the typed code, the QR text and when it expires"
)
REVOKE_HELP = "withdraw an enrolment code that was not used yet (organizer or admin, online)"
JOIN_HELP = (
    "enrol this device with a code from the organizer (typed, QR text, or --image with the "
    "QR): it gets a credential of its own and its settings"
)
ROLES = ("door", "producer", "organizer", "admin")
# Refusals that are about what was typed or scanned (exit 2); the server's answers are 1.
BAD_CODE_KINDS = frozenset(
    {"empty", "too-long", "not-enrolment", "version", "bad-code", "bad-server", "other-server"}
)


def configure_create(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--event",
        metavar="ID",
        help="the event the kiosk works at (default: event_id from the settings)",
    )
    p.add_argument(
        "--role", choices=ROLES, default="door", help="what the kiosk may do at that event"
    )
    p.add_argument(
        "--name", required=True, help='the kiosk\'s name, as on the Sync tab ("Kiosk 3")'
    )
    p.add_argument("--gate", metavar="NAME", help='the gate it scans at ("North door")')
    p.add_argument(
        "--qr-out",
        type=Path,
        metavar="FILE",
        help="also write the QR code to FILE (.png or .svg) to print or show",
    )
    add_json(p)


def configure_revoke(p: argparse.ArgumentParser) -> None:
    p.add_argument("enrolment_id", help="the id 'enrol create' printed")
    add_json(p)


def configure_join(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "code",
        nargs="?",
        help="the typed code (7 groups of 4) or the QR text (SDE1:...); or give --image",
    )
    p.add_argument("--image", type=Path, metavar="FILE", help="an image holding the QR code")
    p.add_argument(
        "--db", dest="db", type=Path, metavar="PATH", help="database file (default: settings)"
    )
    add_json(p)


def _config() -> Config:
    from app.config import load_config

    return load_config()


def _problem(exc: Any) -> None:
    code = EXIT_USAGE if exc.kind in BAD_CODE_KINDS else EXIT_FAILED
    fail(str(exc), code, kind=exc.kind)


def _organizer(config: Config) -> tuple[Any, Any]:
    """The configured, signed-in backend and the server a kiosk will reach."""
    from app.sync.backends import SyncError
    from app.sync.enrolment import EnrolmentServer, server_of_dsn
    from app.sync.runner import build_backend

    try:
        backend = build_backend(config)
    except SyncError as exc:
        fail(str(exc), EXIT_USAGE)
    if backend is None:
        fail(
            "No sync server is set up on this device: enrolment codes are created on a device "
            "signed in to the event's server as an organizer or admin.",
            EXIT_USAGE,
        )
    if config.backend == "postgres":
        return backend, server_of_dsn(config.postgres_dsn or "")
    return backend, EnrolmentServer(
        "supabase", (config.supabase_url or "").rstrip("/"), config.supabase_key
    )


def run_create(args: argparse.Namespace) -> int:
    from app.sync.enrolment import EnrolmentProblem, create_enrolment

    config = _config()
    event = args.event or config.event_id
    if not event:
        fail("Give the event with --event ID (no event_id in the settings).", EXIT_USAGE)
    if args.qr_out is not None and args.qr_out.suffix.lower() not in (".png", ".svg"):
        fail(f"--qr-out must name a .png or .svg file, not {args.qr_out}.", EXIT_USAGE)
    backend, server = _organizer(config)
    try:
        invitation = create_enrolment(
            backend, server, event_id=event, role=args.role, device_name=args.name, gate=args.gate
        )
    except EnrolmentProblem as exc:
        _problem(exc)
    finally:
        backend.close()
    written = None
    if args.qr_out is not None:
        written = _write_qr(invitation.qr, args.qr_out, invitation.code)
    where = f" at {invitation.gate}" if invitation.gate else ""
    say(
        args.json,
        {
            "enrolment_id": invitation.enrolment_id,
            "code": invitation.code,
            "qr": invitation.qr,
            "expires_at": invitation.expires_at,
            "event_id": invitation.event_id,
            "role": invitation.role,
            "gate": invitation.gate,
            "device_name": invitation.device_name,
            "qr_file": str(written) if written else None,
        },
        "\n".join(
            [
                f"Enrolment for {invitation.device_name} ({invitation.role}{where}), "
                f"single use, expires {invitation.expires_at}:",
                f"  code: {invitation.code}",
                f"  QR:   {invitation.qr}",
                *([f"  QR image: {written}"] if written else []),
                f"  id:   {invitation.enrolment_id} (to withdraw it: showdesk enrol revoke ID)",
                "On the new kiosk: scan the QR on its enrolment screen, type the code, or run "
                "'showdesk enrol join CODE'.",
            ]
        ),
    )
    return EXIT_OK


def _write_qr(text: str, path: Path, code: str) -> Path:
    from app.store.ticket_qr import render_qr_png, render_qr_svg

    data = (
        render_qr_svg(text)
        if path.suffix.lower() == ".svg"
        else render_qr_png(text, caption=[code], box_size=6)
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as exc:
        fail(f"Cannot write the QR code to {path}: {exc.strerror or exc}.")
    return path


def run_revoke(args: argparse.Namespace) -> int:
    from app.sync.enrolment import EnrolmentProblem, revoke_enrolment

    backend, _server = _organizer(_config())
    try:
        when = revoke_enrolment(backend, args.enrolment_id)
    except EnrolmentProblem as exc:
        _problem(exc)
    finally:
        backend.close()
    say(
        args.json,
        {"enrolment_id": args.enrolment_id, "revoked_at": when},
        f"Enrolment {args.enrolment_id} withdrawn at {when}: its code no longer works.",
    )
    return EXIT_OK


def run_join(args: argparse.Namespace) -> int:
    from app.secrets import SecretsUnavailable
    from app.sync.enrolment import EnrolmentProblem, enrolled_sentence, join

    config = _config()
    if args.db is not None:
        config.db = args.db
    text = args.code
    if args.image is not None:
        if text:
            fail("Give the code or --image, not both.", EXIT_USAGE)
        text = _decode(args.image)
    if not text:
        fail("Give the enrolment code as text, or --image with its QR.", EXIT_USAGE)
    try:
        enrolled = join(text, config)
    except EnrolmentProblem as exc:
        _problem(exc)
    except SecretsUnavailable as exc:
        fail(f"{exc} This device was not enrolled; the code was not used.")
    say(
        args.json,
        {
            "device_id": enrolled.device_id,
            "device_name": enrolled.device_name,
            "event_id": enrolled.event_id,
            "event_name": enrolled.event_name,
            "organization": enrolled.organization_name,
            "role": enrolled.role,
            "gate": enrolled.gate,
            "backend": enrolled.backend,
            "replaced": enrolled.replaced,
        },
        f"{enrolled_sentence(enrolled)} Its credential is in the secret store and its "
        "settings are written. Run 'showdesk sync --once' to download the event.",
    )
    return EXIT_OK


def _decode(image: Path) -> str:
    from app.scan.decoders import DecoderUnavailable, decode_image_file

    try:
        text = decode_image_file(image)
    except FileNotFoundError:
        fail(f"No such image: {image}.", EXIT_USAGE)
    except (ValueError, DecoderUnavailable) as exc:
        fail(f"Cannot read the image {image}: {exc}", EXIT_USAGE)
    if not text:
        fail(f"No QR code was found in {image}.", EXIT_USAGE)
    return text
