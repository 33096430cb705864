"""The engine through bootstrap() with fake market data, a fake tracker and a FakeClock."""

from __future__ import annotations

import asyncio

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import REGISTRY

from service_runtime.clock import FakeClock
from signal_engine.bootstrap import EngineWiring, bootstrap
from signal_engine.config import Settings
from signal_engine.domain import GatewayUnavailable, InsufficientHistory

from .conftest import PRICES, SYMBOLS
from .fakes import FakeMarketData, FakeSignalSink, SequentialIds, wavy_closes

pytestmark = pytest.mark.asyncio


def _move(market: FakeMarketData, symbol: str, pct: float) -> None:
    market.prices[symbol] *= 1 + pct / 100


async def test_one_batched_quote_call_per_cycle(wiring: EngineWiring, market: FakeMarketData):
    result = await wiring.app.run_cycle()
    await wiring.app.run_cycle()
    assert market.quote_calls == [list(SYMBOLS), list(SYMBOLS)]
    assert sorted(s.symbol for s in result.signals) == sorted(SYMBOLS)
    assert result.failures == []


async def test_unchanged_prices_are_skipped_and_reuse_the_signal(
    wiring: EngineWiring, market: FakeMarketData, clock: FakeClock
):
    first = await wiring.app.run_cycle()
    clock.advance(5)
    _move(market, "AAPL", 0.3)  # below the 0.5% threshold
    second = await wiring.app.run_cycle()
    assert all(s.reused for s in second.signals)
    assert {s.signal_id for s in second.signals} == {s.signal_id for s in first.signals}
    assert len(market.bars_calls) == len(SYMBOLS)  # no bars fetched for skipped symbols
    stats = wiring.app.stats()
    assert (stats.symbols_processed_total, stats.symbols_skipped_total) == (12, 6)
    assert stats.skip_rate == pytest.approx(0.5)
    assert stats.upstream_calls_per_cycle == pytest.approx((1 + 6 + 1) / 2)
    assert stats.cycles_total == 2 and stats.signals_published_total == 6


async def test_a_move_of_half_a_percent_recomputes_only_that_symbol(
    wiring: EngineWiring, market: FakeMarketData
):
    first = await wiring.app.run_cycle()
    market.bars_calls.clear()
    _move(market, "TSLA", -0.6)
    second = await wiring.app.run_cycle()
    assert market.bars_calls == ["TSLA"]
    fresh = [s for s in second.signals if not s.reused]
    assert [s.symbol for s in fresh] == ["TSLA"]
    assert fresh[0].signal_id not in {s.signal_id for s in first.signals}


async def test_expired_signals_and_force_and_new_tunables_recompute(
    wiring: EngineWiring, market: FakeMarketData, clock: FakeClock
):
    app = wiring.app
    await app.run_cycle()
    clock.advance(app.tunables.horizon_seconds)
    assert not any(s.reused for s in (await app.run_cycle()).signals)
    assert not any(s.reused for s in (await app.generate(["AAPL"], force=True)).signals)
    assert all(s.reused for s in (await app.generate(["AAPL"])).signals)
    assert wiring.apply_config is not None
    wiring.apply_config({"weights": {"rsi": 0.5}})
    assert not any(s.reused for s in (await app.generate(["AAPL"])).signals)


async def test_most_volatile_symbol_is_processed_first(
    wiring: EngineWiring, market: FakeMarketData
):
    await wiring.app.run_cycle()
    market.bars_calls.clear()
    for symbol, pct in {"MSFT": 0.8, "ETH-USD": -3.0, "AAPL": 1.5}.items():
        _move(market, symbol, pct)
    result = await wiring.app.run_cycle()
    assert market.bars_calls == ["ETH-USD", "AAPL", "MSFT"]
    assert [s.symbol for s in result.signals][:3] == ["ETH-USD", "AAPL", "MSFT"]


