"""Figures and tables shared by every benchmark: one percentile (``app.domain.stats``, so the
scan loop and `decode` use the same), one summary of samples, one table printer."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from app.domain.stats import mean, percentile

__all__ = ["format_table", "load_average", "mean", "percentile", "summary"]


def summary(samples: Sequence[float], keys: Mapping[str, object], digits: int = 3) -> dict:
    """``{"n": len(samples), key: figure, ...}`` where each key's figure is a percentile of the
    samples (a number, 0..100) or their "max", "min" or "mean", rounded to ``digits``; all 0.0 when
    there are no samples."""
    out: dict = {"n": len(samples)}
    for key, stat in keys.items():
        if not samples:
            out[key] = 0.0
        elif stat == "max":
            out[key] = round(max(samples), digits)
        elif stat == "min":
            out[key] = round(min(samples), digits)
        elif stat == "mean":
            out[key] = round(mean(samples), digits)
        elif isinstance(stat, int | float):
            out[key] = round(percentile(samples, stat), digits)
        else:
            raise ValueError(f"unknown statistic {stat!r}")
    return out


def format_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    title: str | None = None,
    notes: Sequence[str] = (),
    decimals: int = 2,
) -> str:
    """A plain-text table: the first column left-aligned, the others right-aligned; floats
    with ``decimals`` places, ints with thousands separators, None as "-"; a row of one
    cell is a sub-heading. ``title`` above, ``notes`` below."""

    def cell(value: object) -> str:
        if value is None:
            return "-"
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, int):
            return f"{value:,}"
        if isinstance(value, float):
            return f"{value:,.{decimals}f}"
        return str(value)

    table = [[cell(v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in table:
        if len(row) == 1:
            continue
        for i, text in enumerate(row):
            widths[i] = max(widths[i], len(text))

    def line(cells: Sequence[str]) -> str:
        parts = [cells[0].ljust(widths[0])]
        parts += [text.rjust(widths[i + 1]) for i, text in enumerate(cells[1:])]
        return "  ".join(parts).rstrip()

    lines = [title] if title else []
    lines.append(line(list(headers)))
    lines.append("  ".join("-" * w for w in widths))
    lines += [row[0] if len(row) == 1 else line(row) for row in table]
    lines += list(notes)
    return "\n".join(lines)


def load_average() -> str | None:
    """The machine's load average (1, 5, 15 min) as text; None where there is none."""
    try:
        return ", ".join(f"{x:.1f}" for x in os.getloadavg())
    except (OSError, AttributeError):
        return None
