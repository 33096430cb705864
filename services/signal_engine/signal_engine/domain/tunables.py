"""Tunables: the hot-reloadable parameters of signal generation (weights, thresholds, ...).

They live in the domain because the consensus reads them; config.py parses them from the
YAML file (`parse_tunables`) and the app swaps them in at run time.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

SOURCES = ("ma_crossover", "rsi", "macd", "momentum")
DEFAULT_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {"ma_crossover": 0.3, "rsi": 0.2, "macd": 0.25, "momentum": 0.25}
)


@dataclass(frozen=True, kw_only=True)
class Tunables:
    # Base weight of each source (any scale >= 0; a signal's weights are normalised to 1).
    weights: Mapping[str, float] = field(default_factory=lambda: DEFAULT_WEIGHTS)
    # Consensus score (-1..1) at or above which the action is BUY / at or below -x SELL.
    buy_threshold: float = 0.2
    sell_threshold: float = 0.2
    # Price move (in percent of the last signal's entry) below which a symbol is skipped.
    skip_threshold_pct: float = 0.5
    # A signal's horizon: expire_time = create_time + horizon.
    horizon_seconds: float = 900.0
    # Target and stop distances from entry, in ATRs of the 1-minute bars.
    target_atr_multiple: float = 2.0
    stop_atr_multiple: float = 1.0
    # Regime: VOLATILE when per-bar volatility of the last 20 bars exceeds this percent
    # or this multiple of the whole window's; TRENDING when the efficiency ratio is above.
    volatile_bar_pct: float = 0.3
    volatile_expansion: float = 1.5
    trend_efficiency: float = 0.35
    # Confidence multiplier in a VOLATILE regime.
    volatile_confidence_factor: float = 0.8
    # Bars fetched per symbol and symbols computed at once.
    bars_limit: int = 100
    max_concurrency: int = 8

    def __post_init__(self) -> None:
        problems = tunables_problems(self)
        if problems:
            key, message = problems[0]
            raise ValueError(f"{key}: {message}")


_RANGES: dict[str, tuple[float, float]] = {
    "buy_threshold": (0.0, 1.0),
    "sell_threshold": (0.0, 1.0),
    "skip_threshold_pct": (0.0, 100.0),
    "horizon_seconds": (1.0, 30 * 86400.0),
    "target_atr_multiple": (0.01, 100.0),
    "stop_atr_multiple": (0.01, 100.0),
    "volatile_bar_pct": (0.0, 100.0),
    "volatile_expansion": (1.0, 100.0),
    "trend_efficiency": (0.0, 1.0),
    "volatile_confidence_factor": (0.0, 1.0),
    "bars_limit": (35, 5000),
    "max_concurrency": (1, 256),
}
_OPEN_LOWER = {"buy_threshold", "sell_threshold", "volatile_bar_pct"}


def tunables_problems(t: Tunables) -> list[tuple[str, str]]:
    """Every (key, problem) of `t`; empty when valid."""
    found: list[tuple[str, str]] = []
    for key, weight in t.weights.items():
        if key not in SOURCES:
            found.append((f"weights.{key}", f"unknown source; known: {', '.join(SOURCES)}"))
        elif not (math.isfinite(weight) and weight >= 0.0):
            found.append((f"weights.{key}", f"must be a finite number >= 0, got {weight}"))
    if not any(w > 0.0 for w in t.weights.values() if math.isfinite(w)):
        found.append(("weights", "at least one source needs a weight > 0"))
    for key, (low, high) in _RANGES.items():
        value = getattr(t, key)
        low_ok = value > low if key in _OPEN_LOWER else value >= low
        if not (math.isfinite(value) and low_ok and value <= high):
            bound = f"({low:g}, {high:g}]" if key in _OPEN_LOWER else f"[{low:g}, {high:g}]"
            found.append((key, f"must be within {bound}, got {value}"))
    return found
