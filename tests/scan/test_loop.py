"""ScanLoop end to end on real generated frames (threads, no Qt). Waits are bounded polls."""

import os
import threading
import time
from pathlib import Path

import pytest

from app.scan.decoders import ChainDecoder, build_chain
from app.scan.loop import DECODE_PROBLEM, ScanLoop
from app.scan.sources import CAMERA_LOST, CameraSource, SyntheticSource
from app.scan.synth import write_video


def wait_for(predicate, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


class Recorder:
    def __init__(self) -> None:
        self.codes: list[str] = []
        self.errors: list[str] = []
        self.frames = 0
        self.recovered = threading.Event()
        self.lock = threading.Lock()

    def on_code(self, code: str) -> None:
        with self.lock:
            self.codes.append(code)

    def on_error(self, message: str) -> None:
        with self.lock:
            self.errors.append(message)

    def on_frame(self, frame) -> None:
        self.frames += 1


@pytest.fixture(scope="module")
def scenes(steady_frame_of):
    return {
        None: steady_frame_of(None, 5),
        "GUEST-A": steady_frame_of("GUEST-A", 6),
        "GUEST-B": steady_frame_of("GUEST-B", 7),
    }


def test_codes_in_order_debounced_with_stats(scenes):
    script = [None] * 5 + ["GUEST-A"] * 20 + [None] * 5 + ["GUEST-B"] * 20 + ["GUEST-A"] * 20
    source = SyntheticSource([scenes[s] for s in script], fps=30)
    rec = Recorder()
    loop = ScanLoop(
        source, build_chain("auto"), rec.on_code, rec.on_frame, rec.on_error, debounce_seconds=60
    )
    loop.start()
    try:
        assert wait_for(loop.finished.is_set)
    finally:
        loop.stop()
    assert rec.codes == ["GUEST-A", "GUEST-B"]  # A again within 60 s: not a second scan
    assert rec.errors == []
    stats = loop.stats
    assert stats.frames_grabbed == len(script)
    assert stats.frames_decoded + stats.frames_dropped == stats.frames_grabbed
    assert stats.codes == 2
    assert stats.latency_ms_mean is not None and stats.latency_ms_mean > 0
    assert stats.decode_ms_p95 is not None
    assert rec.frames >= 1
    assert rec.frames <= len(script)


def test_slow_decoder_gets_the_newest_frame_not_a_queue(scenes):
    """Frames arrive far faster than OpenCV's detector decodes: most must be dropped."""
    source = SyntheticSource([scenes["GUEST-A"]] * 300, fps=0)
    rec = Recorder()
    loop = ScanLoop(source, build_chain("opencv"), rec.on_code, debounce_seconds=0)
    loop.start()
    try:
        assert wait_for(loop.finished.is_set)
    finally:
        loop.stop()
    stats = loop.stats
    assert stats.frames_grabbed == 300
    assert stats.frames_dropped > 0
    assert stats.frames_decoded < 300
    assert rec.codes and set(rec.codes) == {"GUEST-A"}
    assert len(rec.codes) == stats.frames_decoded  # debounce off: every decoded frame counts


def test_stop_joins_threads_and_closes_source(scenes):
    source = SyntheticSource([scenes["GUEST-A"], scenes[None]], fps=60, repeat=True)
    rec = Recorder()
    loop = ScanLoop(source, build_chain("auto"), rec.on_code, debounce_seconds=3)
    loop.start()
    assert wait_for(lambda: loop.stats.frames_decoded >= 3)
    loop.stop()
    assert not loop.running
    assert not loop.finished.is_set()  # stopped, not run out
    assert source.read() is None  # closed
    assert rec.codes == ["GUEST-A"]


def test_failing_callbacks_and_decoder_do_not_kill_the_loop(scenes):
    def bad_on_code(code: str) -> None:
        raise RuntimeError("UI blew up")

    source = SyntheticSource([scenes["GUEST-A"]] * 10, fps=0)
    loop = ScanLoop(
        source, build_chain("auto"), bad_on_code, on_frame=bad_on_code, debounce_seconds=0
    )
    loop.start()
    assert wait_for(loop.finished.is_set)
    loop.stop()
    assert loop.stats.codes >= 1

    def broken_stage(gray):
        raise ValueError("corrupt frame")

    rec = Recorder()
    source = SyntheticSource([scenes["GUEST-A"]] * 5, fps=0)
    loop = ScanLoop(
        source, ChainDecoder("broken", [("boom", broken_stage)]), rec.on_code, on_error=rec.on_error
    )
    loop.start()
    assert wait_for(loop.finished.is_set)
    loop.stop()
    assert rec.errors and set(rec.errors) == {DECODE_PROBLEM}
    assert rec.codes == []


def test_camera_lost_is_reported_and_reopened_when_it_comes_back(tmp_path: Path, scenes):
    """A camera stream that stops (like an unplugged webcam) and comes back later."""
    path = write_video([scenes["GUEST-A"]] * 10, tmp_path / "cam.avi", fps=30)
    away = tmp_path / "unplugged.avi"
    camera = CameraSource(str(path))
    os.rename(path, away)  # unplugged: reopening fails until it is back
    rec = Recorder()
    loop = ScanLoop(
        camera,
        build_chain("auto"),
        rec.on_code,
        on_error=rec.on_error,
        debounce_seconds=0,
        reopen_seconds=0.05,
        on_recovered=rec.recovered.set,
    )
    loop.start()
    try:
        assert wait_for(lambda: CAMERA_LOST in rec.errors)
        assert rec.codes and set(rec.codes) == {"GUEST-A"}
        before = len(rec.codes)
        time.sleep(0.2)  # several reopen attempts fail meanwhile (no camera there)
        assert not rec.recovered.is_set()
        os.rename(away, path)  # plugged back in
        assert wait_for(rec.recovered.is_set)
        assert wait_for(lambda: len(rec.codes) > before)
    finally:
        loop.stop()
    assert not loop.running


def test_view_empty_reported_once_per_code_that_leaves(scenes):
    """The door clears a "go" verdict when the guest moves on: the loop says so once per code
    that leaves the view, never while a code is in view, never for an empty scene alone."""
    script = [None] * 10 + ["GUEST-A"] * 15 + [None] * 30 + ["GUEST-B"] * 15 + [None] * 30
    source = SyntheticSource([scenes[s] for s in script], fps=30)
    rec = Recorder()
    gone: list[list[str]] = []

    def on_view_empty() -> None:
        with rec.lock:
            gone.append(list(rec.codes))

    loop = ScanLoop(
        source,
        build_chain("auto"),
        rec.on_code,
        on_view_empty=on_view_empty,
        view_empty_seconds=0.3,
    )
    loop.start()
    try:
        assert wait_for(loop.finished.is_set)
    finally:
        loop.stop()
    assert rec.codes == ["GUEST-A", "GUEST-B"]
    assert gone == [["GUEST-A"], ["GUEST-A", "GUEST-B"]]
