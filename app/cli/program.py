"""The `showdesk` command: no arguments opens the app; subcommands for everything else.

``COMMANDS`` is the static table of subcommands: each row names a module of this package
(a real import, so the PyInstaller freezer and static analysis see every handler) with its
parser options and its handler. Handler modules import the layers inside their functions, so
`showdesk --help` loads no Qt, OpenCV or SQLAlchemy and `showdesk decode` no Qt.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from pathlib import Path

from app.cli import (
    app_window,
    audit,
    bench,
    checkin,
    decode,
    demo,
    devices,
    doctor,
    enrol,
    events,
    hub,
    provision,
    screenshot,
    sync,
    ticket_qr,
)
from app.cli.options import Command, HelpFormatter
from app.cli.output import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    CommandFailed,
    exit_codes_epilog,
    print_json,
    report_failure,
)

COMMANDS: tuple[Command, ...] = (
    Command("demo", demo.HELP, demo.configure, demo.run),
    Command("decode", decode.HELP, decode.configure, decode.run),
    Command("checkin", checkin.HELP, checkin.configure, checkin.run, needs_db=True),
    Command("ticket-qr", ticket_qr.HELP, ticket_qr.configure, ticket_qr.run, needs_db=True),
    Command("audit", audit.HELP, audit.configure, audit.run),
    Command("sync", sync.HELP, sync.configure, sync.run),
    Command("devices revoke", devices.REVOKE_HELP, devices.configure_revoke, devices.run_revoke),
    Command("outbox import", devices.IMPORT_HELP, devices.configure_import, devices.run_import),
    Command(
        "event retention",
        events.RETENTION_HELP,
        events.configure_retention,
        events.run_retention,
    ),
    Command(
        "event offline-policy",
        events.OFFLINE_POLICY_HELP,
        events.configure_offline_policy,
        events.run_offline_policy,
    ),
    Command("bench scan", bench.SCAN_HELP, bench.configure_scan, bench.run_scan),
    Command("bench lookup", bench.LOOKUP_HELP, bench.configure_lookup, bench.run_lookup),
    Command("bench sync", bench.SYNC_HELP, bench.configure_sync, bench.run_sync),
    Command("bench lineup", bench.LINEUP_HELP, bench.configure_lineup, bench.run_lineup),
    Command("bench ui", bench.UI_HELP, bench.configure_ui, bench.run_ui),
    Command("bench door", bench.DOOR_HELP, bench.configure_door, bench.run_door),
    Command("bench sound", bench.SOUND_HELP, bench.configure_sound, bench.run_sound),
    Command("bench hub", bench.HUB_HELP, bench.configure_hub, bench.run_hub),
    Command("doctor", doctor.HELP, doctor.configure, doctor.run),
    Command("provision", provision.HELP, provision.configure, provision.run),
    Command("enrol create", enrol.CREATE_HELP, enrol.configure_create, enrol.run_create),
    Command("enrol revoke", enrol.REVOKE_HELP, enrol.configure_revoke, enrol.run_revoke),
    Command("enrol join", enrol.JOIN_HELP, enrol.configure_join, enrol.run_join),
    Command("screenshot", screenshot.HELP, screenshot.configure, screenshot.run),
    Command("hub serve", hub.SERVE_HELP, hub.configure_serve, hub.run_serve),
    Command("hub code", hub.CODE_HELP, hub.configure_code, hub.run_code),
    Command("hub kiosks", hub.KIOSKS_HELP, hub.configure_kiosks, hub.run_kiosks),
    Command("hub revoke", hub.REVOKE_HELP, hub.configure_revoke, hub.run_revoke),
    Command("hub status", hub.STATUS_HELP, hub.configure_status, hub.run_status),
    Command("hub export", hub.EXPORT_HELP, hub.configure_export, hub.run_export),
    Command("hub import", hub.IMPORT_HELP, hub.configure_import, hub.run_import),
    Command("hub join", hub.JOIN_HELP, hub.configure_join, hub.run_join),
    Command("hub leave", hub.LEAVE_HELP, hub.configure_leave, hub.run_leave),
    Command("hub find", hub.FIND_HELP, hub.configure_find, hub.run_find),
)
APP = Command("app", "open the app", lambda _p: None, app_window.run)
GROUP_HELP = {
    "bench": bench.GROUP_HELP,
    "devices": "the organization's kiosks and laptops",
    "outbox": "changes waiting for upload",
    "enrol": enrol.GROUP_HELP,
    "event": "the organizer's settings of an event",
    "hub": hub.GROUP_HELP,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="showdesk",
        description="Offline-first event desk: door check-in, runway lineup, call times.",
        epilog=exit_codes_epilog(),
        formatter_class=HelpFormatter,
    )
    parser.add_argument(
        "--db",
        dest="top_db",
        type=Path,
        metavar="PATH",
        help="database file (default: from settings); a subcommand's own --db must agree",
    )
    parser.add_argument("--kiosk", action="store_true", help="open fullscreen, locked by PIN")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    groups: dict[str, argparse._SubParsersAction] = {}
    for command in COMMANDS:
        group, _, name = command.name.rpartition(" ")
        where = sub
        if group:
            if group not in groups:
                holder = sub.add_parser(
                    group, help=GROUP_HELP[group], formatter_class=HelpFormatter
                )
                groups[group] = holder.add_subparsers(
                    dest=f"{group}_command", metavar="COMMAND", required=True
                )
            where = groups[group]
        p = where.add_parser(
            name, help=command.help, description=command.help, formatter_class=HelpFormatter
        )
        command.configure(p)
        p.set_defaults(handler=command)
    return parser


def _same_file(a: Path, b: Path) -> bool:
    return Path(a).expanduser().absolute() == Path(b).expanduser().absolute()


def resolve_db(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """One ``args.db``: the top-level --db and the subcommand's, which must not disagree."""
    top, own = args.top_db, getattr(args, "db", None)
    if top is not None and own is not None and not _same_file(top, own):
        parser.error(
            f"--db was given twice with different files ({top} before the command, {own} "
            "after it); give it once"
        )
    args.db = own if own is not None else top


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    command: Command = getattr(args, "handler", None) or APP
    resolve_db(parser, args)
    if command.needs_db and args.db is None:
        parser.error(f"{command.name} needs --db PATH (before or after the command's name)")
    from app.logs import start

    start("app" if command is APP else "cli", command.name)
    as_json = bool(getattr(args, "json", False))
    try:
        return int(command.run(args) or 0)
    except CommandFailed as exc:
        logging.getLogger("app.cli").info("%s failed: %s", command.name, exc.message)
        return report_failure(exc, as_json)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as exc:  # last resort: a sentence, not a traceback
        from app.errors import explain

        logging.getLogger("app.cli").exception("%s failed", command.name)
        message = explain(exc)
        if as_json:
            print_json({"error": message})
        else:
            import sys

            print(f"showdesk: {message}", file=sys.stderr)
        return EXIT_FAILED
