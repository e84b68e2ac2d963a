"""Writes the door's verdict sounds (small 16-bit mono WAVs) next to this script.

Run: python resources/sounds/make_sounds.py. The files are committed; this is how to remake them.
Each sound differs in pitch AND rhythm so staff can tell them apart without looking.
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

RATE = 16000
HERE = Path(__file__).resolve().parent

# name -> list of (frequency Hz or 0 for silence, seconds, waveform)
SOUNDS: dict[str, list[tuple[float, float, str]]] = {
    # two quick rising notes: "in you go"
    "ok": [(880, 0.09, "sine"), (0, 0.02, "sine"), (1320, 0.14, "sine")],
    # two equal mid notes: "look at the screen"
    "warning": [(660, 0.12, "sine"), (0, 0.08, "sine"), (660, 0.12, "sine")],
    # one long low buzz: "stop"
    "refusal": [(196, 0.45, "square")],
    # three short high notes: admitted, but read the attention note
    "attention": [(1046, 0.07, "sine"), (0, 0.04, "sine")] * 2 + [(1046, 0.07, "sine")],
}


def _samples(freq: float, seconds: float, shape: str) -> list[int]:
    n = int(RATE * seconds)
    out = []
    fade = int(RATE * 0.008)  # short fades: no clicks at the edges
    for i in range(n):
        if freq <= 0:
            out.append(0)
            continue
        phase = math.sin(2 * math.pi * freq * i / RATE)
        value = (0.55 if phase >= 0 else -0.55) if shape == "square" else 0.8 * phase
        envelope = min(1.0, i / fade if fade else 1.0, (n - i) / fade if fade else 1.0)
        out.append(int(value * envelope * 32767 * 0.6))
    return out


def write_sound(name: str, parts: list[tuple[float, float, str]], folder: Path = HERE) -> Path:
    samples: list[int] = []
    for freq, seconds, shape in parts:
        samples += _samples(freq, seconds, shape)
    path = folder / f"{name}.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(struct.pack(f"<{len(samples)}h", *samples))
    return path


if __name__ == "__main__":
    for sound_name, sound_parts in SOUNDS.items():
        written = write_sound(sound_name, sound_parts)
        print(f"{written.name}: {written.stat().st_size} bytes")
