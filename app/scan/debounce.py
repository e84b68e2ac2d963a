"""De-duplication of repeated reads: a code held in front of the camera is one scan."""

from __future__ import annotations


class Debouncer:
    """``seen(code, now)`` is True when ``code`` counts as a new scan.

    The same code again within ``seconds`` of its last sighting is a repeat (and, while it
    stays in view, keeps extending that window, so a phone held still for a minute is one
    scan). A different code is new at once. ``seconds=0`` turns de-duplication off.
    """

    def __init__(self, seconds: float = 3.0) -> None:
        if seconds < 0:
            raise ValueError("debounce seconds must be zero or more")
        self.seconds = float(seconds)
        self._last_seen: dict[str, float] = {}

    def seen(self, code: str, now: float) -> bool:
        last = self._last_seen.get(code)
        self._last_seen[code] = now
        self._forget_older_than(now)
        if self.seconds == 0 or last is None:
            return True
        return now - last > self.seconds or now < last  # a clock step back counts as new

    def reset(self) -> None:
        self._last_seen.clear()

    def _forget_older_than(self, now: float) -> None:
        if len(self._last_seen) > 256:
            cutoff = now - self.seconds
            self._last_seen = {c: t for c, t in self._last_seen.items() if t >= cutoff}
