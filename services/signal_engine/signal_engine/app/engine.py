"""EngineApp: the signal cycle and the queries the gRPC API serves.

One generation: ONE batched quote call for every symbol -> per-symbol volatility (EWMA of
quote returns) orders the work, most volatile first -> symbols whose price barely moved
keep their signal (reused) -> the others get 1-minute bars (bounded concurrency) and a fresh
consensus -> new signals go to stream subscribers and to the tracker. When the gateway
fails, a symbol's last signal is served again marked stale.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

import structlog
from opentelemetry import trace

from observability.metrics import SIGNAL_GENERATION_SECONDS
from signal_engine.app.broadcast import SignalBroadcaster, Subscription
from signal_engine.app.cycle_stats import CycleStats, EngineStats
from signal_engine.app.delivery import PendingDeliveries
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
    canonical_symbols,
    should_skip,
    update_ewma_variance,
)
from signal_engine.ports import Clock, IdGenerator, MarketData, SignalSink
from signal_engine.telemetry import SIGNALS_PUBLISHED, SYMBOL_EVALUATIONS, UPSTREAM_CALLS

log = structlog.get_logger(__name__)


class GenerationResult(NamedTuple):
    signals: list[Signal]  # most volatile symbol first
    failures: list[SymbolFailure]


@dataclass
class _Outcome:
    result: GenerationResult
    upstream_calls: int
    gateway_error: GatewayError | None = None


class EngineApp:
    def __init__(
        self,
        market: MarketData,
        sink: SignalSink,
        clock: Clock,
        ids: IdGenerator,
        tunables: Tunables,
        symbols: Sequence[str],
        *,
        cycle_seconds: float = 5.0,
        tracer_provider: trace.TracerProvider | None = None,
        stream_queue_size: int = 256,
        pending_capacity: int = 10_000,
    ) -> None:
        self._market = market
        self._clock = clock
        self._ids = ids
        self._tunables = tunables
        self._generation = 0  # bumped when tunables change: every symbol's inputs changed
        self._symbols = tuple(canonical_symbols(symbols))
        self._cycle_seconds = cycle_seconds
        self._tracer = trace.get_tracer(__name__, tracer_provider=tracer_provider)
        self._broadcaster = SignalBroadcaster(stream_queue_size)
        self._pending = PendingDeliveries(sink, clock, capacity=pending_capacity)
        self._stats = CycleStats()
        self._lock = asyncio.Lock()
        self._latest: dict[str, Signal] = {}
        self._computed_with: dict[str, int] = {}
        self._variance: dict[str, float] = {}
        self._last_price: dict[str, float] = {}

    @property
    def symbols(self) -> tuple[str, ...]:
        return self._symbols

    @property
    def tunables(self) -> Tunables:
        return self._tunables

    def apply_tunables(self, tunables: Tunables) -> None:
        if tunables == self._tunables:
            return
        self._tunables = tunables
        self._generation += 1
        log.info("tunables_applied", generation=self._generation)

    async def generate(
        self, symbols: Iterable[str] | None = None, *, force: bool = False
    ) -> GenerationResult:
        """Signals for `symbols` (default: the configured ones), then deliver pending ones.
        Raises GatewayUnavailable when the gateway failed and no symbol could be served."""
        return (await self._generate(symbols, force)).result

    async def run_cycle(self) -> GenerationResult:
        """One cycle over the configured symbols, timed and counted in the stats."""
        started = self._clock.monotonic()
        calls = 0
        with self._tracer.start_as_current_span("signal_engine.cycle"):
            try:
                outcome = await self._generate(None, False)
                calls = outcome.upstream_calls
                return outcome.result
            finally:
                elapsed = self._clock.monotonic() - started
                SIGNAL_GENERATION_SECONDS.observe(elapsed)
                self._stats.record_cycle(elapsed, calls, self._clock.now())

    async def run_cycles(self, stop: asyncio.Event | None = None) -> None:
        """Cycle every `cycle_seconds` until `stop` is set (or the task is cancelled).
        Cycles never overlap: one that overruns delays the next."""
        stop = stop or asyncio.Event()
        while not stop.is_set():
            started = self._clock.monotonic()
            try:
                await self.run_cycle()
            except GatewayError as e:
                log.warning("cycle_failed", error=str(e))
            except Exception:
                log.exception("cycle_crashed")
            elapsed = self._clock.monotonic() - started
            if elapsed > self._cycle_seconds:
                log.warning("cycle_overran", seconds=round(elapsed, 3))
            await self._clock.sleep(max(0.0, self._cycle_seconds - elapsed))

    def latest(self, symbols: Iterable[str] | None = None) -> tuple[list[Signal], list[str]]:
        """(latest signal of each symbol, symbols without one); default: all with one."""
        wanted = canonical_symbols(symbols) if symbols else sorted(self._latest)
        found = [self._latest[s] for s in wanted if s in self._latest]
        return found, [s for s in wanted if s not in self._latest]

    def subscribe(self, symbols: Iterable[str] | None = None) -> Subscription:
        """New signals of `symbols` (default: all) from now on; close it when done."""
        return self._broadcaster.subscribe(canonical_symbols(symbols) if symbols else None)

    @property
    def stream_subscribers(self) -> int:
        return self._broadcaster.subscriber_count

    def stats(self) -> EngineStats:
        return self._stats.snapshot(
            pending=self._pending.depth,
            delivered=self._pending.delivered_total,
            stream_dropped=self._broadcaster.dropped_total,
            symbols=self._symbols,
        )

    async def deliver_pending(self) -> int:
        return await self._pending.deliver()

    def close(self) -> None:
        """End every open stream (shutdown)."""
        self._broadcaster.close_all()

    async def _generate(self, symbols: Iterable[str] | None, force: bool) -> _Outcome:
        wanted = canonical_symbols(symbols) if symbols else list(self._symbols)
        async with self._lock:
            attributes = {"symbols": len(wanted), "force": force}
            with self._tracer.start_as_current_span(
                "signal_engine.generate", attributes=attributes
            ):
                outcome = await self._generate_locked(wanted, force)
                await self._pending.deliver()
        if not outcome.result.signals and outcome.gateway_error is not None:
            raise outcome.gateway_error  # nothing could be served, not even a stale signal
        return outcome

    async def _generate_locked(self, wanted: list[str], force: bool) -> _Outcome:
        UPSTREAM_CALLS.labels(method="GetQuotes").inc()
        try:
            quotes, errors = await self._market.get_quotes(wanted)
        except GatewayError as e:
            log.warning("gateway_quotes_failed", error=str(e), symbols=len(wanted))
            signals, failures = self._fall_back(wanted, {s: str(e) for s in wanted})
            return _Outcome(GenerationResult(signals, failures), 1, e)
        for symbol, quote in quotes.items():
            self._observe_price(symbol, quote.price)
        unquoted = {s: errors.get(s, "the gateway returned no quote") for s in wanted}
        for symbol in quotes:
            unquoted.pop(symbol, None)
        served: dict[str, Signal] = {}
        to_compute: list[str] = []
        now, t = self._clock.now(), self._tunables
        for symbol in self._by_volatility(s for s in wanted if s in quotes):
            last = self._latest.get(symbol)
            changed = self._computed_with.get(symbol) != self._generation
            if (
                last
                and not force
                and should_skip(last, quotes[symbol].price, now, t.skip_threshold_pct, changed)
            ):
                served[symbol] = replace(last, reused=True)
                self._count(skipped=True)
            else:
                to_compute.append(symbol)
        computed, compute_errors = await self._compute(to_compute, quotes)
        served.update(computed)
        unquoted.update(compute_errors)
        fallback, failures = self._fall_back(list(unquoted), unquoted)
        served.update({s.symbol: s for s in fallback})
        self._publish(list(computed.values()))
        ordered = [served[s] for s in self._by_volatility(wanted) if s in served]
        return _Outcome(GenerationResult(ordered, failures), 1 + len(to_compute))

    async def _compute(
        self, symbols: list[str], quotes: dict[str, Quote]
    ) -> tuple[dict[str, Signal], dict[str, str]]:
        t = self._tunables
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
                self._latest[symbol] = result
                self._computed_with[symbol] = self._generation
                self._count(skipped=False)
            elif isinstance(result, DomainError):
                errors[symbol] = str(result)
            elif isinstance(result, Exception):
                log.error("signal_computation_crashed", symbol=symbol, exc_info=result)
                errors[symbol] = "internal error while forming the signal"
            else:
                raise result
        return computed, errors

    def _fall_back(
        self, symbols: list[str], reasons: dict[str, str]
    ) -> tuple[list[Signal], list[SymbolFailure]]:
        """The last signal again, marked stale, or a failure when there is none."""
        stale: list[Signal] = []
        failures: list[SymbolFailure] = []
        for symbol in symbols:
            last = self._latest.get(symbol)
            if last is None:
                failures.append(SymbolFailure(symbol, reasons[symbol]))
                SYMBOL_EVALUATIONS.labels(result="failed").inc()
                continue
            last = replace(last, stale=True, reused=False)
            self._latest[symbol] = last
            stale.append(last)
            SYMBOL_EVALUATIONS.labels(result="stale").inc()
        return stale, failures

    def _publish(self, signals: list[Signal]) -> None:
        if not signals:
            return
        self._stats.published += len(signals)
        for signal in signals:
            SIGNALS_PUBLISHED.labels(action=signal.action.value).inc()
        self._broadcaster.publish(signals)
        self._pending.add(signals)

    def _count(self, *, skipped: bool) -> None:
        self._stats.processed += 1
        self._stats.skipped += int(skipped)
        SYMBOL_EVALUATIONS.labels(result="skipped" if skipped else "computed").inc()

    def _observe_price(self, symbol: str, price: float) -> None:
        previous = self._last_price.get(symbol)
        self._variance[symbol] = update_ewma_variance(
            self._variance.get(symbol, 0.0), previous, price
        )
        self._last_price[symbol] = price

    def _by_volatility(self, symbols: Iterable[str]) -> list[str]:
        """Most volatile first; ties keep their given order (sorted is stable)."""
        return sorted(symbols, key=lambda s: -math.sqrt(self._variance.get(s, 0.0)))


def _current_trace_id() -> str:
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else ""
