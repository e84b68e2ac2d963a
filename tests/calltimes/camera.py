"""A badge as a webcam sees it: the rendered badge tilted in 3-D on a cluttered background,
blurred, noisy and JPEG-compressed (OpenCV), for feeding the real ScanLoop and decoders."""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image


def pil_to_bgr(img: Image.Image) -> np.ndarray:
    return cv2.cvtColor(np.asarray(img.convert("RGB")), cv2.COLOR_RGB2BGR)


def badge_camera_frame(
    badge: Image.Image, seed: int = 3, w: int = 1280, h: int = 720
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    card = pil_to_bgr(badge)
    ch, cw = card.shape[:2]
    # Background: a gradient wall with a few boxes.
    t = np.linspace(0, 1, w, dtype=np.float32)[None, :, None]
    c0, c1 = rng.integers(40, 160, 3), rng.integers(60, 200, 3)
    frame = np.broadcast_to(c0 * (1 - t) + c1 * t, (h, w, 3)).astype(np.uint8).copy()
    for _ in range(10):
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        colour = tuple(int(v) for v in rng.integers(0, 255, 3))
        cv2.rectangle(
            frame,
            (x, y),
            (x + int(rng.integers(20, 200)), y + int(rng.integers(20, 150))),
            colour,
            -1,
        )
    # The badge held up to the camera: about 420 px tall, tilted (a perspective quad).
    scale = 420 / ch
    bw, bh = cw * scale, ch * scale
    x0, y0 = 420.0, 150.0
    dst = np.float32(
        [
            [x0 + 18, y0 + 6],
            [x0 + bw - 4, y0 + 22],
            [x0 + bw + 12, y0 + bh - 10],
            [x0 - 6, y0 + bh + 4],
        ]
    )
    src = np.float32([[0, 0], [cw, 0], [cw, ch], [0, ch]])
    matrix = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(card, matrix, (w, h))
    mask = cv2.warpPerspective(np.full((ch, cw), 255, np.uint8), matrix, (w, h))
    alpha = (mask.astype(np.float32) / 255)[:, :, None]
    frame = (warped * alpha + frame * (1 - alpha)).astype(np.float32)
    # The camera: slight defocus, a bit dark, sensor noise, JPEG.
    frame = cv2.GaussianBlur(frame, (0, 0), 1.0) * 0.8 + 10
    frame = frame + rng.normal(0, 5, frame.shape)
    out = np.clip(frame, 0, 255).astype(np.uint8)
    _, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, 70])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)
