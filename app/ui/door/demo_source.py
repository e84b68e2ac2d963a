"""Camera-like frames of real ticket codes, for demos, screenshots, tests and the UI bench.

Built on app.scan's synth generator, with steady "held up to the camera" conditions so the
picture looks like a phone shown at the door.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

STEADY = {
    "size": 300,
    "tilt_x": 6.0,
    "tilt_y": -8.0,
    "roll": 7.0,
    "phone": True,
    "light": "normal",
    "glare": False,
    "blur_sigma": 0.3,
    "motion_len": 0,
    "motion_angle": 0.0,
    "noise_sigma": 3.0,
    "jpeg_quality": 85,
}


def ticket_frame(text: str | None, seed: int = 1) -> np.ndarray:
    """One 1280x720 BGR frame of a phone showing ``text`` (None: nothing in view)."""
    from app.scan.synth import camera_frame

    return camera_frame(text, np.random.default_rng(seed), **STEADY)


def ticket_source(
    texts: list[str | None], repeat: int = 20, fps: float = 30.0, seed: int = 1
) -> Callable[[], Any]:
    """A source factory: each text held in view for ``repeat`` frames, in order."""

    def factory() -> Any:
        from app.scan.sources import SyntheticSource

        frames: list[np.ndarray] = []
        for i, text in enumerate(texts):
            frame = ticket_frame(text, seed + i)
            frames += [frame] * repeat  # the same array: no extra memory
        return SyntheticSource(frames, fps=fps)

    return factory
