"""Where Showdesk's data files are: stylesheets, sounds, and the migrations.

The top-level folders ``resources/``, ``migrations/local/`` and ``migrations/supabase/`` are
the source of truth. A built wheel (and the frozen bundle) carries copies of them inside the
package at ``app/_data/<same path>`` (``setup.py``'s build step puts them there); a source
checkout or an editable install has no ``app/_data`` and reads the top-level folders beside
the package. Every lookup of a data file goes through this module (ARCHITECTURE.md,
"Package data"). Standard library only: ``setup.py`` reads ``DATA_DIRS`` from this file.
"""

from __future__ import annotations

import importlib.resources
from functools import cache
from pathlib import Path

# Folders copied into the wheel, relative to the repository root (and to app/_data).
DATA_DIRS = ("resources", "migrations/local", "migrations/supabase", "migrations/hub")
BUNDLED = "_data"


class PackageDataMissing(RuntimeError):
    """A data folder the install should hold is absent. ``str()`` is a sentence for a person."""


def _package_dir() -> Path:
    package = importlib.resources.files("app")
    # Alembic and the platform's sound players need real files; Showdesk is never run from
    # a zip archive (wheels install unpacked, PyInstaller extracts data files to disk).
    if not isinstance(package, Path):
        raise PackageDataMissing(f"Showdesk must run from files on disk, not from {package}.")
    return package


@cache
def data_root() -> Path:
    """The folder holding ``resources/`` and ``migrations/``: ``app/_data`` in a wheel or a
    frozen bundle, the repository root in a checkout or an editable install."""
    package = _package_dir()
    bundled = package / BUNDLED
    return bundled if bundled.is_dir() else package.parent


def resource_path(*parts: str) -> Path:
    """A file or folder under ``resources/``, e.g. ``resource_path("style", "app.qss")``.

    The path may not exist; callers that can do without the file (a stylesheet, a sound)
    check and carry on.
    """
    return data_root().joinpath("resources", *parts)


def _required_dir(relative: str) -> Path:
    path = data_root() / relative
    if not path.is_dir():
        raise PackageDataMissing(
            f"Showdesk's {relative} folder is missing (looked in {path}). "
            "The installation is incomplete: reinstall Showdesk."
        )
    return path


def migrations_dir() -> Path:
    """The Alembic migrations of the local replica (``migrations/local``)."""
    return _required_dir("migrations/local")


def supabase_migrations_dir() -> Path:
    """The server's SQL migrations (``migrations/supabase``), for the benchmarks' own server."""
    return _required_dir("migrations/supabase")


def missing_data() -> list[str]:
    """The folders of ``DATA_DIRS`` this installation lacks (empty when complete)."""
    root = data_root()
    return [folder for folder in DATA_DIRS if not (root / folder).is_dir()]
