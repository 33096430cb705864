"""How long cached data stays fresh: DESIGN.md §4's adaptive TTL.

    fresh = base x data-type multiplier x volatility multiplier (x off-hours), clamped

- base: `ttl.base_seconds` (seeds' 120 s) for everything but quotes; quotes use
  `quote_ttl_seconds` (default 1 s). A quote is a price: the seeds' 120 s (or their 10 s
  floor) would serve minutes-old prices in a session, so quotes keep their own short base
  and a floor of `ttl.quote_min_seconds` while their market is open. Streams keep streamed
  symbols current regardless (write-through), so this base only paces polling.
- data type: market_data x1, bars x1, indicators x1.5, sentiment x2, consensus x3,
  ai_reasoning x10 (`ttl.multipliers`).
- volatility of the symbol (the relative range of the prices the gateway saw over the last
  24 h): above `high_volatility_pct` x0.5, below `low_volatility_pct` x2, else x1; unknown
  (fewer than two prices) x1.
- outside its market's session (NYSE calendar: weekends, holidays, early closes; crypto
  never closes): x`off_hours_ttl_multiplier` (3), and the clamp is `ttl.min_seconds` ..
  `ttl.max_seconds` (10 s .. 1 h) for every type, quotes included.
A value is then served stale for `stale_while_revalidate_ratio` x fresh while one refresh
runs, and up to `stale_if_error_seconds` after its freshness when every provider fails.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from market_gateway.domain import (
    AssetClass,
    Bar,
    CachedBars,
    Quote,
    Sentiment,
    Symbol,
    Tunables,
    parse_symbol,
)
from market_gateway.ports import Clock, MarketCalendar
from resilience.cache_l1 import Ttl

VOLATILITY_WINDOW = timedelta(hours=24)
MAX_SAMPLES = 512
DATA_TYPE_OF_KEY = {"quote": "market_data", "bars": "bars", "sentiment": "sentiment"}


class VolatilityTracker:
    """Per symbol, the prices seen over the last 24 h; volatility = (max - min) / last."""

    def __init__(self, *, window: timedelta = VOLATILITY_WINDOW) -> None:
        self._window = window
        self._seen: dict[str, deque[tuple[datetime, float]]] = {}

    def observe(self, symbol: str, price: float, at: datetime) -> None:
        seen = self._seen.setdefault(symbol, deque(maxlen=MAX_SAMPLES))
        if seen and at < seen[-1][0]:
            return  # an older price (e.g. a late provider) says nothing new
        seen.append((at, price))
        while seen and seen[0][0] < at - self._window:
            seen.popleft()

    def observe_bars(self, symbol: str, bars: tuple[Bar, ...] | list[Bar]) -> None:
        for bar in bars[-2:]:
            self.observe(symbol, bar.close, bar.start_time)

    def volatility_pct(self, symbol: str) -> float | None:
        seen = self._seen.get(symbol)
        if not seen or len(seen) < 2:
            return None
        prices = [price for _, price in seen]
        return (max(prices) - min(prices)) / prices[-1] * 100.0


class TtlPolicy:
    def __init__(
        self,
        calendar: MarketCalendar,
        clock: Clock,
        tunables: Callable[[], Tunables],
        volatility: VolatilityTracker,
    ) -> None:
        self._calendar = calendar
        self._clock = clock
        self._tunables = tunables
        self.volatility = volatility

    def fresh_seconds(self, data_type: str, symbol: Symbol, now: datetime | None = None) -> float:
        """Seconds a value of `data_type` about `symbol` stays fresh at `now`."""
        tunables = self._tunables()
        settings = tunables.ttl
        now = now or self._clock.now()
        quote = data_type == "market_data"
        seconds = tunables.quote_ttl_seconds if quote else settings.base_seconds
        seconds *= settings.multipliers.get(data_type, 1.0)
        seconds *= self.volatility_multiplier(symbol.canonical)
        open_now = symbol.asset_class is AssetClass.CRYPTO or self._calendar.is_open(
            now, symbol.asset_class
        )
        if not open_now:
            seconds *= tunables.off_hours_ttl_multiplier
        floor = settings.quote_min_seconds if quote and open_now else settings.min_seconds
        return min(max(seconds, floor), settings.max_seconds)

    def volatility_multiplier(self, symbol: str) -> float:
        settings = self._tunables().ttl
        volatility = self.volatility.volatility_pct(symbol)
        if volatility is None:
            return 1.0
        if volatility > settings.high_volatility_pct:
            return settings.high_volatility_multiplier
        if volatility < settings.low_volatility_pct:
            return settings.low_volatility_multiplier
        return 1.0

    def ttl(self, data_type: str, symbol: Symbol, *, keep_seconds: float = 0.0) -> Ttl:
        """Fresh, stale-while-revalidate and stale-if-error seconds of one cache entry;
        `keep_seconds` extends the revalidation window (bars keep their history)."""
        settings = self._tunables().ttl
        fresh = self.fresh_seconds(data_type, symbol)
        revalidate = max(fresh * settings.stale_while_revalidate_ratio, keep_seconds)
        return Ttl(fresh, revalidate, settings.stale_if_error_seconds)

    def for_entry(self, key: str, value: Any) -> Ttl:
        """The two-tier cache's TTL policy: keys are "<kind>:<symbol>[:...]"."""
        kind, _, rest = key.partition(":")
        symbol = parse_symbol(rest.split(":", 1)[0])
        keep = self._tunables().ttl.max_seconds if isinstance(value, CachedBars) else 0.0
        return self.ttl(DATA_TYPE_OF_KEY.get(kind, "market_data"), symbol, keep_seconds=keep)


def observed(volatility: VolatilityTracker, value: Quote | Sentiment | CachedBars) -> None:
    """Feed what a provider answered into the volatility estimate."""
    if isinstance(value, Quote):
        volatility.observe(value.symbol, value.price, value.time)
    elif isinstance(value, CachedBars):
        volatility.observe_bars(value.symbol, value.bars)
