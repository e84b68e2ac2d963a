"""Build hook: a built wheel carries the top-level data folders inside the package.

``resources/``, ``migrations/local/`` and ``migrations/supabase/`` stay where the project
layout puts them (the source of truth); ``build_py`` copies them to ``app/_data/`` in the
build, where ``app.resources`` finds them with ``importlib.resources``. An editable install
copies nothing and reads the top-level folders in place. Everything else is in
pyproject.toml; see ARCHITECTURE.md, "Package data".
"""

from __future__ import annotations

import runpy
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
# One list for the build and the app: app/resources.py is standard library only.
_RESOURCES = runpy.run_path(str(ROOT / "app" / "resources.py"))
DATA_DIRS: tuple[str, ...] = _RESOURCES["DATA_DIRS"]
BUNDLED: str = _RESOURCES["BUNDLED"]


class BuildPyWithData(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        target = Path(self.build_lib) / "app" / BUNDLED
        # A reused build/ folder would otherwise keep files deleted from the sources.
        shutil.rmtree(target, ignore_errors=True)
        for folder in DATA_DIRS:
            shutil.copytree(
                ROOT / folder,
                target / folder,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            )


setup(cmdclass={"build_py": BuildPyWithData})
