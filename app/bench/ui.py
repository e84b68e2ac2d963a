"""`showdesk bench ui`: door screen timings, launch → ready to scan, and first readable frame →
verdict on screen (under Xvfb, or offscreen when there is no display). Prints figures; asserts
nothing.

- launch: a fresh process opens the app on a demo database; "ready" is when the door has its
  counters and its camera answer (a picture, or the "no camera" banner). Baselines in the same
  run: an empty Python, and Python importing QtWidgets.
- frame → verdict: camera-like frames of real tickets go through the real ScanLoop, decoder and
  CheckinService into the DoorTab; measured from the moment the source hands over the first
  frame showing a code until the verdict panel has repainted.
"""

from __future__ import annotations

import json
import os

try:
    import resource  # Unix: CPU time of the launched app
except ImportError:  # Windows
    resource = None  # type: ignore[assignment]
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.bench.stats import format_table, percentile, summary

if TYPE_CHECKING:
    import numpy as np


class TimedFrames:
    """A FrameSource over prepared frames at ``fps`` that notes when each code first appears."""

    def __init__(self, frames: list[tuple[np.ndarray, str | None]], fps: float = 30.0) -> None:
        self.name = "bench frames"
        self.frames = frames
        self.interval = 1.0 / fps
        self.index = 0
        self.first_seen: dict[str, float] = {}
        self._next = time.perf_counter()
        self._lock = threading.Lock()

    def read(self) -> np.ndarray | None:
        with self._lock:
            if self.index >= len(self.frames):
                return None
            delay = self._next - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            self._next = max(self._next + self.interval, time.perf_counter())
            frame, text = self.frames[self.index]
            self.index += 1
            if text is not None and text not in self.first_seen:
                self.first_seen[text] = time.perf_counter()
            return frame

    def close(self) -> None:
        self.index = len(self.frames)


def ms_stats(values_ms: list[float]) -> dict[str, float]:
    """n, median, p95 and max of milliseconds (one decimal); {} when there are none."""
    if not values_ms:
        return {}
    return summary(values_ms, {"median_ms": 50, "p95_ms": 95, "max_ms": "max"}, digits=1)


def offscreen_without_display() -> None:
    """No screen on this Linux machine: measure on Qt's offscreen platform."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def seed_demo_file(folder: Path, tickets: int) -> Path:
    from app.store.db import open_database
    from app.store.demo import seed_demo

    path = folder / "bench.sqlite"
    db = open_database(path)
    seed_demo(db, tickets=tickets)
    db.close()
    return path


def _spawn_seconds(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - started


def bench_launch(db: Path, runs: int = 3) -> dict[str, Any]:
    """Seconds from process start to ready-to-scan, with two baselines."""
    # An installed app has compiled bytecode; a dev shell may forbid writing it. Keep a cache
    # outside the source tree, and warm it with one launch that is not counted.
    env = dict(os.environ, SHOWDESK_DB=str(db), PYTHONPYCACHEPREFIX=str(db.parent / "pyc"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    ready, shown, splash, cpu = [], [], [], []
    for run in range(runs + 1):
        before = resource.getrusage(resource.RUSAGE_CHILDREN) if resource else None
        started = time.time()
        out = subprocess.run(
            [sys.executable, "-c", CHILD],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
        if not lines:
            raise RuntimeError(f"the app did not report ready: {out.stderr.strip()[-400:]}")
        child = json.loads(lines[-1])
        if run == 0:
            continue  # the warm-up launch
        if before is not None:
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        ready.append(child["ready_wall"] - started)
        shown.append(child["shown_wall"] - started)
        splash.append(child["splash_wall"] - started)
    return {
        "splash_shown_s": round(percentile(splash, 50), 2),
        "load_average": round(os.getloadavg()[0], 1),
        "process_cpu_s": round(percentile(cpu, 50), 2) if cpu else None,
        "window_shown_s": round(percentile(shown, 50), 2),
        "ready_to_scan_s": round(percentile(ready, 50), 2),
        "runs": runs,
        "camera": child["camera"],
        "window": child["window"],
        "baseline_python_s": round(_spawn_seconds("pass"), 2),
        "baseline_import_qtwidgets_s": round(_spawn_seconds("import PySide6.QtWidgets"), 2),
    }


# Run in the launched process. It imports what `showdesk` imports (app.ui.main first), so the
# figures are the app's own; the hooks only note the time.
CHILD = """
import json, sys, time
from app.ui import main as app_main
from app.ui.qt import QApplication, QTimer
report = {}
real_splash = app_main.show_splash
def timed_splash(app):
    splash = real_splash(app)
    report["splash_wall"] = time.time()
    return splash
