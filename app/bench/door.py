"""`showdesk bench door`: a queue of guests through the real DoorTab, one lane.

Each guest's phone appears in front of a camera that films the lane at 30 fps; the real
ScanLoop, decoders and CheckinService decide, the verdict panel paints (and auto-clears), the
guest reads it and walks on, the next one presents. The software's part is measured; the
people's part is a stated model; the result is guests per minute per lane beside a paper list.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.bench.ui import ms_stats, offscreen_without_display, seed_demo_file

if TYPE_CHECKING:
    import numpy as np

# The people's part of each guest's turn at a lane (seconds), stated in the output. A fast
# lane: phones out while queueing, the next guest steps up as the last one walks on.
PRESENT_S = 1.0  # step up, hold the phone's code to the camera, steady
READ_S = 0.5  # see the verdict (colour, word, name)
WALK_S = 0.5  # walk on; the next guest moves into place
PAPER_S = 60.0  # the baseline: a paper list (find the name, tick it, wave the guest in)
SOFTWARE_TARGET_S = 0.2
CAMERA_FPS = 30.0
BENCH_GATE = "North door"


class StageCamera:
    """A FrameSource that films a lane at ``fps``: whatever the queue puts in view (a guest's
    phone, or nobody) is what the next frame shows. Notes when each guest's code is first
    delivered to the scan loop."""

    name = "bench lane camera"
    live = True

    def __init__(self, empty: np.ndarray, fps: float = CAMERA_FPS) -> None:
        self.empty = empty
        self.interval = 1.0 / fps
        self._scene: tuple[int, np.ndarray] | None = None
        self._next = time.perf_counter()
        self._lock = threading.Lock()
        self._closed = False
        self.delivered: dict[int, float] = {}  # guest -> first frame with their code handed over
        self.frames = 0

    def show(self, guest: int, frame: np.ndarray) -> None:
        with self._lock:
            self._scene = (guest, frame)

    def clear(self) -> None:
        with self._lock:
            self._scene = None

    def read(self) -> np.ndarray | None:
        if self._closed:
            return None
        delay = self._next - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        self._next = max(self._next + self.interval, time.perf_counter())
        with self._lock:
            scene = self._scene
            self.frames += 1
            if scene is None:
                return self.empty
            guest, frame = scene
            self.delivered.setdefault(guest, time.perf_counter())
            return frame

    def close(self) -> None:
        self._closed = True


@dataclass
class Guest:
    code: str
    frame: Any
    phone_up: float | None = None  # the phone is steady in front of the camera
    verdict_at: float | None = None  # the verdict has been painted
    handed: float | None = None  # the scan loop handed the decoded code to the screen
    verdict: str | None = None
    cleared_before_next: bool | None = None  # the screen said "Ready" before the next phone


class DoorQueue:
    """Plays a queue through a DoorTab on the Qt event loop (the app's own loop, not polling):
    phone up → the real camera path decides and paints the verdict → the guest reads it →
    walks on → the next guest presents. Human phases are timers of ``scale`` × the model."""

    def __init__(
        self,
        door: Any,
        camera: StageCamera,
        guests: list[Guest],
        human: dict[str, float],
        scale: float,
        on_done: Any,
    ) -> None:
        from app.ui.qt import Qt, QTimer

        self.door, self.camera, self.guests = door, camera, guests
        self.human, self.scale, self.on_done = human, scale, on_done
        self.current = -1
        self.last_cleared = 0.0
        self.missed = 0
        self.started = self.finished = 0.0
        self._watchdog = QTimer()
        self._watchdog.setSingleShot(True)
        self._watchdog.timeout.connect(self._no_verdict)
        self._step = QTimer()  # the people's part: one phase at a time
        self._step.setSingleShot(True)
        self._step.setTimerType(Qt.TimerType.PreciseTimer)
        self._step.timeout.connect(lambda: self._then())
        self._then: Any = None
        door.verdict_shown.connect(self._verdict)
        door.panel.cleared.connect(self._cleared)

    def _later(self, seconds: float, then: Any) -> None:
        self._then = then
        self._step.start(int(round(seconds * self.scale * 1000)))

    def start(self) -> None:
        self.started = time.perf_counter()
        self._later(self.human["present_s"], self._phone_up)

    def _phone_up(self) -> None:
        self.current += 1
        if self.current >= len(self.guests):
            self.finished = time.perf_counter()
            self.on_done()
            return
        guest = self.guests[self.current]
        if self.current > 0:
            previous = self.guests[self.current - 1]
            previous.cleared_before_next = (
                previous.verdict_at is not None and self.last_cleared > previous.verdict_at
            )
        guest.phone_up = time.perf_counter()
        self.camera.show(self.current, guest.frame)
        self._watchdog.start(10_000)

    def _verdict(self, result: Any) -> None:
        if self.current < 0 or self.current >= len(self.guests):
            return
        guest = self.guests[self.current]
        if guest.verdict_at is not None:
            return  # one verdict per guest (the debouncer should make this impossible)
        self._watchdog.stop()
        guest.verdict_at = self.door.timings[-1][1] if self.door.timings else time.perf_counter()
        guest.handed = self.door.timings[-1][0] if self.door.timings else None
        guest.verdict = str(result.verdict)
        # The guest keeps the phone up while reading, then walks on; the next one presents.
        self._later(self.human["read_s"], self._walk_on)

    def _walk_on(self) -> None:
        self.camera.clear()
        self._later(self.human["walk_s"] + self.human["present_s"], self._phone_up)

    def _no_verdict(self) -> None:
        self.missed += 1
        self.camera.clear()
        self._later(self.human["present_s"], self._phone_up)

    def _cleared(self) -> None:
        self.last_cleared = time.perf_counter()


def _guest_frames(codes: list[str], seed: int) -> list[Any]:
    """A phone per guest, each held a little differently (angle, distance, noise)."""
    import numpy as np

    from app.scan.synth import camera_frame
    from app.ui.door.demo_source import STEADY

    rng = np.random.default_rng(seed)
    frames = []
    for code in codes:
        held = dict(
            STEADY,
            size=int(rng.integers(260, 341)),
            tilt_x=float(rng.uniform(-10, 10)),
            tilt_y=float(rng.uniform(-10, 10)),
            roll=float(rng.uniform(-15, 15)),
        )
        frames.append(camera_frame(code, rng, **held))
    return frames


def _queue_tickets(db: Any, count: int) -> tuple[str, list[str]]:
    """(event id, codes of ``count`` tickets nobody has scanned that may enter at the bench
    gate now): the guests in the queue."""
    from sqlalchemy import select

    from app.store.db import current_event_id
    from app.store.models import Checkin, Ticket, TicketType
    from app.store.types import utcnow

    now = utcnow()
    with db.session() as session:
        event_id = current_event_id(session)
        assert event_id is not None, "the demo database has an event"
        scanned = select(Checkin.ticket_id).where(Checkin.ticket_id.is_not(None))
        rows = session.execute(
            select(Ticket.qr_code_data, TicketType.allowed_gates, TicketType.entry_starts_at)
            .join(TicketType, TicketType.id == Ticket.ticket_type_id)
            .where(Ticket.event_id == event_id, Ticket.status == "valid", Ticket.id.not_in(scanned))
            .order_by(Ticket.ticket_number)
        ).all()
    codes = [
        code
        for code, gates, opens in rows
        if (not gates or BENCH_GATE in gates) and (opens is None or opens <= now)
    ]
    if len(codes) < count:
        raise RuntimeError(
            f"the demo event has only {len(codes)} unscanned tickets for {BENCH_GATE}; "
            "use more --tickets or fewer --guests"
        )
    return event_id, codes[:count]


def bench_door(
    db_path: Path,
    guests: int,
    human: dict[str, float],
    scale: float = 1.0,
    verdict_seconds: float | None = None,
    seed: int = 5,
) -> dict[str, Any]:
    """One lane: ``guests`` guests through the real DoorTab (ScanLoop, decoders,
    CheckinService, verdict panel and its auto-clear) on the app's event loop."""
    from app.config import Config
    from app.scan.decoders import build_chain
    from app.store.db import device_id, open_database
    from app.ui import tasks
    from app.ui.context import AppContext
    from app.ui.door import DoorTab
    from app.ui.door.demo_source import ticket_frame
    from app.ui.qt import QApplication, QTimer

    app = QApplication.instance() or QApplication(sys.argv)
    db = open_database(db_path)
    event_id, codes = _queue_tickets(db, guests)
    with db.session() as session:
        dev = device_id(session)
    queue = [
        Guest(code, frame) for code, frame in zip(codes, _guest_frames(codes, seed), strict=True)
    ]
    camera = StageCamera(ticket_frame(None, 0))
    shown_for = Config().verdict_seconds if verdict_seconds is None else verdict_seconds
    config = Config(db=db_path, gate=BENCH_GATE, sound=False, verdict_seconds=shown_for * scale)
    ctx = AppContext(config=config, db=db, event_id=event_id, device_id=dev)
    door = DoorTab(ctx, source_factory=lambda: camera, decoder_factory=lambda: build_chain("auto"))
    door.resize(1280, 760)
    door.show()
    runner = DoorQueue(door, camera, queue, human, scale, on_done=app.quit)
    if door.is_ready:
        QTimer.singleShot(0, runner.start)
    else:
        door.ready.connect(runner.start)
    # A stuck screen must not hang the bench: every guest has its 10 s watchdog, and this.
    give_up_s = 60 + guests * (sum(human.values()) * scale + 12)
    QTimer.singleShot(int(give_up_s * 1000), app.quit)
    app.exec()
    door.stop()
    tasks.shutdown(wait=True)
    db.close()

    software, wait, decode, paint = [], [], [], []
    for i, g in enumerate(queue):
        if g.verdict_at is None or g.phone_up is None:
            continue
        software.append((g.verdict_at - g.phone_up) * 1000)
        delivered = camera.delivered.get(i)
        if delivered is not None:
            wait.append((delivered - g.phone_up) * 1000)
            if g.handed is not None:
                decode.append((g.handed - delivered) * 1000)
        if g.handed is not None:
            paint.append((g.verdict_at - g.handed) * 1000)
    answered = [g for g in queue if g.verdict is not None]
    followed = [g for g in queue[:-1] if g.cleared_before_next is not None]
    wall = runner.finished - runner.started if runner.finished else None
    return {
        "guests": guests,
        "verdicts": len(answered),
        "verdicts_by_kind": {
            v: sum(1 for g in answered if g.verdict == v)
            for v in sorted({g.verdict or "" for g in answered})
        },
        "no_verdict_within_10s": runner.missed,
        "software_ms": ms_stats(software),
        "camera_wait_ms": ms_stats(wait),
        "decode_ms": ms_stats(decode),
        "check_in_and_paint_ms": ms_stats(paint),
        "verdict_shown_s": shown_for,
        "ready_again_before_next_guest": sum(1 for g in followed if g.cleared_before_next),
        "next_guests": len(followed),
        "camera_frames": camera.frames,
        "wall_s_per_guest": round(wall / guests, 3) if wall else None,
        "load_average": round(os.getloadavg()[0], 1) if hasattr(os, "getloadavg") else None,
        "cpus": os.cpu_count(),
    }


def door_queue_report(
    run: dict[str, Any], human: dict[str, float], lanes: int, paper_s: float, scale: float
) -> dict[str, Any]:
    """Guests per minute per lane: the people's time (model) plus the software's (measured)."""
    people_s = sum(human.values())
    software = run["software_ms"]

    def lane(seconds: float, software_s: float | None = None) -> dict[str, Any]:
        row: dict[str, Any] = {
            "seconds_per_guest": round(seconds, 3),
            "guests_per_minute": round(60 / seconds, 1),
        }
        if software_s is not None:
            row["software_s"] = round(software_s, 3)
            row["software_share"] = round(software_s / seconds, 4)
        return row

    measured: dict[str, dict[str, Any] | None] = {}
    for name, key in (("showdesk_median", "median_ms"), ("showdesk_p95", "p95_ms")):
        if key in software:
            sw_s = software[key] / 1000
            measured[name] = lane(people_s + sw_s, sw_s)
        else:
            measured[name] = None  # no verdict at all: nothing to report
    paper = lane(paper_s)
    median = measured["showdesk_median"]
    queue_min = {
        "showdesk": round(run["guests"] / (lanes * median["guests_per_minute"]), 1)
        if median
        else None,
        "paper": round(run["guests"] / (lanes * paper["guests_per_minute"]), 1),
    }
    complete = run["verdicts"] == run["guests"] and not run["no_verdict_within_10s"]
    return {
        "assumptions": {
            **human,
            "people_s_per_guest": round(people_s, 3),
            "paper_s_per_guest": paper_s,
            "camera_fps": CAMERA_FPS,
            "gate": BENCH_GATE,
            "lanes": lanes,
            "time_scale": scale,
            "notes": [
                "one lane is simulated through the real door screen; more lanes are more kiosks",
                "software = phone steady in front of the camera -> verdict painted on screen "
                "(camera frame wait + decode + check-in + paint), measured",
                "people = present + read + walk, modelled (time_scale shortens them in the run)",
                "every guest holds a valid, unscanned ticket for this gate",
            ],
        },
        "run": run,
        "per_lane": {
            **measured,
            "people_only": lane(people_s),
            "paper_list": paper,
        },
        "queue_minutes": {"guests": run["guests"], "lanes": lanes, **queue_min},
        "target": {
            "software_s_per_guest_below": SOFTWARE_TARGET_S,
            "met": bool(complete and software and software["p95_ms"] / 1000 < SOFTWARE_TARGET_S),
        },
    }


def door_queue_table(report: dict[str, Any]) -> str:
    a, run, lanes = report["assumptions"], report["run"], report["per_lane"]
    sw = run["software_ms"]
    lines = [
        f"A queue of {run['guests']} guests through the real door screen at {a['gate']} "
        f"(camera {a['camera_fps']:.0f} fps, time scale {a['time_scale']}):",
        f"  people (modelled): present {a['present_s']} s + read {a['read_s']} s + walk "
        f"{a['walk_s']} s = {a['people_s_per_guest']} s per guest; paper list {a['paper_s_per_guest']:.0f} s per guest",
        f"  machine: {run['cpus']} CPUs, load average {run['load_average']}",
        f"  verdicts: {run['verdicts']} of {run['guests']} {run['verdicts_by_kind']}; "
        f"no verdict within 10 s: {run['no_verdict_within_10s']}",
        f"  software per guest (phone up -> verdict on screen): median {sw.get('median_ms')} ms, "
        f"p95 {sw.get('p95_ms')} ms, max {sw.get('max_ms')} ms",
        f"    camera frame wait {run['camera_wait_ms'].get('median_ms')} ms, decode "
        f"{run['decode_ms'].get('median_ms')} ms, check-in + paint "
        f"{run['check_in_and_paint_ms'].get('median_ms')} ms (medians)",
        f"  verdict shown {run['verdict_shown_s']} s: back to Ready before the next guest "
        f"{run['ready_again_before_next_guest']} of {run['next_guests']} times",
        "",
        f"  {'per lane':<26}{'s/guest':>9}{'guests/min':>12}{'software share':>16}",
    ]
    rows = [
        ("Showdesk (median)", lanes["showdesk_median"]),
        ("Showdesk (p95)", lanes["showdesk_p95"]),
        ("people only (no software)", lanes["people_only"]),
        ("paper list", lanes["paper_list"]),
    ]
    for name, row in rows:
        if row is None:
            lines.append(f"  {name:<26}{'—':>9}{'—':>12}{'no verdicts':>16}")
            continue
        share = row.get("software_share")
        share_text = f"{share:.1%}" if share is not None else ""
        lines.append(
            f"  {name:<26}{row['seconds_per_guest']:>9.2f}{row['guests_per_minute']:>12.1f}{share_text:>16}"
        )
    q = report["queue_minutes"]
    t = report["target"]
    lines += [
        "",
        f"  {q['guests']} guests through {q['lanes']} lanes: {q['showdesk']} min with Showdesk, "
        f"{q['paper']} min with the paper list",
        f"  target: software < {t['software_s_per_guest_below']} s per guest (p95): "
        + ("met" if t["met"] else "NOT met"),
        "  assumptions: " + "; ".join(a["notes"]),
    ]
    return "\n".join(lines)


def run(
    guests: int = 30,
    tickets: int = 2000,
    lanes: int = 2,
    present: float | None = None,
    read: float | None = None,
    walk: float | None = None,
    paper: float | None = None,
    verdict_seconds: float | None = None,
    time_scale: float = 1.0,
) -> dict[str, Any]:
    """The figures of `showdesk bench door` as one JSON-ready document (``report["run"]``
    says how many guests got a verdict)."""
    offscreen_without_display()

    def given(value: float | None, default: float) -> float:
        return default if value is None else value

    human = {
        "present_s": given(present, PRESENT_S),
        "read_s": given(read, READ_S),
        "walk_s": given(walk, WALK_S),
    }
    paper_s = given(paper, PAPER_S)
    with tempfile.TemporaryDirectory() as tmp:
        db = seed_demo_file(Path(tmp), max(tickets, guests * 4))
        measured = bench_door(db, guests, human, scale=time_scale, verdict_seconds=verdict_seconds)
    return door_queue_report(measured, human, lanes, paper_s, time_scale)
