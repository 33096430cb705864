"""The engine through bootstrap() with fakes: streams, pacing, tracing, config, shutdown."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import REGISTRY

from service_runtime.clock import FakeClock
from signal_engine.bootstrap import EngineWiring, bootstrap
from signal_engine.config import Settings
from signal_engine.domain import CacheStatus, GatewayUnavailable

from .conftest import PRICES
from .fakes import (
    FakeCalendar,
    FakeMarketData,
    FakeOutbox,
    FakeOwnership,
    FakeSignalSink,
    wavy_closes,
)

pytestmark = pytest.mark.asyncio


def move(market: FakeMarketData, symbol: str, pct: float) -> None:
    market.prices[symbol] *= 1 + pct / 100


async def test_gateway_failure_serves_last_signals_marked_stale(
    wiring: EngineWiring, market: FakeMarketData, sink: FakeSignalSink
):
    first = await wiring.app.run_cycle()
    market.quote_failure = GatewayUnavailable("market gateway GetQuotes: UNAVAILABLE")
    second = await wiring.app.generate()
    assert all(s.stale and not s.reused for s in second.signals)
    assert {s.signal_id for s in second.signals} == {s.signal_id for s in first.signals}
    latest, missing = wiring.app.latest(["AAPL", "AMZN"])
    assert latest[0].stale and missing == ["AMZN"]
    assert len(sink.recorded) == 6  # stale copies are not new signals
    market.quote_failure = None
    third = await wiring.app.generate()
    # stale ones are recomputed; the same data gives the same signals again, which are
    # not re-published (deduplication): the earlier ones come back, fresh
    assert not any(s.stale for s in third.signals) and all(s.reused for s in third.signals)
    assert {s.signal_id for s in third.signals} == {s.signal_id for s in first.signals}
    assert len(sink.recorded) == 6 and wiring.app.stats().signals_deduplicated_total == 6


async def test_a_quote_kept_stale_on_error_refreshes_nothing_but_a_revalidating_one_does(
    wiring: EngineWiring, market: FakeMarketData
):
    """Else signals would be presented as current while every provider is down (the
    gateway serving minutes-old cached quotes), or, the other way round, every quote the
    gateway serves while revalidating it would turn a healthy symbol's signal stale."""
    await wiring.app.run_cycle()
    market.quote_status = CacheStatus.STALE  # within stale-while-revalidate: current
    revalidating = await wiring.app.generate(force=True)
    assert revalidating.signals and not any(s.stale for s in revalidating.signals)
    assert not revalidating.failures
    market.quote_status = CacheStatus.STALE_ON_ERROR  # no provider answered
    kept = await wiring.app.generate(force=True)
    assert kept.signals and all(s.stale for s in kept.signals)


async def test_gateway_failure_with_nothing_to_serve_raises(
    wiring: EngineWiring, market: FakeMarketData
):
    market.quote_failure = GatewayUnavailable("down", retry_after_ms=1500)
    with pytest.raises(GatewayUnavailable) as caught:
        await wiring.app.generate()
    assert caught.value.retry_after_ms == 1500


async def test_per_symbol_failures_are_reported(wiring: EngineWiring, market: FakeMarketData):
    market.quote_errors = {"TSLA": "every provider failed"}
    market.set_closes("NVDA", wavy_closes(480.0, count=10))
    market.bars_failures["MSFT"] = GatewayUnavailable("market gateway GetBars: UNAVAILABLE")
    result = await wiring.app.generate(["AAPL", "TSLA", "NVDA", "MSFT", "ZZZZ"])
    assert [s.symbol for s in result.signals] == ["AAPL"]
    failures = {f.symbol: f.message for f in result.failures}
    assert failures["TSLA"] == "every provider failed"
    assert "10 bars" in failures["NVDA"] and "GetBars" in failures["MSFT"]
    assert failures["ZZZZ"] == "unknown symbol"


async def test_stream_subscribers_get_new_signals_of_their_symbols(
    wiring: EngineWiring, market: FakeMarketData, clock: FakeClock
):
    async with wiring.app.subscribe(["btc/usd"]) as subscription:
        await wiring.app.run_cycle()
        clock.advance(5)
        await wiring.app.run_cycle()  # all reused: nothing new to stream
        clock.advance(5)
        move(market, "BTC-USD", 2.0)
        await wiring.app.run_cycle()
        received = [await subscription.__anext__(), await subscription.__anext__()]
        assert [s.symbol for s in received] == ["BTC-USD", "BTC-USD"]
        assert received[0].signal_id != received[1].signal_id


async def test_run_cycles_paces_cycles_and_never_overlaps(
    wiring: EngineWiring, clock: FakeClock, market: FakeMarketData
):
    stop = asyncio.Event()
    starts: list[float] = []

    def on_quotes() -> None:
        starts.append(clock.monotonic())
        if len(starts) == 2:
            clock.advance(7.0)  # this cycle overruns the 5 s period
        if len(starts) == 4:
            stop.set()

    market.on_quotes = on_quotes
    await wiring.app.run_cycles(stop)
    assert starts == [0.0, 5.0, 12.0, 17.0]
    assert wiring.app.stats().cycles_total == 4


async def test_the_calendar_is_loaded_before_the_first_cycle_not_inside_it(
    settings: Settings,
    fakes: dict[str, object],
    clock: FakeClock,
    market: FakeMarketData,
    calendar: FakeCalendar,
):
    """Lost if it failed: the engine's first cycle would overrun its period by the ~1 s
    the NYSE session table takes to build, and count that as cycle latency."""

    class SlowFirstBuild:
        async def stocks_open(self, at: datetime) -> bool:
            if not calendar.asked:
                clock.advance(1.3)  # the child process building the table
            return await calendar.stocks_open(at)

    wiring = await bootstrap(settings, **{**fakes, "calendar": SlowFirstBuild()})  # type: ignore[arg-type]
    stop = asyncio.Event()
    asked_before_quotes: list[int] = []

    def on_quotes() -> None:
        asked_before_quotes.append(len(calendar.asked))
        stop.set()

    market.on_quotes = on_quotes
    try:
        await wiring.app.run_cycles(stop)
    finally:
        await wiring.exit_stack.aclose()
    assert asked_before_quotes == [1]
    assert wiring.app.stats().cycle_time_p99_ms < 1000


