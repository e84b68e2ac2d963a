"""`showdesk provision (CODE | --image FILE) [--json]`: set up a kiosk from a provisioning
code (text, or the QR code in an image)."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.cli.options import add_json
from app.cli.output import EXIT_OK, EXIT_USAGE, fail, say

HELP = "set up a kiosk from a provisioning code"


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("code", nargs="?", help="provisioning code text (or --image)")
    p.add_argument("--image", type=Path, help="an image holding the provisioning QR code")
    add_json(p)


def run(args: argparse.Namespace) -> int:
    from app.sync.provision import ProvisionProblem, provision

    text = args.code
    try:
        if args.image is not None:
            text = _decode(Path(args.image))
        done = provision(text)
    except ProvisionProblem as exc:
        fail(str(exc), EXIT_USAGE)
    say(
        args.json,
        {"device_id": done.device_id, "config": str(done.config_file)},
        f"This kiosk is registered as {done.code.name} at gate {done.code.gate}. "
        f"Settings written to {done.config_file}.",
    )
    return EXIT_OK


def _decode(image: Path) -> str | None:
    from app.scan.decoders import decode_image_file
    from app.sync.provision import ProvisionProblem

    try:
        return decode_image_file(image)
    except (FileNotFoundError, ValueError) as exc:
        raise ProvisionProblem(f"Cannot read the image {image}.") from exc
