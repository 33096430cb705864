"""Confidence calibration: fitted mappings, their quality measures, reliability bins.

A calibration maps raw confidence (0..100) to a win probability (0..1) through knots
interpolated linearly (clamped at the ends). Labels are WIN = 1 and LOSS = 0; EXPIRED
outcomes carry no label (as in win_rate). Quality is measured on held-out outcomes: the
Brier score (mean squared error of the probability) and the expected calibration error
(ECE: the sample-weighted mean |predicted - observed| over equal-width probability bins).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

GLOBAL = ""  # the symbol key of the all-symbols calibration
ECE_BINS = 10


class CalibrationMethod(StrEnum):
    ISOTONIC = "ISOTONIC"
    PLATT = "PLATT"


@dataclass(frozen=True)
class CalibrationPoint:
    raw_confidence: float  # 0..100
    probability: float  # 0..1


@dataclass(frozen=True, kw_only=True)
class OutcomeSample:
    """One resolved signal as calibration data."""

    symbol: str
    raw_confidence: float
    won: bool
    create_time: datetime


@dataclass(frozen=True, kw_only=True)
class Calibration:
    symbol: str  # GLOBAL for the all-symbols fit
    method: CalibrationMethod
    points: tuple[CalibrationPoint, ...]
    sample_size: int
    held_out_size: int
    brier_before: float
    brier_after: float
    ece_before: float
    ece_after: float
    fit_time: datetime
    global_fallback: bool = False  # set when served for a symbol that has no fit of its own

    def probability(self, raw_confidence: float) -> float:
        return interpolate(self.points, raw_confidence)


@dataclass(frozen=True, kw_only=True)
class ReliabilityBin:
    low: float
    high: float
    count: int
    mean_predicted: float
    observed_rate: float


def interpolate(points: Sequence[CalibrationPoint], raw_confidence: float) -> float:
    """Linear interpolation between knots (ascending raw_confidence), clamped at the ends."""
    if not points:
        raise ValueError("a calibration needs at least one point")
    xs = [p.raw_confidence for p in points]
    if raw_confidence <= xs[0]:
        return points[0].probability
    if raw_confidence >= xs[-1]:
        return points[-1].probability
    i = bisect.bisect_right(xs, raw_confidence)
    left, right = points[i - 1], points[i]
    span = right.raw_confidence - left.raw_confidence
    if span <= 0:
        return right.probability
    weight = (raw_confidence - left.raw_confidence) / span
    return left.probability + weight * (right.probability - left.probability)


def brier_score(probabilities: Sequence[float], won: Sequence[bool]) -> float:
    _same_length(probabilities, won)
    return sum((p - float(w)) ** 2 for p, w in zip(probabilities, won, strict=True)) / len(won)


def reliability_bins(
    probabilities: Sequence[float], won: Sequence[bool], bins: int = ECE_BINS
) -> list[ReliabilityBin]:
    """Equal-width bins over [0, 1]; empty bins are left out."""
    _same_length(probabilities, won)
    totals = [[0, 0.0, 0] for _ in range(bins)]  # count, sum of p, wins
    for p, w in zip(probabilities, won, strict=True):
        index = min(int(p * bins), bins - 1) if p > 0 else 0
        totals[index][0] += 1
        totals[index][1] += p
        totals[index][2] += int(w)
    return [
        ReliabilityBin(
            low=i / bins,
            high=(i + 1) / bins,
            count=int(count),
            mean_predicted=float(p_sum) / count,
            observed_rate=float(wins) / count,
        )
        for i, (count, p_sum, wins) in enumerate(totals)
        if count
    ]


def expected_calibration_error(
    probabilities: Sequence[float], won: Sequence[bool], bins: int = ECE_BINS
) -> float:
    total = len(won)
    return sum(
        b.count / total * abs(b.mean_predicted - b.observed_rate)
        for b in reliability_bins(probabilities, won, bins)
    )


def split_held_out(
    samples: Sequence[OutcomeSample], fraction: float
) -> tuple[list[OutcomeSample], list[OutcomeSample]]:
    """(train, held out): the newest `fraction` of the samples is held out, so the score
    measures how an older fit predicts newer outcomes."""
    ordered = sorted(samples, key=lambda s: s.create_time)
    held = max(1, round(len(ordered) * fraction))
    return ordered[:-held], ordered[-held:]


def _same_length(probabilities: Sequence[float], won: Sequence[bool]) -> None:
    if len(probabilities) != len(won) or not won:
        raise ValueError("need equally many probabilities and labels, at least one")
