"""Per-symbol memory of the engine: latest signal, what it was computed with, volatility."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace

from signal_engine.domain import Signal, update_ewma_variance


class SignalBook:
    def __init__(self) -> None:
        self._latest: dict[str, Signal] = {}
        self._computed_with: dict[str, int] = {}  # tunables generation of each signal
        self._variance: dict[str, float] = {}  # EWMA variance of quote-to-quote log returns
        self._last_price: dict[str, float] = {}

    def latest(self, symbol: str) -> Signal | None:
        return self._latest.get(symbol)

    def symbols(self) -> list[str]:
        return sorted(self._latest)

    def record(self, signal: Signal, generation: int) -> None:
        self._latest[signal.symbol] = signal
        self._computed_with[signal.symbol] = generation

    def mark_stale(self, symbol: str) -> Signal | None:
        """The last signal flagged stale (kept as the latest), or None when there is none."""
        last = self._latest.get(symbol)
        if last is None:
            return None
        stale = replace(last, stale=True, reused=False)
        self._latest[symbol] = stale
        return stale

    def inputs_changed(self, symbol: str, generation: int) -> bool:
        return self._computed_with.get(symbol) != generation

    def observe_price(self, symbol: str, price: float) -> None:
        previous = self._last_price.get(symbol)
        self._variance[symbol] = update_ewma_variance(
            self._variance.get(symbol, 0.0), previous, price
        )
        self._last_price[symbol] = price

    def by_volatility(self, symbols: Iterable[str]) -> list[str]:
        """Most volatile first; ties keep their given order (sorted is stable)."""
        return sorted(symbols, key=lambda s: -math.sqrt(self._variance.get(s, 0.0)))
