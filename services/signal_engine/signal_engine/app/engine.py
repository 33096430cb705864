"""EngineApp: the signal cycle and the queries the gRPC API serves.

Every `cycle_seconds` the cycle claims the symbols this replica owns (all of them without
Redis; a leased share with it), leaves out those adaptive polling says are not due (quiet
symbols, stocks outside the NYSE session), and runs one generation pass over the rest
(generation.py). New signals go to the durable outbox first, then to stream subscribers.
Passes never overlap: cycles and GenerateSignals calls take turns.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence

import structlog
from opentelemetry import trace

from observability.metrics import SIGNAL_GENERATION_SECONDS
from signal_engine.app.broadcast import SignalBroadcaster, Subscription
from signal_engine.app.calibrations import CalibrationBook
from signal_engine.app.cycle_stats import CycleStats, EngineStats
from signal_engine.app.delivery import OutboxDelivery
from signal_engine.app.generation import GenerationPass, GenerationResult, SignalGenerator
from signal_engine.app.pass_queue import PassQueue
from signal_engine.app.polling import PollSchedule
from signal_engine.app.symbol_state import SymbolBook
from signal_engine.domain import (
    GatewayError,
    IndicatorValues,
    Signal,
    Tunables,
    canonical_symbol,
    canonical_symbols,
)
from signal_engine.ports import (
    CalibrationSource,
    Clock,
    IdGenerator,
    MarketCalendar,
    MarketData,
    Outbox,
    Ownership,
    SignalSink,
)
from signal_engine.telemetry import SIGNALS_PUBLISHED, SYMBOLS_OWNED

log = structlog.get_logger(__name__)


class EngineApp:
    def __init__(
        self,
        *,
        market: MarketData,
        sink: SignalSink,
        outbox: Outbox,
        calibrations: CalibrationSource,
        ownership: Ownership,
        calendar: MarketCalendar,
        clock: Clock,
        ids: IdGenerator,
        tunables: Tunables,
        symbols: Sequence[str],
        cycle_seconds: float = 5.0,
        tracer_provider: trace.TracerProvider | None = None,
        stream_queue_size: int = 256,
        delivery_max_backoff_seconds: float = 15.0,
    ) -> None:
        self._clock = clock
        self._tunables = tunables
        self._generation = 0  # bumped when tunables change: every symbol's inputs changed
        self._symbols = tuple(canonical_symbols(symbols))
        self._cycle_seconds = cycle_seconds
        self._ownership = ownership
        self._tracer = trace.get_tracer(__name__, tracer_provider=tracer_provider)
        self._broadcaster = SignalBroadcaster(stream_queue_size)
        self._delivery = OutboxDelivery(
            outbox, sink, clock, max_backoff_seconds=delivery_max_backoff_seconds
        )
        self._stats = CycleStats()
        self._passes = PassQueue(self._pass)
        self._book = SymbolBook()
        self._polls = PollSchedule(self._book, calendar, clock, cycle_seconds)
        self._generator = SignalGenerator(
            market, clock, ids, self._book, CalibrationBook(calibrations, clock)
        )
        self._gateway_down = False

    @property
    def symbols(self) -> tuple[str, ...]:
        return self._symbols

    @property
    def tunables(self) -> Tunables:
        return self._tunables

    @property
    def delivery(self) -> OutboxDelivery:
        return self._delivery

    def apply_tunables(self, tunables: Tunables) -> None:
        if tunables == self._tunables:
            return
        self._tunables = tunables
        self._generation += 1
        log.info("tunables_applied", generation=self._generation)

    def owned_symbols(self) -> list[str]:
        owned = self._ownership.owned()
        return [s for s in self._symbols if s in owned]

    async def generate(
        self, symbols: Iterable[str] | None = None, *, force: bool = False
    ) -> GenerationResult:
        """Signals for `symbols` (default: the symbols this replica owns), published and
        handed to the outbox. Raises GatewayUnavailable when the gateway failed and no
        symbol could be served."""
        wanted = canonical_symbols(symbols) if symbols else self.owned_symbols()
        return self._served(await self._passes.submit(wanted, force)).result

    async def run_cycle(self) -> GenerationResult:
        """One cycle over the owned symbols that are due, timed and counted in the stats."""
        started = self._clock.monotonic()
        calls = 0
        with self._tracer.start_as_current_span("signal_engine.cycle") as span:
            try:
                async with self._ownership.claim() as owned:
                    SYMBOLS_OWNED.set(len(owned))
                    due = self._polls.due([s for s in self._symbols if s in owned])
                    span.set_attribute("symbols.owned", len(owned))
                    span.set_attribute("symbols.due", len(due))
                    if not due:
                        return GenerationResult([], [])
                    cycle_start = self._clock.now()
                    outcome = self._served(await self._passes.exclusive(due, False))
                    calls = outcome.upstream_calls
                    await self._polls.schedule(due, cycle_start, self._tunables)
                    return outcome.result
            finally:
                elapsed = self._clock.monotonic() - started
                SIGNAL_GENERATION_SECONDS.observe(elapsed)
                self._stats.record_cycle(elapsed, calls, self._clock.now())

    async def run_cycles(self, stop: asyncio.Event | None = None) -> None:
        """Cycle every `cycle_seconds` until `stop` is set (or the task is cancelled).
        Cycles never overlap: one that overruns delays the next."""
        stop = stop or asyncio.Event()
        try:
            await self._polls.prepare(self._symbols)
        except Exception as e:  # the first cycle asks again; a broken calendar must not stop cycles
            log.warning("calendar_prepare_failed", error=repr(e))
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
        wanted = canonical_symbols(symbols) if symbols else self._book.symbols_with_signals()
        found = [s for s in map(self._book.latest, wanted) if s is not None]
        return found, [s for s in wanted if self._book.latest(s) is None]

    def subscribe(self, symbols: Iterable[str] | None = None) -> Subscription:
        """New signals of `symbols` (default: all) from now on; close it when done."""
        return self._broadcaster.subscribe(canonical_symbols(symbols) if symbols else None)

    def indicators(self, symbol: str) -> IndicatorValues | None:
        """The symbol's incrementally maintained indicators (None before its first bars)."""
        state = self._book.find(canonical_symbol(symbol))
        return state.indicators.values() if state and state.indicators.bars else None

    @property
    def stream_subscribers(self) -> int:
        return self._broadcaster.subscriber_count

    def stats(self) -> EngineStats:
        return self._stats.snapshot(
            outbox_depth=self._delivery.depth,
            outbox_refused=self._delivery.refused_total,
            delivered=self._delivery.delivered_total,
            stream_dropped=self._broadcaster.dropped_total,
            symbols=self.owned_symbols(),
            configured_symbols=self._symbols,
            replica_id=self._ownership.replica_id,
        )

    def end_streams(self) -> None:
        self._broadcaster.close_all()

    async def aclose(self) -> None:
        """Shutdown: end every open stream, one last delivery attempt (what the tracker
        does not take now stays in the outbox for the next start), give the leases up."""
        self._broadcaster.close_all()
        await self._generator.aclose()
        await self._delivery.final_attempt()
        await self._ownership.release()

    async def _pass(self, wanted: list[str], force: bool) -> GenerationPass:
        """One generation pass (the PassQueue runs one at a time), counted once."""
        attributes = {"symbols": len(wanted), "force": force}
        with self._tracer.start_as_current_span("signal_engine.generate", attributes=attributes):
            done = await self._generator.run(
                wanted, force=force, tunables=self._tunables, generation=self._generation
            )
            await self._delivery.publish(done.new_signals)  # durable before anyone sees it
            self._broadcast(done.new_signals)
        self._stats.processed += len(done.new_signals) + done.skipped + done.deduplicated
        self._stats.skipped += done.skipped
        self._stats.deduplicated += done.deduplicated
        self._note_gateway(done)
        return done

    @staticmethod
    def _served(done: GenerationPass) -> GenerationPass:
        if not done.result.signals and done.gateway_error is not None:
            raise done.gateway_error  # nothing could be served, not even a stale signal
        return done

    def _broadcast(self, signals: list[Signal]) -> None:
        if not signals:
            return
        self._stats.published += len(signals)
        for signal in signals:
            SIGNALS_PUBLISHED.labels(action=signal.action.value).inc()
        self._broadcaster.publish(signals)

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
