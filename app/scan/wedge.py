"""Keyboard-wedge barcode scanners: they "type" the code very fast and press Enter.

`WedgeBuffer` tells such a burst from a person typing (say, a name in the search box):
characters arriving closer together than ``max_gap`` seconds, at least ``min_length`` of them,
ending with Enter. Pure logic: the caller passes each key with its timestamp.
"""

from __future__ import annotations

ENTER = ("\r", "\n")


class WedgeBuffer:
    def __init__(self, max_gap: float = 0.05, min_length: int = 5, max_length: int = 4096) -> None:
        self.max_gap = max_gap
        self.min_length = min_length
        self.max_length = max_length
        self._chars: list[str] = []
        self._last_t: float | None = None

    def feed(self, char: str, t: float) -> str | None:
        """Feed one key (Enter as "\\r" or "\\n"); returns the scanned code when a burst ends."""
        gap_ok = self._last_t is not None and 0 <= t - self._last_t <= self.max_gap
        if char in ENTER:
            burst = "".join(self._chars)
            self.reset()
            return burst if gap_ok and len(burst) >= self.min_length else None
        if not char or len(char) != 1 or not char.isprintable():
            self.reset()
            return None
        if not gap_ok:
            self._chars = []  # too slow: a person typing; start a new possible burst here
        self._chars.append(char)
        self._last_t = t
        if len(self._chars) > self.max_length:
            self.reset()
        return None

    @property
    def pending(self) -> str:
        """Characters of a burst in progress (the UI can hide them from a text field)."""
        return "".join(self._chars)

    def reset(self) -> None:
        self._chars = []
        self._last_t = None
