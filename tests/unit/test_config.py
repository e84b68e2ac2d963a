from pathlib import Path

from app.config import is_default_setup, load_config


def test_defaults_without_file(tmp_path: Path) -> None:
    config = load_config(tmp_path / "missing.toml", env={})
    assert config.backend == "none"
    assert config.gate == "Main"
    assert config.problems == []
    assert config.source is None


def test_file_then_environment_override(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[showdesk]\ngate = "North door"\ndebounce_seconds = 2.5\nkiosk = true\n')
    config = load_config(path, env={"SHOWDESK_GATE": "VIP entrance", "SHOWDESK_CAMERA": "2"})
    assert config.gate == "VIP entrance"
    assert config.debounce_seconds == 2.5
    assert config.kiosk is True
    assert config.camera == 2
    assert config.source == path


def test_corrupt_file_gives_a_message_and_defaults(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    original = b"gate = [unclosed\n\xff\xfe"
    path.write_bytes(original)
    config = load_config(path, env={})
    assert config.gate == "Main"
    assert len(config.problems) == 1
    assert "could not be read" in config.problems[0]
    assert path.read_bytes() == original  # the user's file is left alone


def test_bad_value_is_reported_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('camera = "front"\nsound = "maybe"\n')
    config = load_config(path, env={})
    assert config.camera == 0
    assert config.sound is True
    assert any("camera" in p for p in config.problems)
    assert any("sound" in p for p in config.problems)


def test_default_setup_detection(tmp_path: Path, monkeypatch) -> None:
    assert is_default_setup(load_config(tmp_path / "none.toml", env={}))
    path = tmp_path / "config.toml"
    path.write_text('backend = "postgres"\n')
    assert not is_default_setup(load_config(path, env={}))
