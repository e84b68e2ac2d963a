"""QR decoders (zxing-cpp, zbar, OpenCV) and the chain the door camera uses.

Every decoder returns `Decoded` items: ``raw`` is the payload bytes, ``text`` the payload as
text in its ``charset``: the one the code declares (ECI) or, without one, the one detected
(UTF-8, Shift_JIS, GB2312, ISO-8859-1; see `app.scan.charsets`); bytes that are no text are
shown as ``\\xNN`` so a hostile code never crashes us. zxing gives the bytes exactly and
says which ECI the code declared; zbar (in binary mode) gives them exactly unless the code
declares an ECI (then it hands over UTF-8); OpenCV transcodes non-UTF-8 bytes that declare no
ECI from Latin-1.

Why "auto" is what it is (chosen by measurement, `showdesk bench scan` and per-stage runs on
generated camera frames; 2-core shared machine, numbers are ms per 1280x720 frame):

* Each candidate pass alone, 360 frames (seed 2, 294 with a code), read / mean ms:
  zxing GlobalHistogram binarizer, full frame 206 / 0.75; zxing LocalAverage at half size
  265 / 1.3; zxing LocalAverage full frame 279 / 3.1; zxing defaults (downscale + invert
  retries) 283 / 5.2; 1.5x upscale 285 / 7.0; histogram-equalized 267 / 5.5; CLAHE 277 / 13;
  2x upscale + sharpen 264 / 35; zbar 116 of 144 at 33-80 ms; OpenCV 72% at 200+ ms. No
  single pass reads everything; together they read 290.
* Passes fail on different frames, so a chain that stops at the first hit wins: the global
  histogram pass is the cheapest and reads ~70% of frames; half size reads most big-but-soft
  codes for 1 ms; full-size local-average reads most of the rest.
* The costly passes (1.5x upscale, equalized, a 2x close-up of one region) only ever helped on
  frames where a cheap pass had *found* a code-like shape it could not read (zxing reports
  those with ``return_errors``): on empty frames there were none (0 of 66), so they are run
  only then. That took the empty-frame cost from ~13 ms to ~3 ms and p95 with it.
* The misses left were dark frames (spread of grey levels < 100): the camera's gain makes them
  noisy, and a smooth-then-stretch pass reads some of them; run only for low-contrast frames.
* Result, `showdesk bench scan` (seed 1, 180 frames, 144 with a code), two runs at load ~4:
  auto 98.6% read (142/144), 0 wrong, 0 false positives, p95 10.8 / 16.4 ms wall, 7 ms CPU;
  baseline pyzbar 80.6% (116/144), p95 84 / 113 ms; plain zxing 95.8%, p95 12-14 ms.
  A held-out set (seed 7, 300 frames): auto 100% (232/232), pyzbar 75.4%, zxing 94.4%.
* zbar is not in "auto": it reads less and costs 10-30x more than the whole chain.
* Light-on-dark (inverted) codes, as dark-mode phones and some wallet apps show them: the two
  cheapest passes also try the inverted picture (zxing's own ``try_invert``, which inverts
  the binarized bits: +0.25 ms on a frame they do not read, where inverting the picture and
  running another pass costs +1.7 ms). Measured on 90 inverted frames (seed 21, 79 codes):
  0 read before, 75 after; the full-frame local-average pass with inversion would read 2
  more for +0.75 ms on every empty frame, so it is not in. Cost, the chain before and after
  on the same frames, 6 interleaved runs at load ~5, CPU time p95: 6.5 -> 6.8 ms (seed 1,
  180 frames), 5.6 -> 5.9 ms (seed 7, 300 frames); reads and false positives (0) unchanged.
  Mirrored codes (front-camera previews, a code seen through glass) need nothing: zxing tries
  the mirrored reading when the format information says so (74/76 on 90 mirrored frames,
  seed 22, as for unmirrored ones).
"""

from __future__ import annotations

import ctypes
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from app.scan.charsets import UTF8, Payload, decode_eci_stream, decode_payload
from app.scan.charsets import safe_text as safe_text  # where callers have always found it


class DecoderUnavailable(Exception):
    """A decoder cannot be used here; ``str()`` says why in plain words."""


