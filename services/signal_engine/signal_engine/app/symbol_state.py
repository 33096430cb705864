"""Per-symbol memory of the engine: indicator state, cached components, signals, polling."""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from signal_engine.domain import (
    CacheStatus,
    IndicatorState,
    QuoteVolatility,
    SentimentVerdict,
    Signal,
    SourceOpinion,
    TechnicalView,
)


@dataclass
class SymbolState:
    symbol: str
    indicators: IndicatorState = field(default_factory=IndicatorState)
    bars_provider: str = ""
    bars_cache_status: CacheStatus = CacheStatus.UNSPECIFIED
    next_bar_check: datetime | None = None  # no completed bar can be new before this
    technical: TechnicalView | None = None
    technical_key: tuple[int, int] | None = None  # (bars folded in, tunables generation)
    verdicts: dict[str, SentimentVerdict] = field(default_factory=dict)  # by provider
    sentiment_version: int = 0  # bumped when a verdict arrives, changes or expires
    sentiment: tuple[SourceOpinion, ...] = ()  # opinions built from the verdicts
    sentiment_key: int = 0  # sentiment_version the opinions were built from
    next_sentiment: datetime | None = None
    latest: Signal | None = None  # served last (published, or the same marked stale)
    published: Signal | None = None  # published last (for deduplication)
    signal_inputs: tuple[int, int] | None = None  # (tunables gen, sentiment version)
    volatility: QuoteVolatility = field(default_factory=QuoteVolatility)
    next_poll: datetime | None = None

    def inputs(self, generation: int) -> tuple[int, int]:
        return generation, self.sentiment_version

    def reset_bars(self) -> None:
        self.indicators = IndicatorState()
        self.technical = None
        self.technical_key = None


class SymbolBook:
    """States of the symbols seen, least recently used evicted beyond `capacity` (callers
    may name any symbol; an evicted one is rebuilt from the gateway when named again)."""

    def __init__(self, capacity: int = 2000) -> None:
        self._states: OrderedDict[str, SymbolState] = OrderedDict()
        self._capacity = capacity

    def state(self, symbol: str) -> SymbolState:
        found = self._states.get(symbol)
        if found is None:
            found = self._states[symbol] = SymbolState(symbol)
            while len(self._states) > self._capacity:
                self._states.popitem(last=False)
        else:
            self._states.move_to_end(symbol)
        return found

    def find(self, symbol: str) -> SymbolState | None:
        return self._states.get(symbol)

    def latest(self, symbol: str) -> Signal | None:
        found = self._states.get(symbol)
        return found.latest if found else None

    def symbols_with_signals(self) -> list[str]:
        return sorted(s for s, state in self._states.items() if state.latest is not None)

    def observe_price(self, symbol: str, price: float, at: datetime) -> None:
        state = self.state(symbol)
        state.volatility = state.volatility.observe(price, at)

    def mark_stale(self, symbol: str) -> Signal | None:
        """The last signal flagged stale (kept as the latest), or None when there is none."""
        state = self._states.get(symbol)
        if state is None or state.latest is None:
            return None
        state.latest = replace(state.latest, stale=True, reused=False)
        return state.latest

    def by_volatility(self, symbols: Iterable[str]) -> list[str]:
        """Most volatile first; ties keep their given order (sorted is stable)."""

        def key(symbol: str) -> float:
            state = self._states.get(symbol)
            return -math.sqrt(state.volatility.variance_per_second) if state else 0.0

        return sorted(symbols, key=key)
