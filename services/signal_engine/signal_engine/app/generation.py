"""One generation pass: batched quotes -> skip or compute per symbol -> stale fallback.

Stateless apart from the SignalBook it updates; EngineApp serialises passes with a lock.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import structlog
from opentelemetry import trace

from signal_engine.app.signal_book import SignalBook
from signal_engine.domain import (
    DomainError,
    GatewayError,
    Quote,
    Signal,
    SignalContext,
    SymbolFailure,
    Timeframe,
    Tunables,
    build_signal,
    should_skip,
)
from signal_engine.ports import Clock, IdGenerator, MarketData
from signal_engine.telemetry import SYMBOL_EVALUATIONS, UPSTREAM_CALLS

log = structlog.get_logger(__name__)


class GenerationResult(NamedTuple):
    signals: list[Signal]  # most volatile symbol first
    failures: list[SymbolFailure]


@dataclass
class GenerationPass:
    """What one pass produced and cost."""

    result: GenerationResult
    new_signals: list[Signal] = field(default_factory=list)
    skipped: int = 0
    upstream_calls: int = 1
    gateway_error: GatewayError | None = None


class SignalGenerator:
    def __init__(
        self, market: MarketData, clock: Clock, ids: IdGenerator, book: SignalBook
    ) -> None:
        self._market = market
        self._clock = clock
        self._ids = ids
        self._book = book

    async def run(
        self, wanted: list[str], *, force: bool, tunables: Tunables, generation: int
    ) -> GenerationPass:
        UPSTREAM_CALLS.labels(method="GetQuotes").inc()
        try:
            quotes, errors = await self._market.get_quotes(wanted)
        except GatewayError as e:
            signals, failures = self._fall_back({s: str(e) for s in wanted})
            return GenerationPass(GenerationResult(signals, failures), gateway_error=e)
        for symbol, quote in quotes.items():
            self._book.observe_price(symbol, quote.price)
        unserved = {s: errors.get(s, "the gateway returned no quote") for s in wanted}
        for symbol in quotes:
            unserved.pop(symbol, None)
        served: dict[str, Signal] = {}
        to_compute: list[str] = []
        now, threshold = self._clock.now(), tunables.skip_threshold_pct
        for symbol in self._book.by_volatility(s for s in wanted if s in quotes):
            last = self._book.latest(symbol)
            changed = self._book.inputs_changed(symbol, generation)
            if (
                last
                and not force
                and should_skip(last, quotes[symbol].price, now, threshold, changed)
            ):
                served[symbol] = replace(last, reused=True)
                SYMBOL_EVALUATIONS.labels(result="skipped").inc()
            else:
                to_compute.append(symbol)
        computed, compute_errors = await self._compute(to_compute, quotes, tunables, generation)
        unserved.update(compute_errors)
        stale, failures = self._fall_back(unserved)
        served.update(computed)
        served.update({s.symbol: s for s in stale})
        ordered = [served[s] for s in self._book.by_volatility(wanted) if s in served]
        return GenerationPass(
            GenerationResult(ordered, failures),
            new_signals=list(computed.values()),
            skipped=len(served) - len(computed) - len(stale),
            upstream_calls=1 + len(to_compute),
        )

    async def _compute(
        self, symbols: list[str], quotes: dict[str, Quote], t: Tunables, generation: int
    ) -> tuple[dict[str, Signal], dict[str, str]]:
        """Bars and a fresh consensus per symbol, at most `max_concurrency` at once."""
        gate = asyncio.Semaphore(t.max_concurrency)
        trace_id = _current_trace_id()

        async def one(symbol: str) -> Signal:
            async with gate:
                UPSTREAM_CALLS.labels(method="GetBars").inc()
                series = await self._market.get_bars(symbol, Timeframe.ONE_MINUTE, t.bars_limit)
            quote = replace(quotes[symbol], symbol=symbol)
            ctx = SignalContext(
                signal_id=self._ids.new_id(), now=self._clock.now(), trace_id=trace_id
            )
            return build_signal(quote, series, ctx, t)

        results = await asyncio.gather(*(one(s) for s in symbols), return_exceptions=True)
        computed: dict[str, Signal] = {}
        errors: dict[str, str] = {}
        for symbol, result in zip(symbols, results, strict=True):
            if isinstance(result, Signal):
                computed[symbol] = result
                self._book.record(result, generation)
                SYMBOL_EVALUATIONS.labels(result="computed").inc()
            elif isinstance(result, DomainError):
                errors[symbol] = str(result)
            elif isinstance(result, Exception):
                log.error("signal_computation_crashed", symbol=symbol, exc_info=result)
                errors[symbol] = "internal error while forming the signal"
            else:
                raise result
        return computed, errors

    def _fall_back(self, reasons: dict[str, str]) -> tuple[list[Signal], list[SymbolFailure]]:
        """Each symbol's last signal again, marked stale, or a failure when there is none."""
        stale: list[Signal] = []
        failures: list[SymbolFailure] = []
        for symbol, reason in reasons.items():
            last = self._book.mark_stale(symbol)
            if last is None:
                failures.append(SymbolFailure(symbol, reason))
                SYMBOL_EVALUATIONS.labels(result="failed").inc()
            else:
                stale.append(last)
                SYMBOL_EVALUATIONS.labels(result="stale").inc()
        return stale, failures


def _current_trace_id() -> str:
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else ""