@dataclass(frozen=True)
class Decoded:
    text: str  # the payload as text in ``charset`` (``\\xNN`` escapes where not ``exact``)
    raw: bytes  # the payload bytes as stored in the code
    decoder: str
    points: list[tuple[float, float]] = field(default_factory=list)
    charset: str | None = UTF8  # None: binary, no text
    charset_declared: bool = False  # True: the code declared it (ECI); False: detected
    eci: int | None = None  # the ECI designator the code declared, if any
    exact: bool = True  # ``text`` is the exact reading of ``raw`` in ``charset``


def _decoded(
    payload: Payload, raw: bytes, decoder: str, points: list[tuple[float, float]]
) -> Decoded:
    return Decoded(
        payload.text,
        raw,
        decoder,
        points,
        charset=payload.charset,
        charset_declared=payload.declared,
        eci=payload.eci,
        exact=payload.exact,
    )


class Decoder(Protocol):
    name: str

    def decode(self, frame_bgr: np.ndarray) -> list[Decoded]: ...


MIN_SIDE = 21  # the smallest QR code is 21 modules wide: anything smaller cannot hold one


def to_gray(frame: np.ndarray) -> np.ndarray:
    if frame.dtype != np.uint8:
        frame = np.clip(frame, 0, 255).astype(np.uint8)
    if frame.ndim == 2:
        return frame
    if frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2GRAY)
    return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)


def _points(
    seq: Sequence, scale: float = 1.0, dx: float = 0.0, dy: float = 0.0
) -> list[tuple[float, float]]:
    return [(float(x) * scale + dx, float(y) * scale + dy) for x, y in seq]


# --- zxing-cpp ------------------------------------------------------------------------------


class ZxingDecoder:
    """zxing-cpp, QR only. ``fast`` skips its own downscaled retries and, unless ``invert``
    says otherwise, its inverted (light-on-dark) retry."""

    def __init__(
        self,
        name: str = "zxing",
        fast: bool = False,
        binarizer: str = "LocalAverage",
        invert: bool | None = None,
    ) -> None:
        import zxingcpp

        self.name = name
        self._zx = zxingcpp
        self._kwargs = {
            "formats": zxingcpp.BarcodeFormat.QRCode,
            "try_rotate": False,  # QR finder patterns are rotation-invariant already
            "try_downscale": not fast,
            "try_invert": (not fast) if invert is None else invert,
            "binarizer": getattr(zxingcpp.Binarizer, binarizer),
            # ``text`` becomes the hex of the payload with its ECI designators in place: the
            # only way zxing-cpp tells which charset the code declared.
            "text_mode": zxingcpp.TextMode.HexECI,
        }

    def decode_gray(
        self,
        gray: np.ndarray,
        scale: float = 1.0,
        offset: tuple[float, float] = (0.0, 0.0),
        hints: list[np.ndarray] | None = None,
    ) -> list[Decoded]:
        """Codes in ``gray``; points mapped back by ``/ scale + offset``. With ``hints``, the
        corners of codes that were found but could not be read are appended to it."""
        out = []
        results = self._zx.read_barcodes(gray, return_errors=hints is not None, **self._kwargs)
        for b in results:
            p = b.position
            pts = _points(
                [(q.x, q.y) for q in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)],
                1 / scale,
                *offset,
            )
            if not b.valid:
                if hints is not None:
                    hints.append(np.array(pts, np.float32))
                continue
            raw = bytes(b.bytes)
            try:
                payload = decode_eci_stream(bytes.fromhex(b.text), raw)
            except ValueError:
                payload = decode_payload(raw)
            out.append(_decoded(payload, raw, self.name, pts))
        return out

    def decode(self, frame_bgr: np.ndarray) -> list[Decoded]:
        return self.decode_gray(to_gray(frame_bgr))


# --- zbar -----------------------------------------------------------------------------------

_ZBAR_CFG_BINARY = 4  # zbar >= 0.23: hand back the QR payload bytes untouched (no iconv guess)
_ZBAR_GRAY = 808466521  # fourcc "Y800"


def _load_zbar():
    """pyzbar's ctypes wrapper, or DecoderUnavailable when the system library is missing."""
    try:
        from pyzbar import wrapper
        from pyzbar.pyzbar import ZBarSymbol
    except (ImportError, OSError) as exc:  # no libzbar, or a broken one
        raise DecoderUnavailable("zbar library not installed") from exc
    return wrapper, ZBarSymbol