async def test_cycles_run_when_the_calendar_fails_and_crypto_alone_never_asks_it(
    settings: Settings, fakes: dict[str, object], market: FakeMarketData
):
    """Lost if it failed: a calendar error before the first cycle would stop the cycle loop
    (and so the pod); or a crypto-only engine would build the NYSE table for nothing."""

    class Broken:
        asked = 0

        async def stocks_open(self, at: datetime) -> bool:
            Broken.asked += 1
            raise RuntimeError("exchange-calendars failed")

    async def one_cycle(symbols: tuple[str, ...]) -> int:
        """Run the cycle loop for one cycle; how often the calendar was asked."""
        Broken.asked = 0
        engine = replace(settings, symbols=symbols)
        wiring = await bootstrap(engine, **{**fakes, "calendar": Broken()})  # type: ignore[arg-type]
        stop = asyncio.Event()
        market.on_quotes = stop.set
        try:
            await wiring.app.run_cycles(stop)
        finally:
            await wiring.exit_stack.aclose()
        assert wiring.app.stats().cycles_total == 1
        return Broken.asked

    assert any(not s.endswith("-USD") for s in settings.symbols)
    assert await one_cycle(settings.symbols) >= 1  # asked, failed, cycled all the same
    assert await one_cycle(("BTC-USD", "ETH-USD")) == 0


async def test_a_request_waits_for_the_running_cycle(wiring: EngineWiring, market: FakeMarketData):
    market.block_quotes = asyncio.Event()
    cycle = asyncio.create_task(wiring.app.run_cycle())
    await asyncio.sleep(0)
    request = asyncio.create_task(wiring.app.generate(["AAPL"]))
    for _ in range(5):
        await asyncio.sleep(0)
    assert len(market.quote_calls) == 1  # the request has not started its pass
    market.block_quotes.set()
    await asyncio.gather(cycle, request)
    assert len(market.quote_calls) == 2


async def test_cycle_metric_span_and_trace_id(settings: Settings, fakes: dict[str, object]):
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    wiring = await bootstrap(settings, tracer_provider=provider, **fakes)  # type: ignore[arg-type]
    metric = "argo_signal_generation_duration_seconds_count"
    before = REGISTRY.get_sample_value(metric) or 0.0
    result = await wiring.app.run_cycle()
    assert REGISTRY.get_sample_value(metric) == before + 1
    spans = {s.name: s for s in exporter.get_finished_spans()}
    cycle, generate = spans["signal_engine.cycle"], spans["signal_engine.generate"]
    assert generate.parent is not None and generate.parent.span_id == cycle.context.span_id
    trace_id = format(cycle.context.trace_id, "032x")
    assert {s.trace_id for s in result.signals} == {trace_id}
    await wiring.exit_stack.aclose()


async def test_performance_report_and_readiness(wiring: EngineWiring, market: FakeMarketData):
    await wiring.app.run_cycle()
    report = wiring.performance()
    for key in (
        "avg_signal_generation_time",
        "skip_rate",
        "total_skipped_symbols",
        "total_symbols_processed",
        "cycle_time_p50_ms",
        "cycle_time_p99_ms",
        "outbox_depth",
    ):
        assert key in report
    assert report["total_symbols_processed"] == 6
    assert report["symbols_owned"] == 6 and report["replica_id"] == "replica-a"
    assert wiring.service_names == ["argo.signals.v1.SignalEngine"]
    assert wiring.ready is not None and await wiring.ready()
    market.ready = False
    assert not await wiring.ready()


async def test_bad_config_is_rejected_and_the_last_good_one_stays(wiring: EngineWiring):
    assert wiring.apply_config is not None
    wiring.apply_config({"buy_threshold": 0.4})
    with pytest.raises(ValueError, match="sell_threshold"):
        wiring.apply_config({"sell_threshold": -1})
    assert wiring.app.tunables.buy_threshold == 0.4


async def test_latest_without_symbols_lists_every_signal(wiring: EngineWiring):
    assert wiring.app.latest() == ([], [])
    await wiring.app.run_cycle()
    signals, missing = wiring.app.latest()
    assert sorted(s.symbol for s in signals) == sorted(PRICES) and missing == []


async def test_shutdown_ends_streams_tries_once_more_keeps_the_rest_and_releases_leases(
    settings: Settings,
    fakes: dict[str, object],
    sink: FakeSignalSink,
    outbox: FakeOutbox,
    ownership: FakeOwnership,
):
    wiring = await bootstrap(settings, **fakes)  # type: ignore[arg-type]
    sink.failures_left = 1
    await wiring.app.run_cycle()
    assert sink.recorded == [] and wiring.app.delivery.tracker_away
    async with wiring.app.subscribe() as subscription:
        assert wiring.on_shutdown is not None
        await wiring.on_shutdown()
        assert [s async for s in subscription] == []  # the stream ended
    sink.down = True
    await wiring.exit_stack.aclose()
    assert outbox.depth == 6 and ownership.released  # kept for the next start
    sink.down = False
    again = await bootstrap(settings, **fakes)  # type: ignore[arg-type]
    await again.exit_stack.aclose()  # the next process's last attempt delivers them
    assert len(sink.recorded) == 6 and outbox.depth == 0
