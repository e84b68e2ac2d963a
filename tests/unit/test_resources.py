"""Package data: one resolver (app.resources) finds every data file, in a checkout and in a
wheel's layout; the build configuration carries every data folder."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from app import resources
from app.resources import (
    DATA_DIRS,
    PackageDataMissing,
    data_root,
    migrations_dir,
    missing_data,
    resource_path,
    supabase_migrations_dir,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh_root() -> Iterator[None]:
    data_root.cache_clear()
    yield
    data_root.cache_clear()


def test_a_checkout_reads_the_top_level_folders() -> None:
    assert data_root() == ROOT
    assert missing_data() == []


def test_every_file_the_app_loads_exists() -> None:
    from app.ui.sounds import SOUND_NAMES, sound_path

    for name in SOUND_NAMES:
        assert sound_path(name).is_file(), name
    for sheet in ("app.qss", "door.qss", "dialogs.qss"):
        assert resource_path("style", sheet).is_file(), sheet
    assert (migrations_dir() / "env.py").is_file()
    assert list((migrations_dir() / "versions").glob("0001_*.py"))
    assert list(supabase_migrations_dir().glob("0001_*.sql"))


def test_a_wheel_layout_wins_over_the_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_root: None
) -> None:
    package = tmp_path / "site-packages" / "app"
    (package / "_data" / "resources" / "style").mkdir(parents=True)
    (package / "_data" / "migrations" / "local").mkdir(parents=True)
    monkeypatch.setattr(resources, "_package_dir", lambda: package)
    assert data_root() == package / "_data"
    assert resource_path("style", "app.qss") == package / "_data/resources/style/app.qss"
    assert migrations_dir() == package / "_data/migrations/local"
    assert missing_data() == ["migrations/supabase", "migrations/hub"]
    with pytest.raises(
        PackageDataMissing, match="migrations/supabase folder is missing.*reinstall"
    ):
        supabase_migrations_dir()


def test_an_install_without_its_data_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_root: None
) -> None:
    package = tmp_path / "site-packages" / "app"
    package.mkdir(parents=True)
    monkeypatch.setattr(resources, "_package_dir", lambda: package)
    assert missing_data() == list(DATA_DIRS)
    with pytest.raises(PackageDataMissing, match="reinstall Showdesk"):
        migrations_dir()


def test_no_module_builds_a_data_path_itself() -> None:
    """`Path(__file__).parents[2] / "resources"` works only in a checkout: go through
    app.resources instead."""
    offences = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        if path.name == "resources.py" and path.parent.name == "app":
            continue
        text = path.read_text(encoding="utf-8")
        if "__file__" in text and re.search(r"[\"'](resources|migrations)[\"']", text):
            offences.append(str(path.relative_to(ROOT)))
    assert offences == []


def test_the_sdist_carries_every_data_folder() -> None:
    grafted = re.findall(r"^graft (\S+)$", (ROOT / "MANIFEST.in").read_text(), re.M)
    assert sorted(grafted) == sorted(DATA_DIRS)
