"""The `showdesk` command line as a whole: every option says what it does and its default,
the exit codes are documented where people look, `--db` never disagrees silently, and the
cheap commands stay cheap (no Qt, OpenCV or SQLAlchemy for `--help`, no Qt for `decode`)."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import COMMANDS, build_parser, main
from app.cli.output import EXIT_CODES, EXIT_USAGE
from app.cli.program import resolve_db

ROOT = Path(__file__).resolve().parents[2]


def _parsers(parser: argparse.ArgumentParser, path: str = "showdesk"):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _parsers(child, f"{path} {name}")


def test_every_command_of_the_table_is_reachable() -> None:
    names = {path.removeprefix("showdesk ") for path, _ in _parsers(build_parser())}
    assert {c.name for c in COMMANDS} <= names
    assert {"bench scan", "bench lookup", "bench sync", "bench lineup", "bench ui"} <= names
    assert {"bench door", "devices revoke", "outbox import", "doctor", "screenshot"} <= names


def test_every_option_has_help_and_shows_its_default() -> None:
    missing, silent = [], []
    for path, parser in _parsers(build_parser()):
        rendered = " ".join(parser.format_help().split())
        for action in parser._actions:
            if not action.option_strings:
                continue
            name = f"{path} {action.option_strings[-1]}"
            if not (action.help or "").strip():
                missing.append(name)
            default = action.default
            if default is None or default is False or default is argparse.SUPPRESS:
                continue
            if f"(default: {default})" not in rendered:
                silent.append(f"{name} (default {default!r})")
    assert missing == [], "options without a help text"
    assert silent == [], "defaults the help does not show"


def test_help_lists_the_exit_codes_and_the_readme_agrees() -> None:
    text = build_parser().format_help()
    assert "exit codes:" in text
    for code, _meaning in EXIT_CODES:
        assert re.search(rf"^\s+{code}\s", text, re.M), code
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Command line", 1)[1].split("\n## ", 1)[0]
    documented = {int(c) for c in re.findall(r"^\| `(\d+)` \|", section, re.M)}
    assert documented == {code for code, _ in EXIT_CODES}


def _args(argv: list[str]) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    resolve_db(parser, args)
    return args


def test_one_db_given_anywhere_is_used(tmp_path) -> None:
    db = tmp_path / "a.sqlite"
    assert _args(["--db", str(db), "demo"]).db == db
    assert _args(["demo", "--db", str(db)]).db == db
    assert _args(["--db", str(db), "demo", "--db", str(db)]).db == db
    assert _args(["--db", str(db), "doctor"]).db == db  # a command without its own --db
    assert _args(["demo"]).db is None


def test_two_different_dbs_are_a_usage_error(tmp_path, capsys) -> None:
    a, b = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    with pytest.raises(SystemExit) as stopped:
        main(["--db", str(a), "checkin", "--db", str(b), "--code", "X"])
    assert stopped.value.code == EXIT_USAGE
    err = capsys.readouterr().err
    assert "--db was given twice with different files" in err and str(a) in err and str(b) in err
    assert not a.exists() and not b.exists()  # nothing was opened or created


def test_a_command_that_needs_a_db_says_so(capsys) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["ticket-qr", "T-1", "--out", "x.png"])
    assert stopped.value.code == EXIT_USAGE
    assert "ticket-qr needs --db PATH" in capsys.readouterr().err


def _loaded_after(code: str, tmp_path: Path) -> dict:
    probe = (
        "import json, sys\n"
        "from app.cli import main\n"
        "try:\n"
        f"    {code}\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('PySide6', 'shiboken6', 'cv2', 'sqlalchemy', 'numpy')\n"
        "print(json.dumps({h: h in sys.modules for h in heavy}), file=sys.stderr)\n"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", SHOWDESK_LOG_DIR=str(tmp_path / "log"))
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return json.loads(done.stderr.strip().splitlines()[-1])


def test_help_loads_no_qt_opencv_or_sqlalchemy(tmp_path) -> None:
    loaded = _loaded_after("main(['--help'])", tmp_path)
    assert not loaded["PySide6"] and not loaded["shiboken6"]
    assert not loaded["cv2"] and not loaded["sqlalchemy"]
    loaded = _loaded_after("main(['bench', 'door', '--help'])", tmp_path)
    assert not any(loaded.values()), loaded


def test_decode_loads_no_qt(tmp_path) -> None:
    import cv2

    from app.scan.synth import render_code

    image = tmp_path / "code.png"
    cv2.imwrite(str(image), render_code("SHOWDESK-IMPORTS"))
    loaded = _loaded_after(f"main(['decode', {str(image)!r}, '--json'])", tmp_path)
    assert loaded["cv2"]  # it did decode
    assert not loaded["PySide6"] and not loaded["shiboken6"]
