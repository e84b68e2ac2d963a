"""The `showdesk` command: no arguments opens the app; subcommands for everything else.

Each subcommand's work lives in the package that owns it; this module only parses arguments
and dispatches (imports are lazy so `showdesk decode` does not load Qt, and the app does not
load the benchmarks).
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

# subcommand -> "module:function"; the function takes the parsed args and returns an exit code.
HANDLERS = {
    "app": "app.ui.main:run_app",
    "demo": "app.store.demo:cli_demo",
    "decode": "app.scan.decode_cli:cli_decode",
    "checkin": "app.commands:cli_checkin",
    "ticket-qr": "app.store.ticket_qr:cli_ticket_qr",
    "sync": "app.sync.cli:cli_sync",
    "devices revoke": "app.sync.device_cli:cli_devices_revoke",
    "outbox import": "app.sync.device_cli:cli_outbox_import",
    "bench scan": "app.scan.bench:cli_bench_scan",
    "bench lookup": "app.store.bench_lookup:cli_bench_lookup",
    "bench sync": "app.sync.bench:cli_bench_sync",
    "bench lineup": "app.commands:cli_bench_lineup",
    "bench ui": "app.ui.door.bench:cli_bench_ui",
    "bench door": "app.ui.door.bench:cli_bench_door",
    "doctor": "app.doctor:cli_doctor",
    "provision": "app.commands:cli_provision",
    "screenshot": "app.ui.screenshots:cli_screenshot",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="showdesk",
        description="Offline-first event desk: door check-in, runway lineup, call times.",
    )
    parser.add_argument("--db", type=Path, help="database file (default: from settings)")
    parser.add_argument("--kiosk", action="store_true", help="open fullscreen, locked by PIN")
    sub = parser.add_subparsers(dest="command")

    p = sub.add_parser("demo", help="create a demo database")
    p.add_argument("--db", type=Path, help="where to write it (default: the app's database)")
    p.add_argument("--tickets", type=int, default=2000, help="number of tickets (up to 100000)")
    p.add_argument("--seed", type=int, default=7, help="random seed (same seed, same event)")
    p.add_argument("--force", action="store_true", help="replace an existing file")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("decode", help="decode QR codes in images or videos, with timings")
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--decoders", default="auto", help="decoder chain, e.g. zxing,zbar")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("checkin", help="one scan, one verdict")
    p.add_argument("--db", type=Path, required=True)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--code", help="the code's text")
    src.add_argument("--image", type=Path, help="an image holding the code")
    p.add_argument("--gate", default="Main")
    p.add_argument("--direction", choices=("in", "out"), default="in")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("ticket-qr", help="render a ticket's QR code as PNG or SVG")
    p.add_argument("--db", type=Path, required=True)
    p.add_argument("ticket", help="ticket number or id")
    p.add_argument("--out", type=Path, required=True, help="file.png or file.svg")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("sync", help="sync with the configured backend")
    p.add_argument("--once", action="store_true", help="one push and pull, then exit")
    p.add_argument("--json", action="store_true")

    devices = sub.add_parser("devices", help="the organization's kiosks and laptops")
    devices_sub = devices.add_subparsers(dest="devices", required=True)
    p = devices_sub.add_parser(
        "revoke",
        help="remove a lost or stolen device: it stops syncing, seals its unsent changes to a "
        "recovery key and erases its guest list (organizer or admin, online)",
    )
    p.add_argument("device", help="the device's name (as on the Sync tab) or id")
    p.add_argument(
        "--key-out",
        type=Path,
        help="where to write the recovery key that opens its export "
        "(default: recovery-keys/ in the app's data folder)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON document")

    outbox = sub.add_parser("outbox", help="changes waiting for upload")
    outbox_sub = outbox.add_subparsers(dest="outbox", required=True)
    p = outbox_sub.add_parser(
        "import", help="queue the unsent changes a revoked device sealed, for upload from here"
    )
    p.add_argument("file", type=Path, help="the .sdexport file the revoked device wrote")
    p.add_argument("--key", type=Path, required=True, help="the key file 'devices revoke' wrote")
    p.add_argument("--json", action="store_true", help="print one JSON document")

    bench = sub.add_parser("bench", help="benchmarks (also a kiosk's hardware check)")
    bench_sub = bench.add_subparsers(dest="bench", required=True)
    p = bench_sub.add_parser("scan", help="decode camera-like frames")
    p.add_argument("--frames", type=int, default=180)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--loop-scenes", type=int, default=40, help="guests for the scan-loop latency run (0: skip)"
    )
    p.add_argument(
        "--extra-frames",
        type=int,
        default=None,
        help="frames per real-world case: inverted, mirrored, small tickets (default: a third "
        "of --frames; 0: skip)",
    )
    p.add_argument("--json", action="store_true")
    p = bench_sub.add_parser("lookup", help="verdict + durable write; search as you type")
    p.add_argument("--tickets", type=int, default=100_000)
    p.add_argument("--scans", type=int, default=2000)
    p.add_argument("--json", action="store_true")
    p = bench_sub.add_parser("sync", help="initial and incremental sync against PostgreSQL")
    p.add_argument("--tickets", type=int, default=100_000)
    p.add_argument(
        "--platform-sql",
        action="append",
        metavar="FILE",
        help="also time a bridged initial sync: SQL files that create the platform's AI event "
        "management tables, applied in order (e.g. tests/fixtures/platform/supabase_stubs.sql "
        "then ai_event_management.sql)",
    )
    p.add_argument("--json", action="store_true")
    p = bench_sub.add_parser(
        "ui", help="launch to ready-to-scan; camera frame to verdict on screen"
    )
    p.add_argument("--tickets", type=int, default=2000)
    p.add_argument("--scans", type=int, default=20)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--json", action="store_true")
    p = bench_sub.add_parser(
        "door", help="a queue of guests through the real door screen: guests per minute per lane"
    )
    p.add_argument("--guests", type=int, default=30, help="guests in the queue")
    p.add_argument("--tickets", type=int, default=2000, help="tickets in the demo event")
    p.add_argument("--lanes", type=int, default=2, help="door lanes (kiosks) for the queue time")
    p.add_argument("--present", type=float, help="s to step up and show the code")
    p.add_argument("--read", type=float, help="s to read the verdict")
    p.add_argument("--walk", type=float, help="s to walk on")
    p.add_argument("--paper", type=float, help="s per guest with a paper list")
    p.add_argument(
        "--verdict-seconds", type=float, help="how long a verdict stays (default: settings)"
    )
    p.add_argument(
        "--time-scale", type=float, default=1.0, help="shorten the people's part (e.g. 0.1)"
    )
    p.add_argument("--json", action="store_true")
    p = bench_sub.add_parser("lineup", help="reorder + quick-change recomputation")
    p.add_argument("--looks", type=int, default=200)
    p.add_argument("--moves", type=int, default=2000)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser(
        "doctor",
        help="check camera, decoders, database, backend, logs; exit 0 when nothing is a "
        "problem (warnings allowed), 1 when a check found a problem",
    )
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--report",
        type=Path,
        metavar="FILE",
        help="also write a zip for support: versions, settings (secrets redacted), the last "
        "logs and crash traces, and these checks (default: no report)",
    )

    p = sub.add_parser("provision", help="set up a kiosk from a provisioning code")
    p.add_argument("code", nargs="?", help="provisioning code text (or --image)")
    p.add_argument("--image", type=Path)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("screenshot", help="save screenshots of the real windows (README)")
    p.add_argument(
        "--out",
        type=Path,
        help="folder for the PNGs (default: a new temporary folder, printed; never the "
        "current directory's docs/screenshots unless given)",
    )
    return parser


def _handler(name: str):
    module_name, func = HANDLERS[name].split(":")
    return getattr(importlib.import_module(module_name), func)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    command = args.command or "app"
    if command in ("bench", "devices", "outbox"):
        command = f"{command} {getattr(args, command)}"
    from app.logs import start

    start("app" if command == "app" else "cli", command)
    try:
        return int(_handler(command)(args) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # last resort: a sentence, not a traceback
        from app.errors import explain

        logging.getLogger("app.cli").exception("%s failed", command)
        message = explain(exc)
        if getattr(args, "json", False):
            print(json.dumps({"error": message}))
        else:
            print(f"showdesk: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
