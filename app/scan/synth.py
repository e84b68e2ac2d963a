"""Camera-like frames holding QR codes, for tests, demos and `showdesk bench scan`.

A code is rendered with the ``qrcode`` package, put on a phone screen (dark bezel, bright
screen) or a paper ticket, tilted in 3-D (perspective, up to ±35° each way), placed on a
cluttered background, then put through what a cheap webcam does to it: focus and motion blur,
dark or over-bright exposure, a glare spot, sensor noise and JPEG re-compression.

Fixed conditions (never drawn at random, so a seed's frames stay what they were) give the
codes real phones also show: ``invert`` (light modules on a dark screen: dark mode, some wallet
apps), ``mirror`` (a front camera's preview, a code seen through glass), ``eci`` (the payload
bytes behind an ECI charset declaration) and ``blur_cap=False`` (blur in camera pixels as
drawn, not reduced for small modules: to compare code sizes under the same blur).

Everything is drawn from a ``numpy.random.Generator`` so a seed gives the same frames.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import qrcode
from qrcode import base as qr_base
from qrcode import util as qr_util
from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_L, ERROR_CORRECT_M, ERROR_CORRECT_Q

FRAME_W, FRAME_H = 1280, 720
_ECC = {"L": ERROR_CORRECT_L, "M": ERROR_CORRECT_M, "Q": ERROR_CORRECT_Q, "H": ERROR_CORRECT_H}


@functools.lru_cache(maxsize=512)
def code_matrix(
    text: str | bytes, ecc: str = "M", border: int = 4, eci: int | None = None
) -> np.ndarray:
    """The module matrix of a QR code (uint8, 1 = dark), quiet zone included (read-only).

    With ``eci``, ``text`` (bytes, or str sent as UTF-8) goes in one byte-mode segment behind
    an ECI header declaring that charset (ECI 20 Shift_JIS, 29 GB2312, 3 ISO-8859-1, ...)."""
    if eci is None:
        qr = qrcode.QRCode(error_correction=_ECC[ecc], border=border, box_size=1)
        qr.add_data(text)
        qr.make(fit=True)
    else:
        payload = text.encode("utf-8") if isinstance(text, str) else text
        qr = _eci_code(payload, eci, _ECC[ecc], border)
    matrix = np.array(qr.get_matrix(), dtype=np.uint8)
    matrix.flags.writeable = False
    return matrix


def _eci_code(payload: bytes, eci: int, ecc: int, border: int) -> qrcode.QRCode:
    """``qrcode`` writes no ECI header, so the data codewords are built here (ECI, then one
    byte segment, terminator and pad as ISO/IEC 18004 7.4) and handed to it to place."""
    if not 0 <= eci <= 999999:
        raise ValueError("ECI designators run from 0 to 999999")
    eci_bits = 8 if eci < 128 else 16 if eci < 16384 else 24
    eci_value = eci if eci < 128 else (0b10 << 14 | eci) if eci < 16384 else (0b110 << 21 | eci)
    for version in range(1, 41):
        count_bits = qr_util.mode_sizes_for_version(version)[qr_util.MODE_8BIT_BYTE]
        limit = sum(b.data_count * 8 for b in qr_base.rs_blocks(version, ecc))
        if 4 + eci_bits + 4 + count_bits + 8 * len(payload) <= limit:
            break
    else:
        raise ValueError("payload too long for a QR code")
    buf = qr_util.BitBuffer()
    buf.put(0b0111, 4)
    buf.put(eci_value, eci_bits)
    buf.put(qr_util.MODE_8BIT_BYTE, 4)
    buf.put(len(payload), count_bits)
    for byte in payload:
        buf.put(byte, 8)
    for _ in range(min(limit - len(buf), 4)):
        buf.put_bit(False)
    while len(buf) % 8:
        buf.put_bit(False)
    for i in range((limit - len(buf)) // 8):
        buf.put(qr_util.PAD0 if i % 2 == 0 else qr_util.PAD1, 8)
    qr = qrcode.QRCode(version=version, error_correction=ecc, border=border, box_size=1)
    qr.data_cache = qr_util.create_bytes(buf, qr_base.rs_blocks(version, ecc))
    qr.make(fit=False)
    return qr


def render_code(
    text: str | bytes, px: int = 300, ecc: str = "M", border: int = 4, eci: int | None = None
) -> np.ndarray:
    """A flat, perfect QR code for ``text`` as a ``px`` x ``px`` BGR image (quiet zone included)."""
    return render_matrix(code_matrix(text, ecc=ecc, border=border, eci=eci), px)


def render_matrix(modules: np.ndarray, px: int = 300) -> np.ndarray:
    """A module matrix (1 = dark, quiet zone included) as a ``px`` x ``px`` BGR image."""
    gray = np.where(modules == 1, 0, 255).astype(np.uint8)
    # Render big with crisp modules, then area-average down so edges look like a real screen.
    scale = max(1, math.ceil(px * 2 / gray.shape[0]))
    big = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    small = cv2.resize(big, (px, px), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(small, cv2.COLOR_GRAY2BGR)


def random_conditions(rng: np.random.Generator) -> dict[str, Any]:
    """Draw the capture conditions of one frame (what `camera_frame` does when not told)."""
    light = rng.choice(["normal", "normal", "dark", "bright"])
    return {
        "size": int(rng.integers(170, 421)),
        "tilt_x": float(rng.uniform(-35, 35)),
        "tilt_y": float(rng.uniform(-35, 35)),
        "roll": float(rng.normal(0, 25)),
        "phone": bool(rng.random() < 0.6),
        "light": str(light),
        "glare": bool(rng.random() < 0.3),
        "blur_sigma": float(rng.uniform(0.0, 1.6)),
        "motion_len": int(rng.choice([0, 0, 0, 3, 5, 7, 9])),
        "motion_angle": float(rng.uniform(0, 180)),
        "noise_sigma": float(rng.uniform(2, 9)),
        "jpeg_quality": int(rng.integers(55, 91)),
    }


def _background(rng: np.random.Generator) -> np.ndarray:
    """A cluttered scene: a lit wall/desk gradient, boxes, lines, printed text, then defocus."""
    h, w = FRAME_H, FRAME_W
    c0 = rng.integers(40, 200, 3)
    c1 = rng.integers(40, 200, 3)
    t = np.linspace(0.0, 1.0, w, dtype=np.float32)[None, :, None]
    img = (c0 * (1 - t) + c1 * t).astype(np.float32)
    img = np.broadcast_to(img, (h, w, 3)).astype(np.uint8).copy()
    for _ in range(int(rng.integers(8, 22))):
        kind = rng.integers(0, 4)
        color = tuple(int(v) for v in rng.integers(0, 256, 3))
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        if kind == 0:
            cv2.rectangle(
                img,
                (x, y),
                (x + int(rng.integers(20, 300)), y + int(rng.integers(20, 200))),
                color,
                -1,
            )
        elif kind == 1:
            cv2.circle(img, (x, y), int(rng.integers(10, 120)), color, -1)
        elif kind == 2:
            cv2.line(
                img,
                (x, y),
                (int(rng.integers(0, w)), int(rng.integers(0, h))),
                color,
                int(rng.integers(1, 8)),
            )
        else:
            words = "".join(chr(int(c)) for c in rng.integers(65, 91, int(rng.integers(4, 14))))
            cv2.putText(
                img, words, (x, y), cv2.FONT_HERSHEY_SIMPLEX, float(rng.uniform(0.5, 2.0)), color, 2
            )
    # Checkerboard-like clutter (a patterned shirt, a tiled floor) tempts finder-pattern search.
    if rng.random() < 0.4:
        cell = int(rng.integers(6, 24))
        x, y = int(rng.integers(0, w - 200)), int(rng.integers(0, h - 150))
        yy, xx = np.mgrid[0:150, 0:200]
        board = (((yy // cell) + (xx // cell)) % 2 * 200 + 30).astype(np.uint8)
        img[y : y + 150, x : x + 200] = board[:, :, None]
    return cv2.GaussianBlur(img, (0, 0), float(rng.uniform(1.0, 3.0)))


def _on_surface(code: np.ndarray, surface: int, ink: int) -> np.ndarray:
    """The code's light parts at the surface's level, its dark modules at ``ink`` (edges
    blended): ink darker than the surface is an ordinary code, lighter an inverted one."""
    dark = 1.0 - code.astype(np.float32) / 255.0
    return np.clip(surface + (ink - surface) * dark, 0, 255).astype(np.uint8)


def _phone(
    code_on_screen: np.ndarray,
    rng: np.random.Generator,
    screen_level: int,
    bezel_level: int,
    header_range: tuple[int, int],
    line_grey: int,
) -> np.ndarray:
    """A phone showing ``code_on_screen``: bezel, screen, app chrome (a coloured header and
    text lines) above the code."""
    s = code_on_screen.shape[0]
    margin_x, margin_top, margin_bottom = int(s * 0.12), int(s * 0.55), int(s * 0.45)
    sw, sh = s + 2 * margin_x, s + margin_top + margin_bottom
    bezel = int(s * 0.08) + 4
    obj = np.full((sh + 2 * bezel, sw + 2 * bezel, 3), bezel_level, np.uint8)
    screen = np.full((sh, sw, 3), screen_level, np.uint8)
    header = tuple(int(v) for v in rng.integers(*header_range, 3))
    cv2.rectangle(screen, (0, 0), (sw, int(margin_top * 0.35)), header, -1)
    for i in range(3):
        y = int(margin_top * (0.5 + 0.15 * i))
        cv2.rectangle(
            screen,
            (margin_x, y),
            (margin_x + int(sw * rng.uniform(0.3, 0.7)), y + 8),
            (line_grey, line_grey, line_grey),
            -1,
        )
    screen[margin_top : margin_top + s, margin_x : margin_x + s] = code_on_screen
    obj[bezel : bezel + sh, bezel : bezel + sw] = screen
    return obj


def _carrier(
    code: np.ndarray, phone: bool, rng: np.random.Generator, invert: bool = False
) -> np.ndarray:
    """The object the code is shown on: a phone (dark bezel, bright screen) or a paper ticket.
    ``invert``: a dark screen (or black card) with light modules."""
    s = code.shape[0]
    if phone and invert:
        screen_level = int(rng.integers(8, 46))  # dark mode: near-black, not black
        ink = int(rng.integers(190, 251))
        bezel_level = int(rng.integers(0, 12))
        on_screen = _on_surface(code, screen_level, ink)
        return _phone(on_screen, rng, screen_level, bezel_level, (20, 90), 170)
    if invert:  # a black card printed with a light code
        card_level, ink = int(rng.integers(15, 60)), int(rng.integers(200, 246))
        margin = int(s * 0.2)
        obj = np.full((s + margin * 3, s + 2 * margin, 3), card_level, np.uint8)
        obj[margin : margin + s, margin : margin + s] = _on_surface(code, card_level, ink)
        return obj
    if phone:
        screen_level = int(rng.integers(225, 256))
        bezel_level = int(rng.integers(5, 35))
        on_screen = np.where(code > 127, screen_level, code).astype(np.uint8)
        return _phone(on_screen, rng, screen_level, bezel_level, (40, 220), 120)
    paper_level = int(rng.integers(200, 246))
    margin = int(s * 0.2)
    obj = np.full((s + margin * 3, s + 2 * margin, 3), paper_level, np.uint8)
    cv2.putText(
        obj,
        "ADMIT ONE",
        (margin, int(margin * 0.8)),
        cv2.FONT_HERSHEY_SIMPLEX,
        s / 400,
        (40, 40, 40),
        2,
    )
    obj[margin : margin + s, margin : margin + s] = np.where(code > 127, paper_level, code)
    return obj


def _homography(
    obj_shape: tuple[int, ...],
    code_box: tuple[int, int, int],
    cond: dict[str, Any],
    rng: np.random.Generator,
) -> np.ndarray:
    """Project the object plane, tilted and rolled in 3-D, so the code lands inside the frame."""
    oh, ow = obj_shape[:2]
    cx0, cy0, s = code_box
    tx, ty, rz = (math.radians(cond[k]) for k in ("tilt_x", "tilt_y", "roll"))
    rx = np.array([[1, 0, 0], [0, math.cos(tx), -math.sin(tx)], [0, math.sin(tx), math.cos(tx)]])
    ry = np.array([[math.cos(ty), 0, math.sin(ty)], [0, 1, 0], [-math.sin(ty), 0, math.cos(ty)]])
    rzm = np.array([[math.cos(rz), -math.sin(rz), 0], [math.sin(rz), math.cos(rz), 0], [0, 0, 1]])
    rot = rzm @ rx @ ry
    focal = 1100.0
    scale = cond["size"] / s  # object pixels -> frame pixels at the reference distance

    def project(points: np.ndarray) -> np.ndarray:
        p = np.c_[(points - [cx0, cy0]) * scale, np.zeros(len(points))] @ rot.T
        z = p[:, 2] + focal
        return np.c_[p[:, 0] * focal / z, p[:, 1] * focal / z]

    obj_corners = np.array([[0, 0], [ow, 0], [ow, oh], [0, oh]], float)
    half = s / 2
    code_corners = np.array(
        [
            [cx0 - half, cy0 - half],
            [cx0 + half, cy0 - half],
            [cx0 + half, cy0 + half],
            [cx0 - half, cy0 + half],
        ]
    )
    dst_obj, dst_code = project(obj_corners), project(code_corners)
    lo, hi = dst_code.min(axis=0), dst_code.max(axis=0)
    pad = 8
    ox = rng.uniform(pad - lo[0], max(pad - lo[0], FRAME_W - pad - hi[0]))
    oy = rng.uniform(pad - lo[1], max(pad - lo[1], FRAME_H - pad - hi[1]))
    dst = (dst_obj + [ox, oy]).astype(np.float32)
    return cv2.getPerspectiveTransform(obj_corners.astype(np.float32), dst)


def _motion_kernel(length: int, angle: float) -> np.ndarray:
    k = np.zeros((length, length), np.float32)
    k[length // 2, :] = 1.0
    rot = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), angle, 1.0)
    k = cv2.warpAffine(k, rot, (length, length))
    return k / max(k.sum(), 1e-6)


def camera_frame(
    text: str | bytes | None, rng: np.random.Generator, **conditions: Any
) -> np.ndarray:
    """A 1280x720 BGR frame as a webcam would see a phone or ticket showing ``text``.

    ``text=None`` gives a frame with no code (a phone with a blank screen, or just the scene).
    Any key of `random_conditions` may be given to fix that condition, and so may the fixed
    ones: ``invert``, ``mirror``, ``eci`` and ``blur_cap`` (see the module docstring).
    """
    cond = random_conditions(rng)
    cond.update(conditions)
    frame = _background(rng)
    if text is not None or rng.random() < 0.5:
        code_px = int(cond["size"])
        if text is not None:
            eci = cond.get("eci")
            code = render_code(text, px=code_px, eci=eci)
            if cond.get("blur_cap", True):
                _limit_blur(cond, module_px=code_px / code_matrix(text, eci=eci).shape[0])
        else:  # an empty screen or a ticket stub: shapes to tempt false positives, no code
            code = np.full((code_px, code_px, 3), 255, np.uint8)
            cv2.rectangle(code, (10, 10), (code_px // 3, code_px // 3), (0, 0, 0), -1)
        if cond.get("mirror"):
            code = np.ascontiguousarray(code[:, ::-1])
        obj = _carrier(code, bool(cond["phone"]), rng, invert=bool(cond.get("invert")))
        # Where the code sits inside the carrier (centre and side, in object pixels).
        box = _code_box(obj.shape, code_px, bool(cond["phone"]))
        hmat = _homography(obj.shape, box, cond, rng)
        warped = cv2.warpPerspective(obj, hmat, (FRAME_W, FRAME_H), flags=cv2.INTER_LINEAR)
        mask = cv2.warpPerspective(np.full(obj.shape[:2], 255, np.uint8), hmat, (FRAME_W, FRAME_H))
        alpha = mask.astype(np.float32) / 255.0
        frame = cv2.blendLinear(warped, frame, alpha, 1.0 - alpha)
    return _camera_effects(frame, cond, rng)


def _limit_blur(cond: dict[str, Any], module_px: float) -> None:
    """Keep focus + motion blur below about 0.4 of a module: past that no decoder (and no eye)
    can separate the modules, and a real camera hands over a sharper frame a moment later."""
    motion_sd = cond["motion_len"] / 3.46  # a box of length L has a standard deviation L/sqrt(12)
    total = math.hypot(cond["blur_sigma"], motion_sd)
    limit = 0.4 * module_px
    if total > limit:
        k = limit / total
        cond["blur_sigma"] *= k
        cond["motion_len"] = int(cond["motion_len"] * k)


def _code_box(obj_shape: tuple[int, ...], s: int, phone: bool) -> tuple[int, int, int]:
    if phone:
        bezel = int(s * 0.08) + 4
        return bezel + int(s * 0.12) + s // 2, bezel + int(s * 0.55) + s // 2, s
    margin = int(s * 0.2)
    return margin + s // 2, margin + s // 2, s


def _camera_effects(
    frame: np.ndarray, cond: dict[str, Any], rng: np.random.Generator
) -> np.ndarray:
    img = frame.astype(np.float32)
    if cond["blur_sigma"] > 0.05:
        img = cv2.GaussianBlur(img, (0, 0), float(cond["blur_sigma"]))
    if cond["motion_len"] >= 2:
        img = cv2.filter2D(
            img, -1, _motion_kernel(int(cond["motion_len"]), float(cond["motion_angle"]))
        )
    if cond["light"] == "dark":
        img *= np.float32(rng.uniform(0.22, 0.45))
        img += np.float32(rng.uniform(0, 12))
    elif cond["light"] == "bright":
        img *= np.float32(rng.uniform(1.3, 1.8))
        img += np.float32(rng.uniform(10, 50))
    if cond["glare"]:
        gx, gy = rng.uniform(0, FRAME_W), rng.uniform(0, FRAME_H)
        radius = rng.uniform(30, 110)
        strength = rng.uniform(60, 140)
        bx = np.exp(-((np.arange(FRAME_W, dtype=np.float32) - gx) ** 2) / (2 * radius**2))
        by = np.exp(-((np.arange(FRAME_H, dtype=np.float32) - gy) ** 2) / (2 * radius**2))
        blob = np.outer(by, bx).astype(np.float32) * np.float32(strength)
        img += cv2.merge([blob, blob, blob])
    noise_sigma = float(cond["noise_sigma"]) * (1.6 if cond["light"] == "dark" else 1.0)
    img += rng.standard_normal(img.shape, dtype=np.float32) * np.float32(noise_sigma)
    out = np.clip(img, 0, 255, out=img).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(cond["jpeg_quality"])])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)


def frame_set(
    texts: Sequence[str | bytes],
    n: int,
    seed: int,
    empty_share: float = 0.2,
    **conditions: Any,
) -> list[tuple[np.ndarray, str | bytes | None]]:
    """``n`` camera-like frames, about ``empty_share`` of them without a code; same seed, same frames.

    Returns (frame, expected payload or None) pairs; payloads cycle through ``texts``.
    ``conditions`` are fixed for every frame (e.g. ``invert=True``), as in `camera_frame`.
    """
    out: list[tuple[np.ndarray, str | bytes | None]] = []
    for i in range(n):
        rng = np.random.default_rng([seed, i])
        text = None if (not texts or rng.random() < empty_share) else texts[i % len(texts)]
        out.append((camera_frame(text, rng, **conditions), text))
    return out


def write_video(frames: Sequence[np.ndarray], path: str | Path, fps: float = 30.0) -> Path:
    """Write BGR frames to a video file (.avi → MJPG, otherwise mp4v); returns the path."""
    path = Path(path)
    fourcc = "MJPG" if path.suffix.lower() == ".avi" else "mp4v"
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (w, h))
    if not writer.isOpened():
        raise OSError(f"Cannot write a video to {path} (codec {fourcc} not available).")
    try:
        for f in frames:
            writer.write(f)
    finally:
        writer.release()
    return path


_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def ticket_like_payloads(n: int, seed: int) -> list[str]:
    """Payloads shaped like real ticket codes: 90–130 character base32 / base64url tokens
    (signed tokens), plus about one in eight short legacy codes like ``FW26-000123``."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.125:
            out.append(f"FW{int(rng.integers(20, 30))}-{int(rng.integers(0, 1_000_000)):06d}")
            continue
        alphabet = _B32 if r < 0.45 else _B64URL
        length = int(rng.integers(90, 131))
        out.append("".join(alphabet[int(i)] for i in rng.integers(0, len(alphabet), length)))
    return out
