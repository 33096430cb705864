"""Confidence calibration fitted by the tracker: raw confidence 0..100 -> win probability.

The mapping is a list of knots joined by straight lines; below the first knot the first
probability holds, above the last the last one. A calibrated confidence is 100 x that
probability.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, kw_only=True)
class Calibration:
    symbol: str  # "" for the global calibration
    points: tuple[tuple[float, float], ...]  # (raw confidence 0..100, probability 0..1)
    global_fallback: bool = False
    fit_time: datetime | None = None

    def __post_init__(self) -> None:
        if not self.points:
            raise ValueError("a calibration needs at least one point")
        previous = -math.inf
        for raw, probability in self.points:
            if not (math.isfinite(raw) and 0.0 <= raw <= 100.0):
                raise ValueError(f"raw confidence must be within 0..100, got {raw}")
            if not (math.isfinite(probability) and 0.0 <= probability <= 1.0):
                raise ValueError(f"probability must be within 0..1, got {probability}")
            if raw < previous:
                raise ValueError("points must be in ascending raw confidence")
            previous = raw

    def apply(self, raw_confidence: float) -> float:
        """The calibrated confidence, 0..100, by linear interpolation between knots."""
        raws = [raw for raw, _ in self.points]
        i = bisect_right(raws, raw_confidence)
        if i == 0:
            return 100.0 * self.points[0][1]
        if i == len(self.points):
            return 100.0 * self.points[-1][1]
        (x0, y0), (x1, y1) = self.points[i - 1], self.points[i]
        if x1 == x0:
            return 100.0 * y1
        probability = y0 + (y1 - y0) * (raw_confidence - x0) / (x1 - x0)
        return max(0.0, min(100.0, 100.0 * probability))
