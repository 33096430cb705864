"""One generation pass over a set of symbols.

ONE batched quote call -> per-symbol quote volatility orders the work, most volatile first
-> due sentiment is refreshed -> a symbol whose price moved less than the skip threshold
since its unexpired signal, with no other input changed (tunables, sentiment), keeps its
signal (reused) -> the others refresh only what changed: new bars fold into the
incremental indicators (the technical view is recomputed only then), sentiment opinions
are rebuilt only when a verdict changed, the consensus and price levels always -> a new
signal identical to the last published one within the dedup window is not re-published
(unless the caller forced the pass).
When the gateway fails, or has only a stale cached quote for a symbol (every provider
failing), the symbol's last signal is served again marked stale.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import structlog
from opentelemetry import trace

from signal_engine.app.calibrations import CalibrationBook
from signal_engine.app.market_inputs import BarFeed, SentimentFeed
from signal_engine.app.symbol_state import SymbolBook, SymbolState
from signal_engine.domain import (
    CacheStatus,
    DomainError,
    GatewayError,
    Quote,
    Signal,
    SignalContext,
    SourceOpinion,
    SymbolFailure,
    TechnicalView,
    Tunables,
    build_signal,
    is_repeat,
    sentiment_opinion,
    should_skip,
    technical_view,
)
from signal_engine.ports import Clock, IdGenerator, MarketData
from signal_engine.telemetry import COMPONENT_RECOMPUTES, SYMBOL_EVALUATIONS, UPSTREAM_CALLS

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
    deduplicated: int = 0
    upstream_calls: int = 1
    gateway_error: GatewayError | None = None


class SignalGenerator:
    def __init__(
        self,
        market: MarketData,
        clock: Clock,
        ids: IdGenerator,
        book: SymbolBook,
        calibrations: CalibrationBook,
    ) -> None:
        self._market = market
        self._clock = clock
        self._ids = ids
        self._book = book
        self._bars = BarFeed(market, clock)
        self._sentiment = SentimentFeed(market, clock)
        self._calibrations = calibrations

    async def run(
        self, wanted: list[str], *, force: bool, tunables: Tunables, generation: int
    ) -> GenerationPass:
        UPSTREAM_CALLS.labels(method="GetQuotes").inc()
        try:
            quotes, errors = await self._market.get_quotes(wanted)
        except GatewayError as e:
            signals, failures = self._fall_back({s: str(e) for s in wanted})
            return GenerationPass(GenerationResult(signals, failures), gateway_error=e)
        now = self._clock.now()
        # A quote served stale because no provider answered refreshes nothing (one served
        # stale while the gateway revalidates it is current enough).
        cached = {s for s, q in quotes.items() if q.cache_status is CacheStatus.STALE_ON_ERROR}
        errors = {**errors, **dict.fromkeys(cached, "only a stale cached quote (providers down)")}
        quotes = {s: q for s, q in quotes.items() if s not in cached}
        for symbol, quote in quotes.items():
            self._book.observe_price(symbol, quote.price, now)
        unserved = {s: errors.get(s, "the gateway returned no quote") for s in wanted}
        for symbol in quotes:
            unserved.pop(symbol, None)
        order = self._book.by_volatility(s for s in wanted if s in quotes)
        states = [self._book.state(s) for s in order]
        calls = 1 + self._sentiment.take_background_calls()
        calls += await self._sentiment.refresh(states, tunables)
        served: dict[str, Signal] = {}
        to_compute: list[SymbolState] = []
        for state in states:
            changed = state.signal_inputs != state.inputs(generation)
            last, price = state.latest, quotes[state.symbol].price
            if (
                last
                and not force
                and should_skip(last, price, now, tunables.skip_threshold_pct, changed)
            ):
                served[state.symbol] = replace(last, reused=True)
                SYMBOL_EVALUATIONS.labels(result="skipped").inc()
            else:
                to_compute.append(state)
        await self._calibrations.refresh([s.symbol for s in to_compute], tunables)
        computed, compute_errors, compute_calls = await self._compute(
            to_compute, quotes, tunables, generation
        )
        calls += compute_calls
        unserved.update(compute_errors)
        new_signals, deduplicated = self._publishable(computed, tunables, generation, force)
        stale, failures = self._fall_back(unserved)
        served.update(computed)
        served.update({s.symbol: s for s in stale})
        ordered = [served[s] for s in self._book.by_volatility(wanted) if s in served]
        return GenerationPass(
            GenerationResult(ordered, failures),
            new_signals=new_signals,
            skipped=len(served) - len(computed) - len(stale),
            deduplicated=deduplicated,
            upstream_calls=calls,
        )

    async def aclose(self) -> None:
        await self._sentiment.aclose()

    def _publishable(
        self, computed: dict[str, Signal], t: Tunables, generation: int, force: bool
    ) -> tuple[list[Signal], int]:
        """Record each computed signal; unless forced, replace a repeat of the last
        published one by that one."""
        fresh: list[Signal] = []
        repeats = 0
        for symbol, signal in computed.items():
            state = self._book.state(symbol)
            state.signal_inputs = (generation, state.sentiment_key)  # what it was built from
            repeat = not force and is_repeat(state.published, signal, t)
            if repeat and state.published is not None:
                computed[symbol] = replace(state.published, reused=True)
                state.latest = state.published
                repeats += 1
                SYMBOL_EVALUATIONS.labels(result="deduplicated").inc()
                continue
            state.latest = state.published = signal
            fresh.append(signal)
            SYMBOL_EVALUATIONS.labels(result="computed").inc()
        return fresh, repeats

    async def _compute(
        self, states: list[SymbolState], quotes: dict[str, Quote], t: Tunables, generation: int
    ) -> tuple[dict[str, Signal], dict[str, str], int]:
        """Refresh each symbol's components and form its signal, `max_concurrency` at once
        (started most volatile first)."""
        gate = asyncio.Semaphore(t.max_concurrency)
        trace_id = _current_trace_id()
        calls = 0

        async def one(state: SymbolState) -> Signal:
            nonlocal calls
            async with gate:
                added, made = await self._bars.refresh(state, t)
                calls += made
            technical = self._technical(state, t, generation, added)
            sentiment = self._sentiment_opinions(state)
            COMPONENT_RECOMPUTES.labels(component="consensus").inc()
            quote = replace(quotes[state.symbol], symbol=state.symbol)
            ctx = SignalContext(
                signal_id=self._ids.new_id(), now=self._clock.now(), trace_id=trace_id
            )
            calibration = self._calibrations.get(state.symbol)
            return build_signal(quote, technical, sentiment, calibration, ctx, t)

        results = await asyncio.gather(*(one(s) for s in states), return_exceptions=True)
        computed: dict[str, Signal] = {}
        errors: dict[str, str] = {}
        for state, result in zip(states, results, strict=True):
            if isinstance(result, Signal):
                computed[state.symbol] = result
            elif isinstance(result, DomainError):
                errors[state.symbol] = str(result)
            elif isinstance(result, Exception):
                log.error("signal_computation_crashed", symbol=state.symbol, exc_info=result)
                errors[state.symbol] = "internal error while forming the signal"
            else:
                raise result
        return computed, errors, calls

    def _technical(
        self, state: SymbolState, t: Tunables, generation: int, added: int
    ) -> TechnicalView:
        """The cached technical view, recomputed only after new bars or new tunables."""
        key = (state.indicators.bars, generation)
        if state.technical is None or state.technical_key != key:
            state.technical = technical_view(
                state.indicators.values(),
                t,
                provider=state.bars_provider,
                cache_status=state.bars_cache_status,
            )
            state.technical_key = key
            COMPONENT_RECOMPUTES.labels(component="technical").inc()
        age = self._bars.data_age_ms(state)
        opinions = tuple(replace(o, data_age_ms=age) for o in state.technical.opinions)
        return replace(state.technical, opinions=opinions)

    def _sentiment_opinions(self, state: SymbolState) -> list[SourceOpinion]:
        """One opinion per provider, rebuilt only when a verdict changed; ages are current."""
        now = self._clock.now()
        if state.sentiment_key != state.sentiment_version:
            state.sentiment = tuple(
                sentiment_opinion(state.verdicts[p], now) for p in sorted(state.verdicts)
            )
            state.sentiment_key = state.sentiment_version
            COMPONENT_RECOMPUTES.labels(component="sentiment").inc()
        times = {v.provider: v.time or now for v in state.verdicts.values()}
        return [
            replace(o, data_age_ms=max(0, int((now - times[o.provider]).total_seconds() * 1000)))
            for o in state.sentiment
        ]

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