class ZbarDecoder:
    """zbar through pyzbar's bindings, QR only, binary-safe. One scanner per instance.
    zbar transcodes a payload that declares an ECI to UTF-8 and does not say which ECI."""

    def __init__(self, name: str = "zbar") -> None:
        self.name = name
        self._w, symbols = _load_zbar()
        w = self._w
        self._scanner = w.zbar_image_scanner_create()
        w.zbar_image_scanner_set_config(self._scanner, 0, w.ZBarConfig.CFG_ENABLE, 0)
        w.zbar_image_scanner_set_config(self._scanner, symbols.QRCODE, w.ZBarConfig.CFG_ENABLE, 1)
        # Older zbar lacks the setting: then non-UTF-8 payloads come back transcoded.
        w.zbar_image_scanner_set_config(self._scanner, symbols.QRCODE, _ZBAR_CFG_BINARY, 1)

    def __del__(self) -> None:
        scanner = getattr(self, "_scanner", None)
        if scanner:
            self._w.zbar_image_scanner_destroy(scanner)

    def decode_gray(self, gray: np.ndarray, scale: float = 1.0) -> list[Decoded]:
        w = self._w
        gray = np.ascontiguousarray(gray)
        h, wd = gray.shape
        data = gray.tobytes()
        image = w.zbar_image_create()
        try:
            w.zbar_image_set_format(image, _ZBAR_GRAY)
            w.zbar_image_set_size(image, wd, h)
            w.zbar_image_set_data(image, data, len(data), None)
            if w.zbar_scan_image(self._scanner, image) <= 0:
                return []
            out = []
            symbol = w.zbar_image_first_symbol(image)
            while symbol:
                raw = ctypes.string_at(
                    w.zbar_symbol_get_data(symbol), w.zbar_symbol_get_data_length(symbol)
                )
                pts = [
                    (w.zbar_symbol_get_loc_x(symbol, i), w.zbar_symbol_get_loc_y(symbol, i))
                    for i in range(w.zbar_symbol_get_loc_size(symbol))
                ]
                points = _points(pts, 1 / scale)
                out.append(_decoded(decode_payload(raw), raw, self.name, points))
                symbol = w.zbar_symbol_next(symbol)
            return out
        finally:
            w.zbar_image_destroy(image)

    def decode(self, frame_bgr: np.ndarray) -> list[Decoded]:
        return self.decode_gray(to_gray(frame_bgr))


# --- OpenCV ---------------------------------------------------------------------------------


class OpenCVDecoder:
    """OpenCV's QRCodeDetector (or QRCodeDetectorAruco). Note: OpenCV hands back non-UTF-8
    payloads that declare no ECI transcoded from Latin-1, so ``raw`` is exact only for UTF-8
    payloads and ECI-declared ones."""

    def __init__(self, aruco: bool = False) -> None:
        if aruco and not hasattr(cv2, "QRCodeDetectorAruco"):
            raise DecoderUnavailable("this OpenCV build has no QRCodeDetectorAruco")
        self.name = "opencv-aruco" if aruco else "opencv"
        self._det = cv2.QRCodeDetectorAruco() if aruco else cv2.QRCodeDetector()

    def decode_gray(self, gray: np.ndarray, scale: float = 1.0) -> list[Decoded]:
        try:
            raw, pts, _ = self._det.detectAndDecodeBytes(gray)
        except cv2.error:
            return []
        if not raw:
            return []
        raw = bytes(raw)
        corners = _points(pts.reshape(-1, 2), 1 / scale) if pts is not None else []
        eci = self._eci()
        return [_decoded(decode_payload(raw, eci), raw, self.name, corners)]

    def _eci(self) -> int | None:
        """The ECI the last code declared (OpenCV hands those payloads over untranscoded)."""
        try:
            eci = int(self._det.getEncoding())
        except (AttributeError, cv2.error, TypeError, ValueError):
            return None
        return eci if eci > 0 else None

    def decode(self, frame_bgr: np.ndarray) -> list[Decoded]:
        return self.decode_gray(to_gray(frame_bgr))


# --- the chain ------------------------------------------------------------------------------

# A stage reads the grayscale frame. ``hints`` is shared by the stages of one frame: corners
# of codes found but not read, in frame coordinates (later stages may look closer there).
StageFn = Callable[[np.ndarray, list[np.ndarray]], list[Decoded]]
Stage = tuple[str, StageFn]


