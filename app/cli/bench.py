"""`showdesk bench scan|lookup|sync|lineup|ui|door|sound`: the benchmarks (also a kiosk's hardware
check). Each handler calls one ``app.bench`` module, which returns its figures as a dict, and
prints it the one way: ``--json`` one JSON document on stdout, else a table (progress lines,
if any, go to stderr). Imports are lazy: the benchmarks load nothing until they run."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.cli.options import add_json
from app.cli.output import EXIT_FAILED, EXIT_OK, EXIT_USAGE, fail, print_json

GROUP_HELP = "benchmarks (also a kiosk's hardware check)"
SCAN_HELP = "decode camera-like frames"
LOOKUP_HELP = "verdict + durable write; search as you type"
SYNC_HELP = "initial and incremental sync against PostgreSQL"
LINEUP_HELP = "reorder + quick-change recomputation"
UI_HELP = "launch to ready-to-scan; camera frame to verdict on screen"
SOUND_HELP = "verdict -> sound start: the app's player against QSoundEffect (Linux, PulseAudio)"
DOOR_HELP = "a queue of guests through the real door screen: guests per minute per lane"
HUB_HELP = "doors seeing each other's scans through the venue hub, beside the server path"


def show(as_json: bool, result: dict[str, Any], table: Callable[[dict[str, Any]], str]) -> None:
    """The one output of every benchmark."""
    if as_json:
        print_json(result)
    else:
        print(table(result), flush=True)


def progress(as_json: bool) -> Callable[[str], None]:
    """Where a benchmark's progress lines go: nowhere with --json, else stderr."""
    if as_json:
        return lambda _line: None
    return lambda line: print(line, file=sys.stderr, flush=True)


# --- scan --------------------------------------------------------------------------------------


def configure_scan(p: argparse.ArgumentParser) -> None:
    p.add_argument("--frames", type=int, default=180, help="camera-like frames to decode")
    p.add_argument("--seed", type=int, default=1, help="random seed (same seed, same frames)")
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
    add_json(p)


def run_scan(args: argparse.Namespace) -> int:
    from app.bench.scan import run, scan_table

    result = run(args.frames, args.seed, args.loop_scenes, args.extra_frames)
    show(args.json, result, scan_table)
    return EXIT_OK


# --- lookup ------------------------------------------------------------------------------------


def configure_lookup(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--tickets", type=int, default=100_000, help="tickets in the demo event (100 to 100000)"
    )
    p.add_argument("--scans", type=int, default=2000, help="codes scanned (at least 10)")
    p.add_argument(
        "--encrypted",
        choices=("no", "yes", "both"),
        default="both",
        help="replica: plain, encrypted (SQLCipher, as the app's own), or both in one run with "
        "the ratio against the goal",
    )
    add_json(p)


def run_lookup(args: argparse.Namespace) -> int:
    from app.bench.lookup import lookup_table, run_bench

    tickets = max(100, min(int(args.tickets or 100_000), 100_000))
    scans = max(10, int(args.scans or 2000))
    result = run_bench(tickets, scans, log=progress(args.json), encrypted=args.encrypted)
    show(args.json, result, lookup_table)
    return EXIT_OK


# --- sync --------------------------------------------------------------------------------------


def configure_sync(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--tickets", type=int, default=100_000, help="tickets and attendees on the server"
    )
    p.add_argument(
        "--platform-sql",
        action="append",
        type=Path,
        metavar="FILE",
        help="also time a bridged initial sync: SQL files that create the platform's AI event "
        "management tables, applied in order (e.g. tests/fixtures/platform/supabase_stubs.sql "
        "then ai_event_management.sql)",
    )
    p.add_argument(
        "--encrypted",
        choices=("no", "yes", "both"),
        default="both",
        help="replicas: plain, encrypted (SQLCipher, as the app's own), or plain plus an "
        "encrypted initial sync in one run with the ratio against the goal",
    )
    add_json(p)


def run_sync(args: argparse.Namespace) -> int:
    import signal

    from app.bench.sync import run_bench, sync_table

    def stop(*_: object) -> None:
        raise KeyboardInterrupt  # runs the clean-up: the temporary server is stopped

    signal.signal(signal.SIGTERM, stop)
    platform_sql = [Path(p) for p in (args.platform_sql or [])]
    missing = [str(p) for p in platform_sql if not p.is_file()]
    if missing:
        fail(f"no such platform SQL file: {', '.join(missing)}", EXIT_USAGE)
    result = run_bench(
        int(args.tickets or 100_000),
        say=progress(args.json),
        platform_sql=platform_sql,
        encrypted=args.encrypted,
    )
    show(args.json, result, sync_table)
    return EXIT_OK if result.get("push_exactly_once") else EXIT_FAILED


