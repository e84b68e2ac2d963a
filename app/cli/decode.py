"""`showdesk decode FILE... [--decoders CHAIN] [--json]`: the QR codes in images and videos,
with timings per frame.

Each code comes with its text, the character set it was read in (declared by the code's ECI,
or detected) and its raw bytes (hex and base64), so a payload that is not UTF-8 can be checked
byte for byte. Qt is never imported here.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli.options import add_json
from app.cli.output import EXIT_FAILED, EXIT_OK, fail, print_json
from app.domain.stats import mean, percentile

if TYPE_CHECKING:
    from app.scan.decode_files import FileReport, FoundCode

HELP = "decode QR codes in images or videos, with timings"


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", type=Path, help="image, SVG or video files")
    p.add_argument("--decoders", default="auto", help="decoder chain, e.g. zxing,zbar")
    add_json(p)


def _printable(text: str) -> str:
    """Control characters shown as escapes so a hostile payload cannot mess up the terminal."""
    return "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text
    )


def _charset_note(c: FoundCode) -> str:
    """Nothing for UTF-8 text; else the charset (and how it is known) and the bytes."""
    if c.charset == "UTF-8" and c.exact_text:
        return ""
    if c.charset is None:
        what = "binary, not text"
    elif c.charset_declared:
        what = f"{c.charset}, declared (ECI {c.eci})"
    else:
        what = f"{c.charset}, detected"
    if not c.exact_text and c.charset is not None:
        what += ", some bytes are not in it"
    more = "…" if len(c.raw_hex) > 64 else ""
    return f" [not UTF-8: {what}; bytes {c.raw_hex[:64]}{more}]"


def _print_report(r: FileReport) -> None:
    if r.error:
        print(f"{r.file}: {r.error}")
        return
    timing = ""
    if r.ms:
        timing = f", {mean(r.ms):.1f} ms per frame (p95 {percentile(r.ms, 95):.1f})"
    frames = (
        f"{r.frames} frames" if r.kind == "video" else "SVG drawn" if r.kind == "svg" else "image"
    )
    if not r.codes:
        print(f"{r.file}: no QR code found ({frames}{timing})")
        return
    print(f"{r.file}: {len(r.codes)} code(s) ({frames}{timing})")
    for c in r.codes:
        where = f"frame {c.frame}" + (
            f", seen in {c.frames_seen} frames" if r.kind == "video" else ""
        )
        print(f"  {_printable(c.text)}{_charset_note(c)}\n    {where}, {c.decoder}, {c.ms:.1f} ms")


def run(args: argparse.Namespace) -> int:
    from app.scan.decode_files import decode_file
    from app.scan.decoders import DecoderUnavailable, build_chain

    as_json = bool(args.json)
    try:
        decoder = build_chain(args.decoders or "auto")
    except DecoderUnavailable as exc:
        fail(str(exc))
    reports = []
    for path in args.files:
        report = decode_file(Path(path), decoder)
        reports.append(report)
        if not as_json:
            _print_report(report)
    failed = any(r.error for r in reports)
    if as_json:
        print_json({"ok": not failed, "files": [r.as_dict() for r in reports]}, indent=2)
    return EXIT_FAILED if failed else EXIT_OK
