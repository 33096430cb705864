"""The windows' contracts, checked on a list of admissions (time, cost); shared with the
integration tests that run the same check against Redis and several processes."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

from resilience.quota import Window

TOLERANCE = 1e-5


def violations(windows: Sequence[Window], admitted: Sequence[tuple[float, float]]) -> list[str]:
    """Every breach of a window's contract by `admitted` (empty when the quota held)."""
    found: list[str] = []
    ordered = sorted(admitted)
    for w in windows:
        if w.kind == "gcra":
            # Over any closed interval [a_i, a_j]: cost <= burst + (a_j - a_i) / interval.
            for i, (start, _) in enumerate(ordered):
                total = 0.0
                for end, cost in ordered[i:]:
                    total += cost
                    allowed = w.burst + (end - start) / w.interval
                    if total > allowed + TOLERANCE * (1 + total):
                        found.append(f"{w}: {total} admitted in [{start}, {end}] > {allowed}")
                        break
        else:
            per_window: dict[int, float] = defaultdict(float)
            for at, cost in ordered:
                per_window[math.floor((at - w.offset + TOLERANCE) / w.period)] += cost
            found += [
                f"{w}: {used} in period {idx}"
                for idx, used in per_window.items()
                if used > w.limit + TOLERANCE
            ]
    return found
