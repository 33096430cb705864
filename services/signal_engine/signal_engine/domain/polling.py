"""Per-symbol quote volatility (orders each cycle's work) and adaptive polling intervals."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from signal_engine.domain.tunables import Tunables

EWMA_DECAY = 0.94  # RiskMetrics' lambda
_MIN_INTERVAL_SECONDS = 1.0  # returns over shorter gaps count as one second's


@dataclass(frozen=True)
class QuoteVolatility:
    """EWMA of squared quote-to-quote log returns per second; `observations` counts quotes."""

    variance_per_second: float = 0.0
    last_price: float = 0.0
    last_time: datetime | None = None
    observations: int = 0

    def observe(self, price: float, at: datetime, decay: float = EWMA_DECAY) -> QuoteVolatility:
        if price <= 0.0 or not math.isfinite(price):
            return self
        variance = self.variance_per_second
        if self.last_time is not None and self.last_price > 0.0:
            seconds = max((at - self.last_time).total_seconds(), _MIN_INTERVAL_SECONDS)
            r = math.log(price / self.last_price)
            variance = decay * variance + (1.0 - decay) * r * r / seconds
        return QuoteVolatility(variance, price, at, self.observations + 1)

    @property
    def pct_per_minute(self) -> float:
        """Volatility in percent per sqrt(minute)."""
        return math.sqrt(self.variance_per_second * 60.0) * 100.0

    @property
    def known(self) -> bool:
        return self.observations >= 2


def poll_interval(
    cycle_seconds: float,
    volatility: QuoteVolatility,
    *,
    crypto: bool,
    session_open: bool,
    t: Tunables,
) -> float:
    """Seconds until a symbol is quoted again: every cycle normally, every
    `off_session_poll_seconds` for a stock outside the NYSE session, and
    `quiet_poll_multiplier` cycles' time while its volatility is below the quiet level."""
    if not crypto and not session_open:
        return max(cycle_seconds, t.off_session_poll_seconds)
    if volatility.known and volatility.pct_per_minute < t.quiet_volatility_pct:
        return cycle_seconds * t.quiet_poll_multiplier
    return cycle_seconds