class ChainDecoder:
    """Tries stages in order on one grayscale copy of the frame; stops at the first hit.

    Stages after the first are skipped once ``budget_ms`` of CPU time has been spent on the
    frame, so a hard frame costs at most about one stage beyond the budget (the next frame
    comes soon). CPU time of this thread, not wall time: on a busy machine the same frames get
    the same stages, the reading does not get worse, only slower.
    """

    def __init__(self, name: str, stages: Sequence[Stage], budget_ms: float | None = None) -> None:
        self.name = name
        self.stages = list(stages)
        self.budget_ms = budget_ms
        self.last_stage: str | None = None  # which stage read the last frame (for the bench)
        self.skipped: dict[str, str] = {}  # decoders asked for but not available here

    def decode(self, frame_bgr: np.ndarray) -> list[Decoded]:
        start = time.thread_time()
        self.last_stage = None
        if frame_bgr is None or frame_bgr.ndim not in (2, 3) or min(frame_bgr.shape[:2]) < MIN_SIDE:
            return []
        gray = to_gray(frame_bgr)
        hints: list[np.ndarray] = []
        for i, (label, stage) in enumerate(self.stages):
            if (
                i
                and self.budget_ms is not None
                and (time.thread_time() - start) * 1000 > self.budget_ms
            ):
                break
            found = stage(gray, hints)
            if found:
                self.last_stage = label
                return found
        return []


DECODER_NAMES = ("zxing", "zbar", "opencv", "opencv-aruco")
AUTO_BUDGET_MS = 20.0


ROI_MAX = 3  # look closer at no more than this many half-found codes per frame


def _crop(
    gray: np.ndarray, quad: np.ndarray, margin: float = 0.25
) -> tuple[np.ndarray, tuple[int, int]]:
    (x0, y0), (x1, y1) = quad.min(axis=0), quad.max(axis=0)
    pad = margin * max(x1 - x0, y1 - y0) + 10
    h, w = gray.shape
    left, top = int(max(0, x0 - pad)), int(max(0, y0 - pad))
    right, bottom = int(min(w, x1 + pad)), int(min(h, y1 + pad))
    return gray[top:bottom, left:right], (left, top)


LOW_CONTRAST = 100  # grey levels between the 1st and 99th percentile; a lit scene has ~180+


def _low_contrast(gray: np.ndarray) -> bool:
    sample = gray[::8, ::8]
    lo, hi = np.percentile(sample, (1, 99))
    return hi - lo < LOW_CONTRAST


