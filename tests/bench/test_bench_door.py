"""`showdesk bench door` on a tiny queue: the output's shape, not its figures (no timed asserts)."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.gui


def test_bench_door_json_and_table(tmp_path) -> None:
    # In its own process: the bench runs its own Qt event loop and stops the DB worker, as the
    # real command does, which must not leak into the tests after it.
    import os
    import subprocess
    import sys

    from app.bench.door import door_queue_table

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run(
        [sys.executable, "-m", "app", "bench", "door", "--guests", "3", "--tickets", "200",
         "--time-scale", "0.1", "--json"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=240,
    )  # fmt: skip
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    report = json.loads(out)  # one JSON document, nothing else on stdout

    assumptions = report["assumptions"]
    for key in ("present_s", "read_s", "walk_s", "paper_s_per_guest", "lanes", "notes"):
        assert key in assumptions
    assert assumptions["people_s_per_guest"] == pytest.approx(
        assumptions["present_s"] + assumptions["read_s"] + assumptions["walk_s"]
    )

    run = report["run"]
    assert run["guests"] == 3 and run["verdicts"] == 3
    assert run["verdicts_by_kind"] == {"admitted": 3}  # real tickets through the real door
    assert run["no_verdict_within_10s"] == 0
    for key in ("software_ms", "camera_wait_ms", "decode_ms", "check_in_and_paint_ms"):
        assert set(run[key]) == {"n", "median_ms", "p95_ms", "max_ms"}
    assert run["software_ms"]["n"] == 3
    assert 0 <= run["ready_again_before_next_guest"] <= run["next_guests"] == 2

    lanes = report["per_lane"]
    assert set(lanes) == {"showdesk_median", "showdesk_p95", "people_only", "paper_list"}
    for row in lanes.values():
        assert row["guests_per_minute"] == pytest.approx(60 / row["seconds_per_guest"], rel=0.01)
    assert 0 < lanes["showdesk_median"]["software_share"] < 1
    assert lanes["paper_list"]["seconds_per_guest"] == assumptions["paper_s_per_guest"]
    assert set(report["queue_minutes"]) == {"guests", "lanes", "showdesk", "paper"}
    assert set(report["target"]) == {"software_s_per_guest_below", "met"}

    table = door_queue_table(report)
    for words in ("guests/min", "software share", "paper list", "people only", "assumptions:"):
        assert words in table
