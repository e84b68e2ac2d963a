"""Fixtures for the scanning tests: real generated camera-like frames (built once per run)."""

from __future__ import annotations

import numpy as np
import pytest

from app.scan.synth import camera_frame, frame_set, ticket_like_payloads

# A phone held still in good light: every decoder should read this.
STEADY = {
    "tilt_x": 8.0,
    "tilt_y": -6.0,
    "roll": 4.0,
    "phone": True,
    "light": "normal",
    "glare": False,
    "blur_sigma": 0.4,
    "motion_len": 0,
    "noise_sigma": 3.0,
    "jpeg_quality": 85,
    "size": 330,
}


@pytest.fixture(scope="session")
def payloads() -> list[str]:
    return ticket_like_payloads(24, seed=11)


@pytest.fixture(scope="session")
def camera_frames(payloads: list[str]) -> list[tuple[np.ndarray, str | None]]:
    """32 frames under random camera conditions, about 20% without a code."""
    return frame_set(payloads, 32, seed=11)


@pytest.fixture(scope="session")
def steady_frame_of():
    def make(text: str | bytes | None, seed: int = 1) -> np.ndarray:
        return camera_frame(text, np.random.default_rng(seed), **STEADY)

    return make