def _auto_chain() -> ChainDecoder:
    """The measured default (see the module docstring): zxing passes, cheapest first; the
    costly ones only where a cheap pass found something code-like it could not read."""
    gh = ZxingDecoder("zxing", fast=True, binarizer="GlobalHistogram")
    la = ZxingDecoder("zxing", fast=True)
    # The two cheapest passes also read light-on-dark codes (see the module docstring).
    gh_inv = ZxingDecoder("zxing", fast=True, binarizer="GlobalHistogram", invert=True)
    la_inv = ZxingDecoder("zxing", fast=True, invert=True)

    def global_histogram(gray: np.ndarray, hints: list[np.ndarray]) -> list[Decoded]:
        return gh_inv.decode_gray(gray, hints=hints)

    def half(gray: np.ndarray, hints: list[np.ndarray]) -> list[Decoded]:
        if min(gray.shape) < 4 * MIN_SIDE:
            return []
        small = cv2.resize(gray, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
        return la_inv.decode_gray(small, scale=0.5, hints=hints)

    def local_average(gray: np.ndarray, hints: list[np.ndarray]) -> list[Decoded]:
        return la.decode_gray(gray, hints=hints)

    def low_light(gray: np.ndarray, hints: list[np.ndarray]) -> list[Decoded]:
        if not _low_contrast(gray):
            return []
        # A dark frame is a noisy one (the camera turned its gain up): smooth, then stretch.
        smooth = cv2.GaussianBlur(gray, (0, 0), 1.0)
        return gh.decode_gray(cv2.equalizeHist(smooth), hints=hints) or la.decode_gray(
            smooth, hints=hints
        )

    def closer_look(gray: np.ndarray, hints: list[np.ndarray]) -> list[Decoded]:
        for quad in hints[:ROI_MAX]:
            crop, offset = _crop(gray, quad)
            if min(crop.shape) < MIN_SIDE:
                continue
            big = cv2.resize(crop, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
            for img, scale in ((big, 2.0), (cv2.equalizeHist(crop), 1.0)):
                for dec in (la, gh):
                    found = dec.decode_gray(img, scale=scale, offset=offset)
                    if found:
                        return found
        return []

    def upscaled(gray: np.ndarray, hints: list[np.ndarray]) -> list[Decoded]:
        if not hints:
            return []  # nothing code-like anywhere: an empty frame, do not pay for this
        big = cv2.resize(gray, None, fx=1.5, fy=1.5, interpolation=cv2.INTER_LINEAR)
        return la.decode_gray(big, scale=1.5)

    def equalized(gray: np.ndarray, hints: list[np.ndarray]) -> list[Decoded]:
        if not hints:
            return []
        return la.decode_gray(cv2.equalizeHist(gray))

    stages: list[Stage] = [
        ("zxing-global", global_histogram),
        ("zxing-half", half),
        ("zxing-local", local_average),
        ("zxing-low-light", low_light),
        ("zxing-closer", closer_look),
        ("zxing-x1.5", upscaled),
        ("zxing-equalized", equalized),
    ]
    return ChainDecoder("auto", stages, budget_ms=AUTO_BUDGET_MS)


def _plain(name: str) -> Decoder:
    if name == "zxing":
        return ZxingDecoder()
    if name == "zbar":
        return ZbarDecoder()
    if name == "opencv":
        return OpenCVDecoder()
    if name == "opencv-aruco":
        return OpenCVDecoder(aruco=True)
    if name == "auto":
        return _auto_chain()
    raise DecoderUnavailable(
        f"Unknown decoder '{name}'. Choose from: auto, {', '.join(DECODER_NAMES)}."
    )


def available_decoders() -> dict[str, str | None]:
    """Each decoder name → None when it works here, else the reason it does not."""
    out: dict[str, str | None] = {}
    for name in DECODER_NAMES:
        try:
            _plain(name)
            out[name] = None
        except DecoderUnavailable as exc:
            out[name] = str(exc)
        except ImportError as exc:
            out[name] = f"{name} is not installed ({exc})"
    return out


def _as_stage(decoder: Decoder) -> StageFn:
    read = getattr(decoder, "decode_gray", None) or decoder.decode

    def stage(gray: np.ndarray, hints: list[np.ndarray]) -> list[Decoded]:
        return read(gray)

    return stage


def build_chain(spec: str = "auto") -> Decoder:
    """A decoder from a spec: ``auto`` (the measured default), one name, or ``zxing,zbar``
    (tried in order, first hit wins). In a list, a decoder that cannot load here (say zbar
    without its system library) is skipped and named in ``.skipped``; a single name, or a
    list where nothing loads, raises DecoderUnavailable with a clear message."""
    names = [s.strip().lower() for s in (spec or "auto").split(",") if s.strip()] or ["auto"]
    if len(names) == 1:
        return _plain(names[0])
    decoders: list[Decoder] = []
    skipped: dict[str, str] = {}
    for n in names:
        try:
            decoders.append(_plain(n))
        except DecoderUnavailable as exc:
            if n not in DECODER_NAMES:
                raise
            skipped[n] = str(exc)
    if not decoders:
        reasons = "; ".join(f"{k}: {v}" for k, v in skipped.items())
        raise DecoderUnavailable(f"No QR decoder can run here ({reasons}).")
    stages: list[Stage] = [(d.name, _as_stage(d)) for d in decoders]
    chain = ChainDecoder("+".join(d.name for d in decoders), stages)
    chain.skipped = skipped
    return chain


def decode_image_file(path: Path, spec: str = "auto") -> str | None:
    """The text of the first QR code in the image file at ``path`` (None when none is found).

    Raises FileNotFoundError for a missing file and ValueError (a sentence) for a file that is
    not an image.
    """
    from app.scan.sources import read_image

    frame = read_image(path)
    if frame is None:
        if not Path(path).exists():
            raise FileNotFoundError(path)
        raise ValueError(f"{path} is not an image Showdesk can read.")
    found = build_chain(spec).decode(frame)
    return found[0].text if found else None
