"""`showdesk decode FILE...`: the QR codes in images and videos, with timings per frame.

Each code comes with its text, the character set it was read in (declared by the code's ECI,
or detected) and its raw bytes (hex and base64), so a payload that is not UTF-8 can be checked
byte for byte.
"""

from __future__ import annotations

import base64
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from app.scan.decoders import ChainDecoder, Decoder, DecoderUnavailable, build_chain
from app.scan.sources import (
    IMAGE_SUFFIXES,
    VIDEO_SUFFIXES,
    SourceUnavailable,
    VideoFileSource,
    read_image,
)
from app.scan.svg import SvgUnsupported, read_svg


@dataclass
class FoundCode:
    text: str
    charset: str | None  # "UTF-8", "Shift_JIS", "GB2312", ...; None: binary, no text
    charset_declared: bool  # True: the code declared it (ECI); False: detected
    eci: int | None  # the ECI designator the code declared, if any
    exact_text: bool  # False when text is an escaped form (binary, or bytes off the charset)
    raw_hex: str  # the payload bytes
    raw_base64: str
    frame: int  # first frame it was read in
    decoder: str
    ms: float  # time to decode that frame
    frames_seen: int = 1


@dataclass
class FileReport:
    file: str
    kind: str = "image"
    frames: int = 0
    ms: list[float] = field(default_factory=list)
    codes: list[FoundCode] = field(default_factory=list)
    error: str | None = None

    def as_dict(self) -> dict:
        ms = np.array(self.ms) if self.ms else None
        return {
            "file": self.file,
            "kind": self.kind,
            "frames": self.frames,
            "ms_mean": round(float(ms.mean()), 2) if ms is not None else None,
            "ms_p95": round(float(np.percentile(ms, 95)), 2) if ms is not None else None,
            "codes": [c.__dict__ for c in self.codes],
            "error": self.error,
        }


def _decoder_label(decoder: Decoder, fallback: str) -> str:
    if isinstance(decoder, ChainDecoder) and decoder.last_stage:
        return f"{decoder.name}:{decoder.last_stage}"
    return fallback


def _decode_frame(decoder: Decoder, frame: np.ndarray, index: int, report: FileReport) -> None:
    t0 = time.perf_counter()
    found = decoder.decode(frame)
    ms = (time.perf_counter() - t0) * 1000.0
    report.frames += 1
    report.ms.append(ms)
    for d in found:
        known = next((c for c in report.codes if c.text == d.text), None)
        if known:
            known.frames_seen += 1
            continue
        report.codes.append(
            FoundCode(
                text=d.text,
                charset=d.charset,
                charset_declared=d.charset_declared,
                eci=d.eci,
                exact_text=d.exact,
                raw_hex=d.raw.hex(),
                raw_base64=base64.b64encode(d.raw).decode("ascii"),
                frame=index,
                decoder=_decoder_label(decoder, d.decoder),
                ms=round(ms, 2),
            )
        )


def decode_file(path: Path, decoder: Decoder) -> FileReport:
    report = FileReport(file=str(path))
    if path.is_dir():
        report.error = f"{path} is a folder; give the image or video files in it."
        return report
    if not path.exists():
        report.error = f"File not found: {path}"
        return report
    suffix = path.suffix.lower()
    if suffix == ".svg":
        try:
            image = read_svg(path)
        except (OSError, SvgUnsupported) as exc:
            report.error = (
                f"Cannot read {path.name}: Showdesk draws SVG codes made of filled shapes, "
                f"and this one uses {exc}. Export it as PNG and decode that."
            )
            return report
        report.kind = "svg"
        _decode_frame(decoder, image, 0, report)
        return report
    image = None if suffix in VIDEO_SUFFIXES else read_image(path)
    if image is not None:
        _decode_frame(decoder, image, 0, report)
        return report
    if suffix in IMAGE_SUFFIXES:
        report.error = f"Cannot read {path.name}: not an image this computer can read."
        return report
    report.kind = "video"
    try:
        video = VideoFileSource(path, realtime=False)
    except SourceUnavailable:
        report.kind = "unknown"
        report.error = f"Cannot read {path.name}: not an image or video this computer can read."
        return report
    try:
        while (frame := video.read()) is not None:
            _decode_frame(decoder, frame, video.index, report)
    finally:
        video.close()
    if report.frames == 0:
        report.error = f"Cannot read {path.name}: the video has no pictures this computer can read."
    return report


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
        timing = f", {np.mean(r.ms):.1f} ms per frame (p95 {np.percentile(r.ms, 95):.1f})"
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


def cli_decode(args) -> int:
    as_json = bool(getattr(args, "json", False))
    try:
        decoder = build_chain(getattr(args, "decoders", "auto") or "auto")
    except DecoderUnavailable as exc:
        if as_json:
            print(json.dumps({"error": str(exc)}))
        else:
            print(f"showdesk decode: {exc}", file=sys.stderr)
        return 1
    reports = []
    for path in args.files:
        report = decode_file(Path(path), decoder)
        reports.append(report)
        if not as_json:
            _print_report(report)
    failed = any(r.error for r in reports)
    if as_json:
        print(
            json.dumps(
                {"ok": not failed, "files": [r.as_dict() for r in reports]},
                indent=2,
                ensure_ascii=False,
            )
        )
    return 1 if failed else 0
