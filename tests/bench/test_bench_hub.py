"""`showdesk bench hub` runs end to end on a small event and reports every figure it names."""

from __future__ import annotations

import pytest

from app.bench.hub import hub_table, run_bench

pytestmark = pytest.mark.postgres


def test_bench_hub_measures_both_paths_and_delivers_exactly_once():
    result = run_bench(
        tickets=800, doors=2, seconds=3, catch_up_scans=40, say=lambda _m: None, idle_seconds=3
    )
    for path in ("hub", "server"):
        figures = result[path]
        assert figures["scans"] >= 4, figures  # every admitted scan reached the next door
        assert 0 < figures["a_to_b_p50_s"] <= figures["a_to_b_p95_s"] <= figures["a_to_b_max_s"]
        assert figures["catch_up_s"] > 0
        assert figures["idle_scans"] >= 2 and figures["idle_b_p95_s"] > 0
    assert result["exactly_once"] is True
    hub = result["hub"]
    assert result["relayed_checkins"] == hub["scans"] + hub["idle_scans"] + 40
    assert result["hub_cpu_pct"] >= 0 and result["hub_start_s"] > 0
    table = hub_table(result)
    assert "venue hub" in table and "server (baseline)" in table and "exactly once: yes" in table
