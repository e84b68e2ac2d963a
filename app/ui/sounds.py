"""Verdict sounds, played without blocking the UI and without QtMultimedia.

PySide6-Essentials has no QtMultimedia, so a WAV is handed to the platform's own player
(winsound on Windows, afplay on macOS, paplay/pw-play/aplay on Linux) from a short-lived
thread. No player or no audio device (CI, a kiosk with muted hardware) means silence, logged
once, never an error on screen.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from app.resources import resource_path

log = logging.getLogger(__name__)

SOUNDS_DIR = resource_path("sounds")
SOUND_NAMES = ("ok", "warning", "refusal", "attention")
_LINUX_PLAYERS = (("paplay",), ("pw-play",), ("aplay", "-q"))


def sound_path(name: str) -> Path:
    return SOUNDS_DIR / f"{name}.wav"


def _find_player() -> list[str] | None:
    if sys.platform == "darwin" and shutil.which("afplay"):
        return ["afplay"]
    for command in _LINUX_PLAYERS:
        if shutil.which(command[0]):
            return list(command)
    return None


class SoundPlayer:
    """Plays one of SOUND_NAMES; a new sound does not wait for the previous one."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.last_requested: str | None = None
        self._warned = False
        self._player = None if sys.platform == "win32" else _find_player()

    @property
    def available(self) -> bool:
        return sys.platform == "win32" or self._player is not None

    def play(self, name: str) -> None:
        self.last_requested = name
        if not self.enabled:
            return
        path = sound_path(name)
        if not path.exists():
            self._warn_once(f"sound file {path} is missing; playing nothing")
            return
        if not self.available:
            self._warn_once("no audio player found (paplay, pw-play or aplay); sounds are off")
            return
        threading.Thread(target=self._play_blocking, args=(path,), daemon=True).start()

    def _play_blocking(self, path: Path) -> None:
        try:
            if sys.platform == "win32":
                import winsound

                winsound.PlaySound(str(path), winsound.SND_FILENAME)
                return
            result = subprocess.run(
                [*self._player, str(path)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                timeout=5,
                check=False,
            )
            if result.returncode != 0:
                reason = result.stderr.decode(errors="replace").strip().splitlines()
                self._warn_once(f"audio player failed ({reason[-1] if reason else 'no device'})")
        except (OSError, subprocess.SubprocessError, RuntimeError) as exc:
            self._warn_once(f"could not play a sound: {exc}")

    def _warn_once(self, message: str) -> None:
        if not self._warned:
            self._warned = True
            log.warning("%s", message)
