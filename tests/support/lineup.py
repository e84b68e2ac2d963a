"""Lineup factories for the tests: a realistic synthetic show, and a real replica (with its
AppContext) holding it.

They are the benchmark's own (``showdesk bench lineup`` measures the same show), so they live
in ``app.bench`` and the tests take them from here, never from a benchmark module directly:
a benchmark can change its internals without breaking the tests' fixtures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.bench.lineup import synthetic_lineup
from app.domain.lineup import Lineup

__all__ = ["seeded_context", "synthetic_lineup"]


def seeded_context(lineup: Lineup, folder: Path) -> Any:
    """A throwaway replica in ``folder`` holding ``lineup`` as a show, and its AppContext
    (imports Qt: call it from a GUI test or script)."""
    from app.bench.lineup_ui import seeded_context as build

    return build(lineup, folder)