async def test_sink_failure_then_recovery_delivers_each_signal_exactly_once(
    wiring: EngineWiring, sink: FakeSignalSink, market: FakeMarketData, clock: FakeClock
):
    sink.failures_left = 1
    first = await wiring.app.run_cycle()
    assert sink.recorded == [] and wiring.app.stats().pending_deliveries == 6
    assert await wiring.app.deliver_pending() == 0  # backing off: no new attempt yet
    assert sink.calls == 1
    clock.advance(5)
    _move(market, "NVDA", 1.0)
    second = await wiring.app.run_cycle()
    new_ids = {s.signal_id for s in first.signals} | {s.signal_id for s in second.signals}
    recorded = [s.signal_id for s in sink.recorded]
    assert sorted(recorded) == sorted(new_ids) and len(recorded) == 7
    assert wiring.app.stats().pending_deliveries == 0
    assert not any(s.reused for s in sink.recorded)


async def test_a_rejected_signal_is_dropped_and_the_rest_delivered(
    wiring: EngineWiring, sink: FakeSignalSink, ids: SequentialIds
):
    sink.rejected_ids = {"00000000-0000-4000-8000-000000000003"}
    await wiring.app.run_cycle()
    assert len(sink.recorded) == 5
    assert wiring.app.stats().pending_deliveries == 0


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
    assert not any(s.stale or s.reused for s in third.signals)  # stale ones are recomputed


async def test_gateway_failure_with_nothing_to_serve_raises(
    wiring: EngineWiring, market: FakeMarketData
):
    market.quote_failure = GatewayUnavailable("down", retry_after_ms=1500)
    with pytest.raises(GatewayUnavailable) as caught:
        await wiring.app.generate()
    assert caught.value.retry_after_ms == 1500


async def test_per_symbol_failures_are_reported(wiring: EngineWiring, market: FakeMarketData):
    market.quote_errors = {"TSLA": "every provider failed"}
    market.closes["NVDA"] = wavy_closes(480.0, count=10)
    market.bars_failures["MSFT"] = InsufficientHistory("0 bars, need at least 15")
    result = await wiring.app.generate(["AAPL", "TSLA", "NVDA", "MSFT", "ZZZZ"])
    assert [s.symbol for s in result.signals] == ["AAPL"]
    failures = {f.symbol: f.message for f in result.failures}
    assert failures["TSLA"] == "every provider failed"
    assert "10 bars" in failures["NVDA"] and "0 bars" in failures["MSFT"]
    assert failures["ZZZZ"] == "unknown symbol"


async def test_stream_subscribers_get_new_signals_of_their_symbols(
    wiring: EngineWiring, market: FakeMarketData
):
    async with wiring.app.subscribe(["btc/usd"]) as subscription:
        await wiring.app.run_cycle()
        await wiring.app.run_cycle()  # all reused: nothing new to stream
        _move(market, "BTC-USD", 2.0)
        await wiring.app.run_cycle()
        received = [await subscription.__anext__(), await subscription.__anext__()]
        assert [s.symbol for s in received] == ["BTC-USD", "BTC-USD"]
        assert received[0].signal_id != received[1].signal_id


async def test_run_cycles_paces_cycles_and_never_overlaps(
    settings: Settings, clock: FakeClock, market: FakeMarketData, sink: FakeSignalSink
):
    wiring = await bootstrap(settings, clock=clock, market=market, sink=sink)
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
    await wiring.exit_stack.aclose()


async def test_cycle_metric_span_and_trace_id(
    settings: Settings, clock: FakeClock, market: FakeMarketData, sink: FakeSignalSink
):
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    wiring = await bootstrap(
        settings, clock=clock, market=market, sink=sink, tracer_provider=provider
    )
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
        "pending_deliveries",
    ):
        assert key in report
    assert report["total_symbols_processed"] == 6
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


async def test_bars_are_fetched_with_bounded_concurrency(
    wiring: EngineWiring, market: FakeMarketData
):
    assert wiring.apply_config is not None
    wiring.apply_config({"max_concurrency": 2})
    await wiring.app.run_cycle()
    assert len(market.bars_calls) == 6 and market.max_bars_in_flight == 2


async def test_shutdown_makes_a_last_delivery_attempt_despite_backoff(
    settings: Settings, clock: FakeClock, market: FakeMarketData, sink: FakeSignalSink
):
    wiring = await bootstrap(settings, clock=clock, market=market, sink=sink)
    sink.failures_left = 1
    await wiring.app.run_cycle()
    assert sink.recorded == []
    async with wiring.app.subscribe() as subscription:
        await wiring.exit_stack.aclose()
        assert [s async for s in subscription] == []  # the stream ended
    assert len(sink.recorded) == 6
