"""`showdesk bench lineup`: reorder + quick-change recomputation on a large show.

Domain part (always): p50/p95/max of a random move (plan the one-row key write, apply it,
renumber, recompute quick changes and the warnings' words) against a naive baseline in the
same run (renumber every position as an integer — a write per row — and find quick changes
with an O(n²) scan of every pair).

UI part (only when Qt is importable; run offscreen): the board's repaint after a drop (model
move to the view's paint finishing) and the show display's advance (key press to repaint).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from app.bench.stats import format_table, load_average, summary
from app.domain.lineup import Appearance, Lineup, Segment, ShowSettings
from app.domain.order_keys import rebalance

FIRST_NAMES = [
    "Ana", "Bea", "Chloé", "Dara", "Eva", "Femi", "Greta", "Hana", "Ines", "Jun", "Kaia",
    "Lena", "Mia", "Nora", "Olu", "Pia", "Quinn", "Rosa", "Sade", "Tove", "Uma", "Vera",
    "Wren", "Xiu", "Yara", "Zoë",
]  # fmt: skip
LAST_NAMES = ["Silva", "Okafor", "Berg", "Kim", "Moreau", "Rossi", "Novak", "Sato", "Diaz"]
DESIGNERS = ["Maison Arlo", "Studio Veda", "Kasimir", "Noor Atelier", "Lumen & Co"]
GARMENTS = ["coat", "slip dress", "suit", "gown", "knit set", "trench", "jumpsuit", "cape"]
COLOURS = ["Ivory", "Ink", "Sage", "Rust", "Bone", "Cobalt", "Blush", "Onyx", "Moss"]


def synthetic_lineup(
    looks: int = 200, models: int | None = None, segments: int = 3, seed: int = 1
) -> Lineup:
    """A realistic lineup: ``looks`` looks in ``segments`` segments, rotating models, pins."""
    rng = random.Random(seed)
    models = models or max(1, looks * 5 // 6)
    show = ShowSettings(id="show-1", name="Bench show", walk_interval_s=30)
    seg_keys = rebalance(segments)
    segs = [
        Segment(id=f"seg-{i}", name=f"Segment {i + 1}", order_key=k, music_cue=f"Track {i + 1}")
        for i, k in enumerate(seg_keys)
    ]
    model_names = [
        f"{FIRST_NAMES[i % len(FIRST_NAMES)]} {LAST_NAMES[i // len(FIRST_NAMES) % len(LAST_NAMES)]}"
        for i in range(models)
    ]
    per_seg = [looks // segments + (1 if i < looks % segments else 0) for i in range(segments)]
    apps: list[Appearance] = []
    n = 0
    for seg, count in zip(segs, per_seg, strict=True):
        for key in rebalance(count):
            m = n % models if rng.random() < 0.8 else rng.randrange(models)
            apps.append(
                Appearance(
                    id=f"app-{n:04d}",
                    segment_id=seg.id,
                    look_id=f"look-{n:04d}",
                    look_title=f"{rng.choice(COLOURS)} {rng.choice(GARMENTS)}",
                    designer=rng.choice(DESIGNERS),
                    model_id=f"model-{m:03d}",
                    model_name=model_names[m],
                    order_key=key,
                    is_opening=n == 0,
                    is_closing=n == looks - 1,
                )
            )
            n += 1
    return Lineup(show, segs, apps)


# --- naive baseline -----------------------------------------------------------------------


def naive_move(positions: list[Appearance], from_index: int, to_index: int) -> dict[str, int]:
    """Integer positions: a move renumbers (writes) every row."""
    item = positions.pop(from_index)
    positions.insert(to_index, item)
    return {a.id: i for i, a in enumerate(positions)}


def naive_quick_changes(positions: list[Appearance], show: ShowSettings) -> list[str]:
    """O(n²): every pair of looks by the same model with no look of hers between."""
    out = []
    n = len(positions)
    for i in range(n):
        for j in range(i + 1, n):
            a, b = positions[i], positions[j]
            if a.model_id is None or a.model_id != b.model_id:
                continue
            if any(positions[k].model_id == a.model_id for k in range(i + 1, j)):
                continue
            between = j - i - 1
            seconds = (j - i) * show.walk_interval_s
            if between < show.quick_change_min_looks or seconds < show.quick_change_min_seconds:
                out.append(f"{a.model_name} walks look {i + 1} and look {j + 1}")
    return out


# --- measurement --------------------------------------------------------------------------


def ms_summary(samples_ms: list[float]) -> dict:
    return summary(samples_ms, {"p50_ms": 50, "p95_ms": 95, "max_ms": "max"})


def bench_domain(looks: int, moves: int, seed: int = 1) -> dict[str, dict]:
    """Time random moves: fractional keys vs the naive baseline, on the same moves."""
    lineup = synthetic_lineup(looks, seed=seed)
    rng = random.Random(seed + 1)
    plan_moves = [(rng.randrange(1, looks - 1), rng.randrange(1, looks - 1)) for _ in range(moves)]

    samples: list[float] = []
    cpu: list[float] = []
    rows_written = 0
    rebalances = 0
    max_key = 0
    for frm, to in plan_moves:
        c0, t0 = time.thread_time(), time.perf_counter()
        moved = lineup.at(frm)
        plan = lineup.move(moved.id, to)
        lineup.number_of(moved.id)
        warnings = [q.message for q in lineup.quick_changes()]
        samples.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.thread_time() - c0) * 1000)
        rows_written += len(plan.writes)
        rebalances += plan.rebalanced
        max_key = max([max_key, *(len(k) for _, k in plan.writes.values())])
    del warnings

    baseline = synthetic_lineup(looks, seed=seed)
    positions = baseline.order
    base_samples: list[float] = []
    base_cpu: list[float] = []
    base_rows = 0
    for frm, to in plan_moves:
        c0, t0 = time.thread_time(), time.perf_counter()
        written = naive_move(positions, frm, to)
        naive_quick_changes(positions, baseline.show)
        base_samples.append((time.perf_counter() - t0) * 1000)
        base_cpu.append((time.thread_time() - c0) * 1000)
        base_rows += len(written)

    return {
        "fractional": {
            **ms_summary(samples),
            "rows_written_per_move": round(rows_written / max(1, moves), 3),
            "rebalances": rebalances,
            "max_key_length": max_key,
            "quick_changes_at_end": len(lineup.quick_changes()),
            "cpu": ms_summary(cpu),
        },
        "naive_baseline": {
            **ms_summary(base_samples),
            "rows_written_per_move": round(base_rows / max(1, moves), 3),
            "cpu": ms_summary(base_cpu),
        },
    }


UiBench = Callable[..., "dict[str, dict]"]
"""Times the board and the show display (``app.bench.lineup_ui``; passed in, so the domain
figures print on a machine without Qt)."""


def run(looks: int = 200, moves: int = 2000, ui_bench: UiBench | str | None = None) -> dict:
    """The domain figures, plus the UI's when ``ui_bench`` is given (a string: why not)."""
    result: dict = {"looks": looks, "moves": moves, "domain": bench_domain(looks, moves)}
    if isinstance(ui_bench, str):
        result["ui"] = ui_bench
    elif ui_bench is not None:
        result["ui"] = ui_bench(synthetic_lineup(looks), moves=min(moves, 200))
    return result


