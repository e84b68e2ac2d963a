"""`showdesk bench sound`: from a verdict on screen to its sound starting, on Linux.

The door calls ``SoundPlayer.play`` right after painting a verdict; this times that call to the
first audible sample, in a private PulseAudio server whose only sink is a null sink (so it
needs no sound card and never makes noise) recorded through its monitor. Beside it, in the same
run, Qt's ``QSoundEffect`` with the same WAV preloaded: the alternative the player was chosen
against, with the bundle size it would add (QtMultimedia and the FFmpeg libraries its Linux
backend loads).

Both paths are timed to the moment PulseAudio's mixer takes the first audible sample; the
sound card's own buffer (the same for both) comes on top.
"""

from __future__ import annotations

import array
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from app.bench.stats import format_table, load_average, summary

RATE = 48_000  # recording sample rate (mono, signed 16 bit)
CHUNK_SAMPLES = 240  # 5 ms per read
LOUD = 1500  # a sample above this (of 32,767) is sound; the null sink's silence is 0
SINK = "showdesk_bench"
FIGURES = {"p50_ms": 50, "p95_ms": 95, "max_ms": "max"}


class NoAudioServer(RuntimeError):
    """PulseAudio (pulseaudio, parec, pactl) is not installed here."""


@contextmanager
def private_pulse() -> Iterator[dict[str, str]]:
    """A PulseAudio server of our own with one null sink as its default, for the time of the
    block; yields the environment a player needs to reach it (``PULSE_SERVER``)."""
    missing = [tool for tool in ("pulseaudio", "parec", "pactl") if shutil.which(tool) is None]
    if missing:
        raise NoAudioServer(
            f"{', '.join(missing)} not found: install PulseAudio (Debian: pulseaudio "
            "pulseaudio-utils) to measure sound delays"
        )
    with tempfile.TemporaryDirectory(prefix="showdesk-pulse-") as tmp:
        runtime = Path(tmp, "run")
        runtime.mkdir(mode=0o700)
        socket = runtime / "native"
        env = dict(os.environ, HOME=tmp, XDG_RUNTIME_DIR=str(runtime), XDG_CONFIG_HOME=tmp)
        env.pop("PULSE_SERVER", None)
        server = subprocess.Popen(
            [
                "pulseaudio",
                "-n",  # no default.pa: nothing but the modules below
                "--daemonize=no",
                "--exit-idle-time=-1",
                "--log-target=stderr",
                f"--load=module-null-sink sink_name={SINK} rate={RATE}",
                f"--load=module-native-protocol-unix auth-anonymous=1 socket={socket}",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        client_env = dict(env, PULSE_SERVER=f"unix:{socket}", PULSE_SINK=SINK)
        try:
            _wait_for_server(server, client_env)
            yield client_env
        finally:
            server.terminate()
            try:
                server.wait(5)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _wait_for_server(server: subprocess.Popen, env: dict[str, str]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if server.poll() is not None:
            err = server.stderr.read().decode(errors="replace") if server.stderr else ""
            raise NoAudioServer(f"PulseAudio did not start: {err.strip()[-300:]}")
        ok = subprocess.run(
            ["pactl", "info"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        if ok.returncode == 0:
            return
        time.sleep(0.05)
    raise NoAudioServer("PulseAudio did not answer within 10 s")


class Recorder:
    """Records the null sink's monitor; ``onset_after(t0)`` is when the first loud sample
    reached the mixer, in seconds after ``t0`` (time.perf_counter())."""

    def __init__(self, env: dict[str, str]) -> None:
        self._proc = subprocess.Popen(
            [
                "parec",
                f"--device={SINK}.monitor",
                "--latency-msec=2",
                "--format=s16le",
                f"--rate={RATE}",
                "--channels=1",
                "--raw",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            bufsize=0,
        )
        self._chunks: list[tuple[float, array.array]] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self._proc.stdout is not None
        while True:
            data = self._proc.stdout.read(CHUNK_SAMPLES * 2)
            if not data:
                return
            samples = array.array("h", data[: len(data) // 2 * 2])
            with self._lock:
                self._chunks.append((time.perf_counter(), samples))

    def wait_recording(self, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self._chunks) > 10:
                    return
            time.sleep(0.01)
        raise NoAudioServer("the recorder got no audio from PulseAudio")

    def onset_after(self, t0: float) -> float | None:
        with self._lock:
            chunks = [c for c in self._chunks if c[0] >= t0]
        for arrived, samples in chunks:
            for i, value in enumerate(samples):
                if abs(value) > LOUD:
                    return arrived - (len(samples) - i) / RATE - t0
        return None

    def loud_since(self, t0: float) -> bool:
        return self.onset_after(t0) is not None

    def close(self) -> None:
        self._proc.kill()
        self._proc.wait()
        self._thread.join(2)


def time_onsets(
    play: Callable[[], None], recorder: Recorder, trials: int, gap: float = 0.5
) -> tuple[list[float], int]:
    """``trials`` plays, each ``gap`` s apart: (delays in ms of those heard, how many were
    not heard at all)."""
    delays: list[float] = []
    unheard = 0
    for _ in range(trials):
        t0 = time.perf_counter()
        play()
        time.sleep(gap)
        onset = recorder.onset_after(t0)
        if onset is None:
            unheard += 1
        else:
            delays.append(max(onset, 0.0) * 1000)
    return delays, unheard


def _platform_player(env: dict[str, str]) -> tuple[str, Callable[[], None]]:
    from app.ui.sounds import SoundPlayer

    os.environ.update({k: env[k] for k in ("PULSE_SERVER", "PULSE_SINK")})
    player = SoundPlayer(enabled=True)
    if not player.available:
        raise NoAudioServer("no audio player (paplay, pw-play or aplay) found")
    name = " ".join(player._player or ["winsound"])
    return name, lambda: player.play("ok")


def _qt_sound_effect() -> tuple[Callable[[], None], Any] | str:
    """A preloaded QSoundEffect, or why there is none."""
    try:
        from PySide6.QtCore import QUrl
        from PySide6.QtMultimedia import QSoundEffect
        from PySide6.QtWidgets import QApplication
    except ImportError as exc:
        return f"QtMultimedia not installed ({exc})"
    from app.ui.sounds import sound_path

    app = QApplication.instance() or QApplication([])
    effect = QSoundEffect()
    effect.setSource(QUrl.fromLocalFile(str(sound_path("ok"))))
    deadline = time.monotonic() + 5
    while effect.status() != QSoundEffect.Status.Ready and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.005)
    if effect.status() != QSoundEffect.Status.Ready:
        return "QSoundEffect could not load the sound"

    def play() -> None:
        effect.play()
        app.processEvents()  # the door's event loop keeps running after a verdict

    return play, effect


def qt_multimedia_bytes() -> int:
    """What QtMultimedia adds to a bundle on this machine: the library, its plugins and the
    FFmpeg libraries its Linux backend links (0 when not installed)."""
    try:
        import PySide6
    except ImportError:
        return 0
    qt = Path(PySide6.__file__).parent / "Qt"
    patterns = ["lib/libQt6Multimedia.so*", "lib/libav*.so*", "lib/libsw*.so*"]
    # A wheel holds each library up to three times (libx.so, .so.N, .so.N.M: copies, not
    # links); a bundle carries one.
    one_each: dict[str, int] = {}
    for pattern in patterns:
        for path in qt.glob(pattern):
            if path.is_file():
                base = path.name.split(".so")[0]
                one_each[base] = max(one_each.get(base, 0), path.stat().st_size)
    plugins = (qt / "plugins" / "multimedia").glob("*")
    return sum(one_each.values()) + sum(p.stat().st_size for p in plugins if p.is_file())


def bench_sound(trials: int = 20) -> dict[str, Any]:
    """Verdict → sound start for the app's player and for QSoundEffect, in one run."""
    with private_pulse() as env:
        recorder = Recorder(env)
        try:
            recorder.wait_recording()
            name, play = _platform_player(env)
            ours, ours_unheard = time_onsets(play, recorder, trials)
            qt = _qt_sound_effect()
            if isinstance(qt, str):
                alternative: dict[str, Any] = {"skipped": qt}
            else:
                qt_play, _keep = qt
                delays, unheard = time_onsets(qt_play, recorder, trials)
                alternative = {**summary(delays, FIGURES, 1), "unheard": unheard}
        finally:
            recorder.close()
    return {
        "player": name,
        "trials": trials,
        "platform_player": {**summary(ours, FIGURES, 1), "unheard": ours_unheard},
        "qsoundeffect": alternative,
        "qt_multimedia_mb": round(qt_multimedia_bytes() / 1e6, 1),
        "load_average": load_average(),
    }


def format_sound(result: dict[str, Any]) -> str:
    ours, qt = result["platform_player"], result["qsoundeffect"]
    rows: list[list[object]] = [
        [f"{result['player']} (the app's player)", ours["p50_ms"], ours["p95_ms"], ours["max_ms"]],
    ]
    if "skipped" in qt:
        rows.append(["QSoundEffect", None, None, None])
    else:
        rows.append(["QSoundEffect, preloaded", qt["p50_ms"], qt["p95_ms"], qt["max_ms"]])
    notes = [
        f"{result['trials']} plays each; not heard: {ours['unheard']} (player)"
        + ("" if "skipped" in qt else f", {qt['unheard']} (QSoundEffect)"),
        f"QSoundEffect would add {result['qt_multimedia_mb']} MB to the bundle "
        "(QtMultimedia, its plugin and FFmpeg)",
    ]
    if "skipped" in qt:
        notes.append(f"QSoundEffect skipped: {qt['skipped']}")
    return format_table(
        ["verdict -> sound start (ms)", "p50", "p95", "max"],
        rows,
        title=f"bench sound: private PulseAudio, null sink; load average {result['load_average']}",
        notes=notes,
        decimals=1,
    )