# --- lineup ------------------------------------------------------------------------------------


def configure_lineup(p: argparse.ArgumentParser) -> None:
    p.add_argument("--looks", type=int, default=200, help="looks in the show (at least 4)")
    p.add_argument("--moves", type=int, default=2000, help="random moves timed")
    add_json(p)


def run_lineup(args: argparse.Namespace) -> int:
    from app.bench.lineup import UiBench, lineup_table, run

    looks = max(4, int(args.looks or 200))
    moves = max(1, int(args.moves or 2000))
    ui_bench: UiBench | str
    try:
        import app.ui.qt  # noqa: F401 - is Qt there at all?
    except ImportError as exc:  # Qt missing on this machine: the domain figures still print
        ui_bench = f"UI part skipped: Qt is not available ({exc})."
    else:
        from app.bench.lineup_ui import bench_board_and_display

        ui_bench = bench_board_and_display
    show(args.json, run(looks, moves, ui_bench), lineup_table)
    return EXIT_OK


# --- ui ----------------------------------------------------------------------------------------


def configure_ui(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tickets", type=int, default=2000, help="tickets in the demo event")
    p.add_argument("--scans", type=int, default=20, help="codes shown to the camera")
    p.add_argument("--runs", type=int, default=3, help="app launches timed (the median is shown)")
    p.add_argument(
        "--command",
        action="append",
        metavar="EXE",
        help="also time the launch of an installed showdesk (a wheel's script, a frozen "
        "bundle's executable) on the same demo event; repeatable (default: none)",
    )
    add_json(p)


def run_ui(args: argparse.Namespace) -> int:
    from app.bench.ui import run, ui_table

    show(args.json, run(args.tickets, args.scans, args.runs, args.command or ()), ui_table)
    return EXIT_OK


# --- sound -------------------------------------------------------------------------------------


def configure_sound(p: argparse.ArgumentParser) -> None:
    p.add_argument("--trials", type=int, default=20, help="plays timed per player")
    add_json(p)


def run_sound(args: argparse.Namespace) -> int:
    from app.bench.sound import NoAudioServer, bench_sound, format_sound

    try:
        result = bench_sound(args.trials)
    except NoAudioServer as exc:
        fail(str(exc))
    show(args.json, result, format_sound)
    return EXIT_OK


# --- door --------------------------------------------------------------------------------------


def configure_door(p: argparse.ArgumentParser) -> None:
    p.add_argument("--guests", type=int, default=30, help="guests in the queue")
    p.add_argument("--tickets", type=int, default=2000, help="tickets in the demo event")
    p.add_argument("--lanes", type=int, default=2, help="door lanes (kiosks) for the queue time")
    p.add_argument("--present", type=float, help="s to step up and show the code (default: 1.0)")
    p.add_argument("--read", type=float, help="s to read the verdict (default: 0.5)")
    p.add_argument("--walk", type=float, help="s to walk on (default: 0.5)")
    p.add_argument("--paper", type=float, help="s per guest with a paper list (default: 60)")
    p.add_argument(
        "--verdict-seconds", type=float, help="how long a verdict stays (default: settings)"
    )
    p.add_argument(
        "--time-scale", type=float, default=1.0, help="shorten the people's part (e.g. 0.1)"
    )
    add_json(p)


def run_door(args: argparse.Namespace) -> int:
    from app.bench.door import door_queue_table, run

    report = run(
        guests=args.guests,
        tickets=args.tickets,
        lanes=args.lanes,
        present=args.present,
        read=args.read,
        walk=args.walk,
        paper=args.paper,
        verdict_seconds=args.verdict_seconds,
        time_scale=args.time_scale,
    )
    show(args.json, report, door_queue_table)
    measured = report["run"]
    # a guest who got no verdict is a failure
    return EXIT_OK if measured["verdicts"] == measured["guests"] else EXIT_FAILED


def configure_hub(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tickets", type=int, default=20_000, help="tickets on the server")
    p.add_argument("--doors", type=int, default=8, help="door kiosks, each 1 guest per second")
    p.add_argument("--seconds", type=float, default=30.0, help="how long the doors scan")
    p.add_argument(
        "--catch-up", type=int, default=2000, help="scans a late kiosk brings after an hour offline"
    )
    add_json(p)


def run_hub(args: argparse.Namespace) -> int:
    import signal

    from app.bench.hub import hub_table, run_bench

    def stop(*_: object) -> None:
        raise KeyboardInterrupt  # runs the clean-up: the hub and the server are stopped

    signal.signal(signal.SIGTERM, stop)
    say = (lambda _m: None) if args.json else (lambda m: print(m, flush=True))
    result = run_bench(args.tickets, args.doors, args.seconds, args.catch_up, say=say)
    show(args.json, result, hub_table)
    return EXIT_OK