def lineup_table(result: dict) -> str:
    d = result["domain"]

    def row(name: str, stats: dict, target: str) -> tuple:
        return (name, stats["p50_ms"], stats["p95_ms"], stats["max_ms"], stats["n"], target)

    rows = [
        row("move + quick changes (fractional)", d["fractional"], "p95 <= 5 ms"),
        row("baseline: renumber + O(n^2) scan", d["naive_baseline"], "(comparison)"),
        row("  same, CPU time of the thread", d["fractional"]["cpu"], "(CPU only)"),
        row("  baseline, CPU time of the thread", d["naive_baseline"]["cpu"], "(CPU only)"),
    ]
    ui = result.get("ui")
    if isinstance(ui, dict):
        if "board_repaint" in ui:
            rows.append(row("board repaint after a drop", ui["board_repaint"], "<= 16 ms"))
        if "display_advance" in ui:
            rows.append(row("show display: key to repaint", ui["display_advance"], "<= 50 ms"))
    elif isinstance(ui, str):
        rows.append((ui,))
    f, b = d["fractional"], d["naive_baseline"]
    notes = [
        f"rows written per move: {f['rows_written_per_move']} (baseline "
        f"{b['rows_written_per_move']}); rebalances: {f['rebalances']}; longest key written: "
        f"{f['max_key_length']} chars; quick changes at the end: {f['quick_changes_at_end']}"
    ]
    load = load_average()
    if load:
        notes.append(f"load average while measuring: {load} (wall times include waiting for a CPU)")
    return format_table(
        ("measure", "p50 ms", "p95 ms", "max ms", "n", "target"),
        rows,
        title=f"Lineup benchmark: {result['looks']} looks, {result['moves']} random moves",
        notes=notes,
        decimals=3,
    )
