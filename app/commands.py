"""Subcommands that join layers the layers themselves may not join.

The store and sync packages do not import the scanner, and domain does not import Qt; these
thin wrappers hand each of them the piece it needs (decoding a code out of an image, timing the
board's repaint) and are what `app.cli` dispatches to.
"""

from __future__ import annotations

import argparse


def cli_checkin(args: argparse.Namespace) -> int:
    from app.scan.decoders import decode_image_file
    from app.store.checkin_service import cli_checkin as checkin

    return checkin(args, decode_image=decode_image_file)


def cli_provision(args: argparse.Namespace) -> int:
    from app.scan.decoders import decode_image_file
    from app.sync.provision import cli_provision as provision

    return provision(args, decode_image=decode_image_file)


def cli_bench_lineup(args: argparse.Namespace) -> int:
    from app.domain.bench_lineup import cli_bench_lineup as bench

    try:
        from app.ui.lineup.bench import bench_board_and_display
    except ImportError as exc:  # Qt missing on this machine: the domain figures still print
        return bench(args, ui_bench=f"UI part skipped: Qt is not available ({exc}).")
    return bench(args, ui_bench=bench_board_and_display)
