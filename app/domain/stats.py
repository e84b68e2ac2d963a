"""The one percentile of Showdesk's figures (benchmarks, the scan loop's statistics, `decode`).

Linear interpolation between the closest ranks, as numpy's default and ``statistics.median``
(so ``percentile(xs, 50)`` is the median). Pure Python: the domain layer imports nothing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable


def percentile(samples: Iterable[float], q: float) -> float:
    """The ``q``-th percentile (0..100) of ``samples``; ValueError when there are none."""
    ordered = sorted(float(x) for x in samples)
    if not ordered:
        raise ValueError("percentile of no samples")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is not between 0 and 100")
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def mean(samples: Iterable[float]) -> float:
    values = [float(x) for x in samples]
    if not values:
        raise ValueError("mean of no samples")
    return math.fsum(values) / len(values)
