"""The scan loop: a grabber thread keeps only the newest frame, a decoder thread reads it.

A camera delivers frames whether or not we keep up; decoding a queue of old frames would show
the guest a verdict for where their phone was a second ago. So the grabber overwrites a single
slot and the decoder always takes the newest frame (the frames it never saw are counted as
dropped). Callbacks run on the loop's threads: a UI must hand them over to its own thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from app.domain.stats import percentile
from app.scan.debounce import Debouncer
from app.scan.decoders import Decoder
from app.scan.sources import CameraUnavailable, FrameSource, SourceUnavailable

log = logging.getLogger(__name__)

DECODE_PROBLEM = "A picture could not be read (decoder problem); scanning continues."


@dataclass(frozen=True)
class ScanStats:
    frames_grabbed: int
    frames_decoded: int
    frames_dropped: int  # grabbed but replaced by a newer one before the decoder got to it
    codes: int  # codes passed to on_code (after de-duplication)
    decode_ms_mean: float | None
    decode_ms_p95: float | None
    latency_ms_mean: float | None  # frame grabbed -> on_code called, for frames that gave a code
    latency_ms_p95: float | None
    latency_ms_last: float | None


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _p95(values: list[float]) -> float | None:
    return percentile(values, 95) if values else None


class ScanLoop:
    def __init__(
        self,
        source: FrameSource,
        decoder: Decoder,
        on_code: Callable[[str], None],
        on_frame: Callable[[np.ndarray], None] | None = None,
        on_error: Callable[[str], None] | None = None,
        debounce_seconds: float = 3.0,
        preview_fps: float = 30.0,
        reopen_seconds: float = 2.0,
        on_recovered: Callable[[], None] | None = None,
        on_view_empty: Callable[[], None] | None = None,
        view_empty_seconds: float = 0.5,
    ) -> None:
        self.source = source
        self.decoder = decoder
        self.on_code = on_code
        self.on_frame = on_frame
        self.on_error = on_error
        self.on_recovered = on_recovered
        # Called once when a code that was in view has been gone for view_empty_seconds: the
        # guest has moved on, so the door screen may go back to "Ready" before its timer.
        self.on_view_empty = on_view_empty
        self.view_empty_seconds = view_empty_seconds
        self._code_seen_at: float | None = None
        self.debouncer = Debouncer(debounce_seconds)
        self.preview_period = 1.0 / preview_fps if preview_fps > 0 else 0.0
        self.reopen_seconds = reopen_seconds
        self.finished = threading.Event()  # set when a file/folder source has run out
        self._stop = threading.Event()
        self._cond = threading.Condition()
        self._slot: tuple[int, float, np.ndarray] | None = None  # (seq, grabbed_at, frame)
        self._grab_done = False
        self._threads: list[threading.Thread] = []
        self._grabbed = self._decoded = self._codes = 0
        self._taken_seq = 0
        self._decode_ms: deque[float] = deque(maxlen=500)
        self._latency_ms: deque[float] = deque(maxlen=500)
        self._last_preview = 0.0

    # --- public -------------------------------------------------------------------------

    def start(self) -> None:
        if self._threads:
            return
        self._stop.clear()
        self.finished.clear()
        with self._cond:
            self._slot, self._grab_done, self._taken_seq = None, False, 0
        self._threads = [
            threading.Thread(target=self._grab_loop, name="scan-grabber", daemon=True),
            threading.Thread(target=self._decode_loop, name="scan-decoder", daemon=True),
        ]
        for t in self._threads:
            t.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        for t in self._threads:
            t.join(timeout)
        self._threads = []
        try:
            self.source.close()
        except Exception:  # closing a dead camera must not stop the app from closing
            log.exception("closing frame source failed")

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    @property
    def stats(self) -> ScanStats:
        with self._cond:
            decode_ms, latency = list(self._decode_ms), list(self._latency_ms)
            grabbed, decoded, codes = self._grabbed, self._decoded, self._codes
            pending = self._slot is not None and self._slot[0] != self._taken_seq
        return ScanStats(
            frames_grabbed=grabbed,
            frames_decoded=decoded,
            frames_dropped=max(grabbed - decoded - int(pending), 0),
            codes=codes,
            decode_ms_mean=_mean(decode_ms),
            decode_ms_p95=_p95(decode_ms),
            latency_ms_mean=_mean(latency),
            latency_ms_p95=_p95(latency),
            latency_ms_last=latency[-1] if latency else None,
        )

    # --- grabber ------------------------------------------------------------------------

    def _grab_loop(self) -> None:
        seq = 0
        try:
            while not self._stop.is_set():
                try:
                    frame = self.source.read()
                except CameraUnavailable as exc:
                    self._report(str(exc))
                    if not self._reopen():
                        return
                    continue
                except SourceUnavailable as exc:
                    self._report(str(exc))
                    return
                if frame is None:
                    if getattr(self.source, "live", False):
                        continue
                    return  # end of a file, folder or frame list
                seq += 1
                with self._cond:
                    self._slot = (seq, time.perf_counter(), frame)
                    self._grabbed += 1
                    self._cond.notify()
                self._preview(frame)
        finally:
            with self._cond:
                self._grab_done = True
                self._cond.notify_all()

    def _reopen(self) -> bool:
        """Retry opening the camera every ``reopen_seconds`` until it works or we stop."""
        reopen = getattr(self.source, "reopen", None)
        if reopen is None:
            return False
        while not self._stop.wait(self.reopen_seconds):
            try:
                reopen()
            except CameraUnavailable:
                continue
            if self.on_recovered:
                self._safe(self.on_recovered)
            return True
        return False

    def _preview(self, frame: np.ndarray) -> None:
        if self.on_frame is None:
            return
        now = time.monotonic()
        if now - self._last_preview >= self.preview_period:
            self._last_preview = now
            self._safe(self.on_frame, frame)

    # --- decoder ------------------------------------------------------------------------

    def _decode_loop(self) -> None:
        try:
            while True:
                with self._cond:
                    while not self._stop.is_set() and (
                        self._slot is None or self._slot[0] == self._taken_seq
                    ):
                        if self._grab_done:
                            return
                        self._cond.wait(0.5)
                    if self._stop.is_set():
                        return
                    seq, grabbed_at, frame = self._slot
                    self._taken_seq = seq
                self._decode_one(frame, grabbed_at)
        finally:
            if self._grab_done and not self._stop.is_set():
                self.finished.set()

    def _decode_one(self, frame: np.ndarray, grabbed_at: float) -> None:
        t0 = time.perf_counter()
        try:
            found = self.decoder.decode(frame)
        except Exception:
            log.exception("decoder failed on a frame")
            self._report(DECODE_PROBLEM)
            found = []
        ms = (time.perf_counter() - t0) * 1000.0
        with self._cond:
            self._decoded += 1
            self._decode_ms.append(ms)
        now = time.monotonic()
        self._track_view(bool(found), now)
        for item in found:
            if not self.debouncer.seen(item.text, now):
                continue
            latency = (time.perf_counter() - grabbed_at) * 1000.0
            with self._cond:
                self._codes += 1
                self._latency_ms.append(latency)
            self._safe(self.on_code, item.text)

    def _track_view(self, code_in_frame: bool, now: float) -> None:
        if code_in_frame:
            self._code_seen_at = now
        elif self._code_seen_at is not None and now - self._code_seen_at >= self.view_empty_seconds:
            self._code_seen_at = None
            if self.on_view_empty is not None:
                self._safe(self.on_view_empty)

    # --- helpers ------------------------------------------------------------------------

    def _report(self, message: str) -> None:
        if self.on_error:
            self._safe(self.on_error, message)
        else:
            log.warning("%s", message)

    @staticmethod
    def _safe(callback: Callable, *args: object) -> None:
        """A failing callback (the UI's problem) must not kill the scanner threads."""
        try:
            callback(*args)
        except Exception:
            log.exception("scan loop callback failed")
