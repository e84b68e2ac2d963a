"""Start-up and failure paths: a database that cannot store scans is said at start, in red,
and no scan is shown as if it were stored; no screen gives a sentence and an exit code; the
screenshot command writes only where it is told."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from app.ui.display_check import NO_DISPLAY, display_problem

from .conftest import fresh_tickets, no_camera

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[2]


def _checkins(ctx) -> int:
    from app.store.models import Checkin

    with ctx.db.session() as session:
        return session.scalar(select(func.count()).select_from(Checkin))


def _every_connection(ctx, pragma: str) -> None:
    """Apply ``pragma`` to every new connection of the replica, and drop the open ones."""
    event.listen(ctx.db.engine, "connect", lambda conn, _record: conn.execute(pragma))
    ctx.db.engine.dispose()


def test_a_read_only_database_is_red_at_start_and_no_scan_pretends(qtbot, make_door, door_ctx):
    from app.ui.door.verdict_panel import BLOCKED_HEADLINE
    from app.ui.door.verdict_style import FAILURE, READY

    _ticket_id, code, *_ = fresh_tickets(door_ctx, 1)[0]
    before = _checkins(door_ctx)
    # SQLite's own read-only mode: every write fails as on a read-only file or mount.
    _every_connection(door_ctx, "PRAGMA query_only = ON")
    door = make_door(source_factory=no_camera)
    panel = door.panel
    qtbot.waitUntil(lambda: panel.blocked is not None, timeout=10000)
    # Said at start, before any guest: red, a stop sign, the reason; never "Ready".
    assert panel.headline.text() == BLOCKED_HEADLINE
    assert panel.style_shown is FAILURE and FAILURE.background in panel.styleSheet()
    assert panel.icon.shape == "stop"
    assert "cannot write" in panel.detail.text() and READY.headline not in panel.headline.text()

    door.panel.seconds = 0.2  # the message clears quickly: back to the red state, not Ready
    door.scan_code(code)
    qtbot.waitUntil(lambda: panel.headline.text() == "NOT RECORDED", timeout=10000)
    assert panel.style_shown is FAILURE and door.sounds.last_requested == "refusal"
    assert not door.history  # no verdict was shown for a scan that was not stored
    assert "Do not admit" in panel.detail.text()
    with qtbot.waitSignal(panel.cleared, timeout=5000):
        pass
    assert panel.headline.text() == BLOCKED_HEADLINE and panel.style_shown is FAILURE
    assert _checkins(door_ctx) == before


def test_a_full_disk_is_red_at_start_and_a_failed_write_is_red(
    qtbot, make_door, door_ctx, monkeypatch
):
    import shutil
    from collections import namedtuple

    from app.ui.door.verdict_panel import BLOCKED_HEADLINE
    from app.ui.door.verdict_style import FAILURE

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda _path: usage(10**9, 10**9 - 4096, 4096))
    _ticket_id, code, *_ = fresh_tickets(door_ctx, 1)[0]
    # The file cannot grow by a single page, as on a full disk.
    with door_ctx.db.engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()
    _every_connection(door_ctx, f"PRAGMA max_page_count = {pages}")
    door = make_door(source_factory=no_camera)
    panel = door.panel
    qtbot.waitUntil(lambda: panel.blocked is not None, timeout=10000)
    assert panel.headline.text() == BLOCKED_HEADLINE and "is full" in panel.detail.text()
    assert panel.style_shown is FAILURE

    before = _checkins(door_ctx)
    for _ in range(40):  # fill the last free space in the file's pages, scan by scan
        door.scan_code(code)
        qtbot.waitUntil(lambda: panel.headline.text() != BLOCKED_HEADLINE, timeout=10000)
        if panel.headline.text() == "NOT RECORDED":
            break
        panel.clear()
    assert panel.headline.text() == "NOT RECORDED" and panel.style_shown is FAILURE
    assert "full" in panel.detail.text()
    stored = _checkins(door_ctx) - before
    assert len(door.history) == stored  # every verdict shown was a scan stored


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({}, True),
        ({"QT_QPA_PLATFORM": "xcb"}, True),
        ({"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "wayland-0"}, True),
        ({"QT_QPA_PLATFORM": "wayland"}, True),
        ({"QT_QPA_PLATFORM": "wayland;xcb", "DISPLAY": ":0"}, False),
        ({"DISPLAY": ":1"}, False),
        ({"WAYLAND_DISPLAY": "wayland-0"}, False),
        ({"QT_QPA_PLATFORM": "offscreen"}, False),
        ({"QT_QPA_PLATFORM": "xcb:dpi=96", "DISPLAY": ":0"}, False),
    ],
)
def test_display_problem(env, problem):
    assert (display_problem(env, "linux") == NO_DISPLAY) is problem
    assert display_problem({}, "win32") is None and display_problem({}, "darwin") is None


@pytest.mark.parametrize("platform", [None, "xcb"])
def test_no_display_gives_a_sentence_and_an_exit_code(tmp_path, platform):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    if platform:
        env["QT_QPA_PLATFORM"] = platform
    env["SHOWDESK_DATA_DIR"] = str(tmp_path / "data")
    env["SHOWDESK_CONFIG_DIR"] = str(tmp_path / "config")
    done = subprocess.run(
        [sys.executable, "-m", "app"], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert "no screen" in done.stderr and "DISPLAY" in done.stderr
    assert "xcb-cursor" not in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "data").exists()  # nothing was created before the check


def test_screenshot_without_out_leaves_the_current_folder_alone(tmp_path, monkeypatch, capsys):
    """Run in a checkout, `showdesk screenshot` used to overwrite docs/screenshots."""
    from app import cli
    from app.ui import screenshots

    readme_image = tmp_path / "docs" / "screenshots" / "door-admitted.png"
    readme_image.parent.mkdir(parents=True)
    readme_image.write_bytes(b"the README's picture")
    monkeypatch.chdir(tmp_path)
    written: list[Path] = []

    def take(out: Path) -> list[tuple[str, int]]:  # the real window work is tested elsewhere
        out.mkdir(parents=True, exist_ok=True)
        (out / "door-admitted.png").write_bytes(b"new")
        written.append(out)
        return [("door-admitted", 3)]

    monkeypatch.setattr(screenshots, "take", take)
    assert cli.main(["screenshot"]) == 0
    printed = capsys.readouterr().out
    assert readme_image.read_bytes() == b"the README's picture"
    folder = written[0]
    assert folder.is_absolute() and tmp_path not in folder.parents
    assert f"Screenshots written to {folder}" in printed

    assert cli.main(["screenshot", "--out", str(tmp_path / "shots")]) == 0
    assert written[1] == tmp_path / "shots" and (tmp_path / "shots" / "door-admitted.png").exists()
