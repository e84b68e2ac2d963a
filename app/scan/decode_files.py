"""The QR codes in image and video files, with timings per frame (`showdesk decode FILE...`).

Each code comes with its text, the character set it was read in (declared by the code's ECI,
or detected) and its raw bytes (hex and base64), so a payload that is not UTF-8 can be checked
byte for byte.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from app.domain.stats import mean, percentile
from app.scan.decoders import ChainDecoder, Decoder
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
        return {
            "file": self.file,
            "kind": self.kind,
            "frames": self.frames,
            "ms_mean": round(mean(self.ms), 2) if self.ms else None,
            "ms_p95": round(percentile(self.ms, 95), 2) if self.ms else None,
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
    picture = None if suffix in VIDEO_SUFFIXES else read_image(path)
    if picture is not None:
        _decode_frame(decoder, picture, 0, report)
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
