"""Shared fixtures: a fresh SQLite replica per test, Qt offscreen, a seeded demo database."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Fixtures shared by several folders (PostgreSQL server, gateway). pytest only allows
# pytest_plugins in the root conftest, so every folder gets them from here.
pytest_plugins = ["tests.support.fixtures"]


@pytest.fixture(autouse=True)
def _isolated_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test reads or writes the real user's settings, data or logs."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("SHOWDESK_CONFIG_DIR", str(home / "config"))
    monkeypatch.setenv("SHOWDESK_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("SHOWDESK_LOG_DIR", str(home / "log"))
    kept = ("SHOWDESK_CONFIG_DIR", "SHOWDESK_DATA_DIR", "SHOWDESK_LOG_DIR")
    for key in list(os.environ):
        if key.startswith("SHOWDESK_") and key not in kept:
            monkeypatch.delenv(key)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "replica.sqlite"


@pytest.fixture
def db(db_path: Path):
    """A fresh, empty, migrated replica."""
    from app.store.db import open_database

    database = open_database(db_path)
    yield database
    database.close()