app_main.show_splash = timed_splash
def hook(window):
    report["shown_wall"] = time.time()
    door = window.door
    def ready():
        report["ready_wall"] = time.time()
        report["camera"] = door.preview.banner or "picture"
        report["window"] = type(window).__name__
        print(json.dumps(report), flush=True)
        QTimer.singleShot(0, QApplication.instance().quit)
    ready() if door.is_ready else door.ready.connect(ready)
sys.exit(app_main.run_app(on_window=hook))
"""


def bench_frame_to_verdict(db_path: Path, scans: int) -> dict[str, Any]:
    from sqlalchemy import select

    from app.config import Config
    from app.scan.decoders import build_chain
    from app.store.db import current_event_id, device_id, open_database
    from app.store.models import Checkin, Ticket
    from app.ui import tasks
    from app.ui.context import AppContext
    from app.ui.door import DoorTab
    from app.ui.door.demo_source import ticket_frame
    from app.ui.qt import QApplication

    app = QApplication.instance() or QApplication(sys.argv)
    db = open_database(db_path)
    with db.session() as session:
        event_id = current_event_id(session)
        assert event_id is not None, "the demo database has an event"
        dev = device_id(session)
        scanned = select(Checkin.ticket_id).where(Checkin.ticket_id.is_not(None))
        codes = session.scalars(
            select(Ticket.qr_code_data)
            .where(Ticket.event_id == event_id, Ticket.id.not_in(scanned))
            .limit(scans)
        ).all()
    frames: list[tuple[np.ndarray, str | None]] = []
    empty = ticket_frame(None, 0)
    for i, code in enumerate(codes):
        frame = ticket_frame(code, i + 1)
        frames += [(empty, None)] * 8 + [(frame, code)] * 10
    source = TimedFrames(frames)
    config = Config(db=db_path, gate="North door", sound=False, verdict_seconds=1.0)
    ctx = AppContext(config=config, db=db, event_id=event_id, device_id=dev)
    door = DoorTab(ctx, source_factory=lambda: source, decoder_factory=lambda: build_chain("auto"))
    door.resize(1280, 760)
    door.show()
    deadline = time.monotonic() + 30 + scans * 2
    while (
        len(door.history) < len(codes)
        and time.monotonic() < deadline
        and source.index < len(frames)
    ):
        app.processEvents()
        time.sleep(0.002)
    end = time.monotonic() + 2
    while len(door.history) < len(codes) and time.monotonic() < end:
        app.processEvents()
        time.sleep(0.002)
    shown_at: dict[Any, float] = {}
    for (_handed, painted), result in zip(door.timings, door.history, strict=False):
        shown_at.setdefault(result.ticket_id, painted)
    frame_ms: list[float] = []
    with db.session() as session:
        ids = dict(
            session.execute(
                select(Ticket.qr_code_data, Ticket.id).where(Ticket.qr_code_data.in_(codes))
            ).all()
        )
    for code in codes:
        shown = shown_at.get(ids.get(code))
        if shown is not None and code in source.first_seen:
            frame_ms.append((shown - source.first_seen[code]) * 1000)
    code_ms = [(painted - handed) * 1000 for handed, painted in door.timings]
    door.stop()
    tasks.shutdown(wait=True)
    db.close()
    return {
        "codes_shown": len(codes),
        "verdicts": len(door.history),
        "verdicts_by_kind": {
            v: sum(1 for r in door.history if r.verdict == v)
            for v in {r.verdict for r in door.history}
        },
        "frame_to_verdict": ms_stats(frame_ms),
        "code_to_verdict": ms_stats(code_ms),
    }


def bench_installed(command: str, db: Path, runs: int = 3) -> dict[str, Any]:
    """Seconds from starting an installed ``showdesk`` (a wheel's script, a frozen bundle's
    executable) to its door being ready to scan, as its own ``SHOWDESK_EXIT_WHEN_READY`` line
    says; the first launch warms the disk cache and is not counted."""
    env = dict(os.environ, SHOWDESK_DB=str(db), SHOWDESK_EXIT_WHEN_READY="1")
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: compiled once, then reused
    ready, shown = [], []
    for run in range(runs + 1):
        started = time.time()
        out = subprocess.run(
            shlex.split(command), env=env, capture_output=True, text=True, timeout=120
        )
        lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
        if not lines:
            raise RuntimeError(f"{command} did not report ready: {out.stderr.strip()[-400:]}")
        child = json.loads(lines[-1])
        if run:
            ready.append(child["ready_wall"] - started)
            shown.append(child["shown_wall"] - started)
    return {
        "command": command,
        "window_shown_s": round(percentile(shown, 50), 2),
        "ready_to_scan_s": round(percentile(ready, 50), 2),
        "ready_to_scan_max_s": round(max(ready), 2),
        "runs": runs,
    }


def run(
    tickets: int = 2000, scans: int = 20, runs: int = 3, commands: Sequence[str] = ()
) -> dict[str, Any]:
    """The figures of `showdesk bench ui` as one JSON-ready document; ``commands`` are
    installed ``showdesk`` executables whose launch is timed on the same demo database."""
    offscreen_without_display()
    with tempfile.TemporaryDirectory() as tmp:
        db = seed_demo_file(Path(tmp), tickets)
        return {
            "launch": bench_launch(db, runs),
            "installed": [bench_installed(command, db, runs) for command in commands],
            "scan": bench_frame_to_verdict(db, scans),
        }


def ui_table(result: dict[str, Any]) -> str:
    """The human form of :func:`run`'s document."""
    launch, scan = result["launch"], result["scan"]
    rows: list[tuple] = [
        ("launch -> splash on screen (s)", launch["splash_shown_s"], None, None),
        ("launch -> window shown (s)", launch["window_shown_s"], None, None),
        ("launch -> ready to scan (s)", launch["ready_to_scan_s"], None, "<= 1.5 s"),
        ("  CPU time of the app until it quit (s)", launch["process_cpu_s"], None, None),
        ("  baseline: empty Python (s)", launch["baseline_python_s"], None, None),
        ("  baseline: Python + QtWidgets (s)", launch["baseline_import_qtwidgets_s"], None, None),
    ]
    for installed in result.get("installed", []):
        rows.append(
            (
                f"launch -> ready, {installed['command']} (s)",
                installed["ready_to_scan_s"],
                None,
                "<= 1.5 s",
            )
        )
    for label, key, target in (
        ("frame -> verdict on screen (ms)", "frame_to_verdict", "<= 100 ms"),
        ("code decoded -> verdict on screen (ms)", "code_to_verdict", None),
    ):
        stats = scan[key]
        rows.append((label, stats.get("median_ms"), stats.get("p95_ms"), target))
    return format_table(
        ("measure", "median", "p95", "target"),
        rows,
        title=f"bench ui: load average {launch['load_average']} on {os.cpu_count()} cores; "
        f"{launch['camera']}; {launch['window']}; launch median of {launch['runs']}",
        notes=[
            f"verdicts: {scan['verdicts']} of {scan['codes_shown']} codes shown ("
            + ", ".join(
                f"{getattr(k, 'value', k)} {n}" for k, n in scan["verdicts_by_kind"].items()
            )
            + ")"
        ],
    )
