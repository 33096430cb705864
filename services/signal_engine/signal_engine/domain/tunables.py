"""Tunables: the hot-reloadable parameters of signal generation (weights, thresholds, ...).

They live in the domain because the consensus reads them; config.py parses them from the
YAML file (`parse_tunables`) and the app swaps them in at run time.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

TECHNICAL_SOURCES = ("ma_crossover", "rsi", "macd", "momentum", "bollinger")
SENTIMENT = "sentiment"  # weight of every AI provider's source unless named on its own
SENTIMENT_PREFIX = "sentiment:"  # an AI provider's source: "sentiment:xai"
SOURCES = (*TECHNICAL_SOURCES, SENTIMENT)
DEFAULT_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {
        "ma_crossover": 0.3,
        "rsi": 0.2,
        "macd": 0.25,
        "momentum": 0.25,
        "bollinger": 0.15,
        SENTIMENT: 0.3,
    }
)
_PROVIDER = re.compile(r"[a-z0-9][a-z0-9_.\-]{0,31}")


def sentiment_source(provider: str) -> str:
    return f"{SENTIMENT_PREFIX}{provider}"


@dataclass(frozen=True, kw_only=True)
class Tunables:
    # Base weight of each source (any scale >= 0; a signal's weights are normalised to 1).
    # "sentiment" applies to every AI provider; "sentiment:<provider>" overrides one.
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
    # or this multiple of the last 60 bars'; TRENDING when the efficiency ratio is above.
    volatile_bar_pct: float = 0.3
    volatile_expansion: float = 1.5
    trend_efficiency: float = 0.35
    # Confidence multiplier in a VOLATILE regime.
    volatile_confidence_factor: float = 0.8
    # Bars fetched per symbol when its history is (re)built, and symbols computed at once.
    bars_limit: int = 100
    max_concurrency: int = 8
    # Sentiment: asked per symbol at most this often; a verdict older than max age is dropped.
    sentiment_refresh_seconds: float = 60.0
    sentiment_max_age_seconds: float = 3600.0
    # Background cycles refresh held verdicts without waiting for them (a symbol's first
    # verdict is waited for); off: every due symbol's sentiment is awaited in the cycle.
    sentiment_in_background: bool = True
    # Calibrations from the tracker are cached this long per symbol.
    calibration_refresh_seconds: float = 300.0
    # A signal identical to the symbol's last published one (same action and regime,
    # confidence within the points, entry within skip_threshold_pct) is not re-published
    # within the window.
    dedup_window_seconds: float = 60.0
    dedup_confidence_points: float = 1.0
    # Adaptive polling: a symbol whose quote volatility is below this percent per
    # sqrt(minute) is polled every `quiet_poll_multiplier` cycles' time; a stock outside
    # the NYSE session every `off_session_poll_seconds`. Crypto never closes.
    quiet_volatility_pct: float = 0.03
    quiet_poll_multiplier: float = 3.0
    off_session_poll_seconds: float = 60.0

    def __post_init__(self) -> None:
        problems = tunables_problems(self)
        if problems:
            key, message = problems[0]
            raise ValueError(f"{key}: {message}")

    def weight_of(self, source: str) -> float:
        """Base weight of a source; an AI provider without its own entry gets "sentiment"."""
        if source in self.weights:
            return self.weights[source]
        if source.startswith(SENTIMENT_PREFIX):
            return self.weights.get(SENTIMENT, 0.0)
        return 0.0


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
    "sentiment_refresh_seconds": (1.0, 86400.0),
    "sentiment_max_age_seconds": (1.0, 7 * 86400.0),
    "calibration_refresh_seconds": (1.0, 86400.0),
    "dedup_window_seconds": (0.0, 86400.0),
    "dedup_confidence_points": (0.0, 100.0),
    "quiet_volatility_pct": (0.0, 100.0),
    "quiet_poll_multiplier": (1.0, 100.0),
    "off_session_poll_seconds": (0.0, 86400.0),
}
_OPEN_LOWER = {"buy_threshold", "sell_threshold", "volatile_bar_pct"}


def _weight_key_problem(key: str) -> str | None:
    if key in SOURCES:
        return None
    if key.startswith(SENTIMENT_PREFIX) and _PROVIDER.fullmatch(key[len(SENTIMENT_PREFIX) :]):
        return None
    return f"unknown source; known: {', '.join(SOURCES)}, sentiment:<provider>"


def tunables_problems(t: Tunables) -> list[tuple[str, str]]:
    """Every (key, problem) of `t`; empty when valid."""
    found: list[tuple[str, str]] = []
    for key, weight in t.weights.items():
        if (problem := _weight_key_problem(key)) is not None:
            found.append((f"weights.{key}", problem))
        elif not (math.isfinite(weight) and weight >= 0.0):
            found.append((f"weights.{key}", f"must be a finite number >= 0, got {weight}"))
    technical = [t.weights.get(s, 0.0) for s in TECHNICAL_SOURCES]
    if not any(math.isfinite(w) and w > 0.0 for w in technical):
        found.append(("weights", "at least one technical source needs a weight > 0"))
    for key, (low, high) in _RANGES.items():
        value = getattr(t, key)
        low_ok = value > low if key in _OPEN_LOWER else value >= low
        if not (math.isfinite(value) and low_ok and value <= high):
            bound = f"({low:g}, {high:g}]" if key in _OPEN_LOWER else f"[{low:g}, {high:g}]"
            found.append((key, f"must be within {bound}, got {value}"))
    return found
