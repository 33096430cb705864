"""The in-process quote cache (L1): the latest quote per symbol, LRU-bounded.

Freshness is the caller's policy (TTL, off-hours multiplier, max_age_ms); the cache only
remembers when each quote was stored, on the monotonic clock.
"""

from __future__ import annotations

from collections import OrderedDict

from market_gateway.domain import Quote

DEFAULT_CAPACITY = 10_000


class QuoteCache:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._capacity = capacity
        self._entries: OrderedDict[str, tuple[Quote, float]] = OrderedDict()

    def get(self, symbol: str) -> tuple[Quote, float] | None:
        """(quote, monotonic time it was stored) or None."""
        return self._entries.get(symbol)

    def put(self, quote: Quote, stored_at: float) -> None:
        self._entries[quote.symbol] = (quote, stored_at)
        self._entries.move_to_end(quote.symbol)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
