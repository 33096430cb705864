"""EngineApp: the signal cycle and the queries the gRPC API serves.

One generation: ONE batched quote call for every symbol -> per-symbol volatility (EWMA of
quote returns) orders the work, most volatile first -> symbols whose price barely moved
keep their signal (reused) -> the others get 1-minute bars (bounded concurrency) and a fresh
consensus -> new signals go to stream subscribers and to the tracker. When the gateway
fails, a symbol's last signal is served again marked stale.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence

import structlog
from opentelemetry import trace

from observability.metrics import SIGNAL_GENERATION_SECONDS
from signal_engine.app.broadcast import SignalBroadcaster, Subscription
from signal_engine.app.cycle_stats import CycleStats, EngineStats
from signal_engine.app.delivery import PendingDeliveries
from signal_engine.app.generation import GenerationPass, GenerationResult, SignalGenerator
from signal_engine.app.signal_book import SignalBook
from signal_engine.domain import (
    GatewayError,
    Signal,
    Tunables,
    canonical_symbols,
)
from signal_engine.ports import Clock, IdGenerator, MarketData, SignalSink
from signal_engine.telemetry import SIGNALS_PUBLISHED

log = structlog.get_logger(__name__)


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
        self._clock = clock
        self._tunables = tunables
        self._generation = 0  # bumped when tunables change: every symbol's inputs changed
        self._symbols = tuple(canonical_symbols(symbols))
        self._cycle_seconds = cycle_seconds
        self._tracer = trace.get_tracer(__name__, tracer_provider=tracer_provider)
        self._broadcaster = SignalBroadcaster(stream_queue_size)
        self._pending = PendingDeliveries(sink, clock, capacity=pending_capacity)
        self._stats = CycleStats()
        self._lock = asyncio.Lock()
        self._book = SignalBook()
        self._generator = SignalGenerator(market, clock, ids, self._book)
        self._gateway_down = False

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
                log.debug("cycle_failed", error=str(e))  # _note_gateway logged the outage
            except Exception:
                log.exception("cycle_crashed")
            elapsed = self._clock.monotonic() - started
            if elapsed > self._cycle_seconds:
                log.warning("cycle_overran", seconds=round(elapsed, 3))
            await self._clock.sleep(max(0.0, self._cycle_seconds - elapsed))

    def latest(self, symbols: Iterable[str] | None = None) -> tuple[list[Signal], list[str]]:
        """(latest signal of each symbol, symbols without one); default: all with one."""
        wanted = canonical_symbols(symbols) if symbols else self._book.symbols()
        found = [s for s in map(self._book.latest, wanted) if s is not None]
        return found, [s for s in wanted if self._book.latest(s) is None]

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

    async def aclose(self) -> None:
        """Shutdown: end every open stream, then one last delivery attempt; whatever the
        tracker does not take now is lost (the durable outbox is engine issue #5)."""
        self._broadcaster.close_all()
        await self._pending.deliver(ignore_backoff=True)
        if self._pending.depth:
            log.error("pending_signals_lost_at_shutdown", count=self._pending.depth)

    async def _generate(self, symbols: Iterable[str] | None, force: bool) -> GenerationPass:
        wanted = canonical_symbols(symbols) if symbols else list(self._symbols)
        async with self._lock:
            attributes = {"symbols": len(wanted), "force": force}
            with self._tracer.start_as_current_span(
                "signal_engine.generate", attributes=attributes
            ):
                done = await self._generator.run(
                    wanted, force=force, tunables=self._tunables, generation=self._generation
                )
                self._publish(done.new_signals)
                await self._pending.deliver()
        self._stats.processed += len(done.new_signals) + done.skipped
        self._stats.skipped += done.skipped
        self._note_gateway(done)
        if not done.result.signals and done.gateway_error is not None:
            raise done.gateway_error  # nothing could be served, not even a stale signal
        return done

    def _publish(self, signals: list[Signal]) -> None:
        if not signals:
            return
        self._stats.published += len(signals)
        for signal in signals:
            SIGNALS_PUBLISHED.labels(action=signal.action.value).inc()
        self._broadcaster.publish(signals)
        self._pending.add(signals)

    def _note_gateway(self, done: GenerationPass) -> None:
        """Log the gateway going down and coming back, not every failed call."""
        error = done.gateway_error
        if error is not None and not self._gateway_down:
            log.warning(
                "market_gateway_down", error=str(error), stale_served=len(done.result.signals)
            )
        elif error is None and self._gateway_down:
            log.info("market_gateway_recovered")
        self._gateway_down = error is not None
