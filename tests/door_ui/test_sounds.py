"""Verdict sounds: small, distinct files; playing never blocks or crashes without audio."""

from __future__ import annotations

import wave

from app.ui.door.verdict_style import STYLES, sound_for
from app.ui.sounds import SOUND_NAMES, SoundPlayer, sound_path


def test_sound_files_are_small_distinct_wavs():
    contents = set()
    for name in SOUND_NAMES:
        path = sound_path(name)
        assert path.stat().st_size < 30_000, name
        with wave.open(str(path)) as wav:
            assert wav.getnchannels() == 1 and wav.getsampwidth() == 2
            assert 0.15 < wav.getnframes() / wav.getframerate() < 1.0
            contents.add(wav.readframes(wav.getnframes()))
    assert len(contents) == len(SOUND_NAMES)


def test_every_verdict_has_a_sound_and_families_differ():
    assert {style.sound for style in STYLES.values()} == {"ok", "warning", "refusal"}
    assert sound_for("admitted", None) == "ok"
    assert sound_for("admitted", "Wheelchair user") == "attention"
    assert sound_for("forged", None) == "refusal"
    assert sound_for("already_admitted", None) == "warning"


def test_player_without_audio_degrades_silently(monkeypatch, caplog):
    monkeypatch.setenv("PATH", "/nonexistent")
    player = SoundPlayer(enabled=True)
    player.play("ok")
    player.play("refusal")
    assert player.last_requested == "refusal"
    if not player.available:  # Linux CI without a player: one warning, no exception
        assert sum("sounds are off" in r.getMessage() for r in caplog.records) == 1


def test_disabled_player_plays_nothing():
    player = SoundPlayer(enabled=False)
    player.play("ok")
    assert player.last_requested == "ok"


def test_every_sound_is_heard_through_a_real_audio_server(monkeypatch):
    """The app's player really plays each sound: a private PulseAudio server (null sink, no
    noise) records what reached its mixer. Off means silent."""
    from app.bench.sound import Recorder, private_pulse, time_onsets

    with private_pulse() as env:
        for key in ("PULSE_SERVER", "PULSE_SINK"):
            monkeypatch.setenv(key, env[key])
        recorder = Recorder(env)
        try:
            recorder.wait_recording()
            player = SoundPlayer(enabled=True)
            assert player.available
            for name in SOUND_NAMES:
                delays, unheard = time_onsets(lambda n=name: player.play(n), recorder, 1, 0.8)
                assert unheard == 0 and len(delays) == 1, name
            muted = SoundPlayer(enabled=False)
            _delays, unheard = time_onsets(lambda: muted.play("refusal"), recorder, 1, 0.8)
            assert unheard == 1
        finally:
            recorder.close()
