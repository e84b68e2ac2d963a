"""The dependency rule of ARCHITECTURE.md, checked on the source: Qt only in app.ui; domain
imports nothing of ours; store and scan only domain; sync only store and domain; nobody
imports ui but the command line (app.cli), the benchmarks (app.bench) and ui itself; app.cli
and app.bench sit on top: they may import every layer and no layer imports them; no layer
parses arguments."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"

ALLOWED = {
    "domain": {"domain"},
    "store": {"store", "domain"},
    "scan": {"scan", "domain"},
    "sync": {"sync", "store", "domain"},
}
QT = ("PySide6", "shiboken6", "PyQt5", "PyQt6")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _modules(layer: str) -> list[Path]:
    return sorted((APP / layer).rglob("*.py"))


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layer_imports_only_what_it_may(layer: str) -> None:
    offences = []
    for path in _modules(layer):
        for name in _imports(path):
            if name.startswith(QT):
                offences.append(f"{path.relative_to(APP)} imports Qt ({name})")
            elif name.startswith("app."):
                target = name.split(".")[1]
                if (APP / target).is_dir() and target not in ALLOWED[layer]:
                    offences.append(f"{path.relative_to(APP)} imports app.{target}")
                elif not (APP / target).is_dir() and layer != "store":
                    # top-level modules (app.config, app.errors) are for store and above
                    if layer in ("domain", "scan"):
                        offences.append(f"{path.relative_to(APP)} imports {name}")
    assert offences == []


TOP = ("cli", "bench")  # the command line and the benchmarks: they may import every layer


def test_only_the_top_and_ui_import_ui() -> None:
    offences = []
    for path in APP.rglob("*.py"):
        rel = path.relative_to(APP)
        if rel.parts[0] in ("ui", *TOP):
            continue
        offences += [f"{rel} imports {n}" for n in _imports(path) if n.startswith("app.ui")]
    assert offences == []


def test_nothing_below_the_top_imports_it() -> None:
    offences = []
    for path in APP.rglob("*.py"):
        rel = path.relative_to(APP)
        if rel.parts[0] in TOP or str(rel) == "__main__.py":  # `python -m app` runs app.cli
            continue
        for name in _imports(path):
            if name.split(".")[:2] in (["app", top] for top in TOP):
                offences.append(f"{rel} imports {name}")
    assert offences == []


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_no_layer_parses_arguments(layer: str) -> None:
    """Argument parsing and `cli_*` handlers belong to app.cli; a layer offers plain functions
    with typed parameters."""
    offences = []
    for path in _modules(layer):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        offences += [
            f"{path.relative_to(APP)} imports {name}"
            for name in _imports(path)
            if name == "argparse" or name.startswith("argparse.")
        ]
        offences += [
            f"{path.relative_to(APP)} defines {node.name}"
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.name.startswith("cli_")
        ]
    assert offences == []


def test_the_top_exists() -> None:
    # the rules above pass trivially if the packages moved: fail loudly instead
    for top in TOP:
        assert (APP / top / "__init__.py").is_file(), top
    assert not (APP / "cli.py").exists() and not (APP / "commands.py").exists()


def test_qt_is_imported_only_through_the_shim() -> None:
    offences = []
    for path in (APP / "ui").rglob("*.py"):
        if path.name == "qt.py":
            continue
        for name in _imports(path):
            if name.startswith("PySide6"):
                offences.append(f"{path.relative_to(APP)} imports {name}")
    assert offences == []
