"""Sentiment sources, calibration and deduplication, through the engine on fakes."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pytest
from prometheus_client import REGISTRY

from service_runtime.clock import FakeClock
from signal_engine.bootstrap import EngineWiring
from signal_engine.domain import CacheStatus, Calibration, SentimentVerdict, Signal

from .fakes import FakeCalibrations, FakeMarketData, FakeSignalSink

pytestmark = pytest.mark.asyncio


def verdict(provider: str, score: float, time: datetime, confidence: float = 0.8):
    return SentimentVerdict(
        symbol="AAPL",
        provider=provider,
        score=score,
        confidence=confidence,
        time=time,
        cache_status=CacheStatus.HIT_SHARED,
    )


def sums_hold(signal: Signal) -> bool:
    raw = math.fsum(p.raw_contribution for p in signal.lineage)
    calibrated = math.fsum(p.contribution for p in signal.lineage)
    return abs(raw - signal.raw_confidence) <= 1e-9 and abs(calibrated - signal.confidence) <= 1e-9


def recomputes(component: str) -> float:
    name = "argo_signal_engine_component_recomputes_total"
    return REGISTRY.get_sample_value(name, {"component": component}) or 0.0


async def test_each_ai_provider_is_a_source_and_new_sentiment_is_a_changed_input(
    wiring: EngineWiring, market: FakeMarketData, clock: FakeClock
):
    market.sentiment["AAPL"] = verdict("xai", 0.9, clock.now() - timedelta(seconds=30))
    first = (await wiring.app.generate(["AAPL"])).signals[0]
    parts = {p.source: p for p in first.lineage}
    assert parts["sentiment:xai"].provider == "xai"
    assert parts["sentiment:xai"].direction == 0.9
    assert parts["sentiment:xai"].data_age_ms == 30_000
    assert parts["sentiment:xai"].cache_status is CacheStatus.HIT_SHARED
    assert sums_hold(first)
    clock.advance(30)  # sentiment not yet due again: the signal stands
    assert (await wiring.app.generate(["AAPL"])).signals[0].reused
    assert market.sentiment_calls == ["AAPL"]
    clock.advance(31)  # due again, same verdict: still nothing changed
    assert (await wiring.app.generate(["AAPL"])).signals[0].reused
    sentiment = recomputes("sentiment")
    clock.advance(61)  # another provider answers this time: a new input
    market.sentiment["AAPL"] = verdict("perplexity", -0.7, clock.now())
    third = (await wiring.app.generate(["AAPL"])).signals[0]
    assert not third.reused and third.signal_id != first.signal_id
    sources = [p.source for p in third.lineage]
    assert "sentiment:perplexity" in sources and "sentiment:xai" in sources
    assert recomputes("sentiment") == sentiment + 1 and sums_hold(third)


async def test_old_verdicts_stop_counting(
    wiring: EngineWiring, market: FakeMarketData, clock: FakeClock
):
    assert wiring.apply_config is not None
    wiring.apply_config({"sentiment_max_age_seconds": 120, "quiet_volatility_pct": 0})
    market.sentiment["AAPL"] = verdict("xai", 0.9, clock.now())
    first = (await wiring.app.generate(["AAPL"])).signals[0]
    assert "sentiment:xai" in [p.source for p in first.lineage]
    del market.sentiment["AAPL"]  # the gateway has nothing new
    clock.advance(121)
    second = (await wiring.app.generate(["AAPL"])).signals[0]
    assert not second.reused
    assert [p.source for p in second.lineage if p.source.startswith("sentiment")] == []


async def test_a_gateway_without_sentiment_is_no_input_and_asked_again_later(
    wiring: EngineWiring, market: FakeMarketData, clock: FakeClock
):
    market.sentiment_unsupported = True
    result = await wiring.app.run_cycle()
    assert len(result.signals) == 6 and result.failures == []
    assert not any(p.source.startswith("sentiment") for s in result.signals for p in s.lineage)
    asked = len(market.sentiment_calls)
    assert 1 <= asked <= 6
    for _ in range(12):  # a minute of cycles: the engine does not ask again
        clock.advance(5)
        await wiring.app.run_cycle()
    assert len(market.sentiment_calls) == asked
    clock.advance(600)
    await wiring.app.run_cycle()
    assert len(market.sentiment_calls) > asked


async def test_calibration_maps_raw_confidence_and_both_are_kept(
    wiring: EngineWiring, calibrations: FakeCalibrations, clock: FakeClock
):
    calibrations.by_symbol["AAPL"] = Calibration(
        symbol="AAPL", points=((0.0, 0.2), (50.0, 0.4), (100.0, 0.6))
    )
    signal = (await wiring.app.generate(["AAPL"])).signals[0]
    expected = 100 * (0.2 + 0.2 * signal.raw_confidence / 50.0)
    if signal.raw_confidence > 50.0:
        expected = 100 * (0.4 + 0.2 * (signal.raw_confidence - 50.0) / 50.0)
    assert signal.confidence == pytest.approx(expected, abs=1e-9)
    assert signal.confidence != signal.raw_confidence and sums_hold(signal)
    other = (await wiring.app.generate(["MSFT"], force=True)).signals[0]
    assert other.confidence == other.raw_confidence  # no calibration fitted for MSFT
    assert calibrations.calls == ["AAPL", "MSFT"]


async def test_calibrations_are_cached_refreshed_and_kept_when_the_tracker_is_away(
    wiring: EngineWiring, calibrations: FakeCalibrations, clock: FakeClock
):
    calibrations.by_symbol["AAPL"] = Calibration(symbol="AAPL", points=((0.0, 0.5),))
    await wiring.app.generate(["AAPL"])
    clock.advance(100)
    assert (await wiring.app.generate(["AAPL"], force=True)).signals[0].confidence == 50.0
    assert calibrations.calls == ["AAPL"]  # cached
    clock.advance(200)  # 300 s: due for a refresh, but the tracker is away
    calibrations.down = True
    refreshed = (await wiring.app.generate(["AAPL"], force=True)).signals[0]
    assert calibrations.calls == ["AAPL", "AAPL"] and refreshed.confidence == 50.0
    calibrations.down = False
    calibrations.by_symbol["AAPL"] = Calibration(symbol="AAPL", points=((0.0, 0.25),))
    clock.advance(61)  # a failed refresh is retried after a minute
    latest = (await wiring.app.generate(["AAPL"], force=True)).signals[0]
    assert latest.confidence == 25.0


async def test_identical_consecutive_signals_are_not_republished_within_the_window(
    wiring: EngineWiring, market: FakeMarketData, clock: FakeClock, sink: FakeSignalSink
):
    assert wiring.apply_config is not None
    wiring.apply_config(
        {"dedup_window_seconds": 120, "quiet_volatility_pct": 0, "sentiment_in_background": False}
    )
    market.sentiment["AAPL"] = verdict("xai", 0.5, clock.now())
    first = (await wiring.app.generate(["AAPL"])).signals[0]
    clock.advance(61)
    # a fresh verdict saying the same: inputs changed, the result did not
    market.sentiment["AAPL"] = verdict("xai", 0.5, clock.now())
    second = (await wiring.app.generate(["AAPL"])).signals[0]
    assert second.reused and second.signal_id == first.signal_id
    clock.advance(60)  # 121 s after the first: the window is over
    market.sentiment["AAPL"] = verdict("xai", 0.5, clock.now())
    third = (await wiring.app.generate(["AAPL"])).signals[0]
    assert not third.reused  # the same signal again, published anew
    forced = (await wiring.app.generate(["AAPL"], force=True)).signals[0]
    assert not forced.reused  # a forced pass publishes even an identical signal
    recorded = [s.signal_id for s in sink.recorded]
    assert recorded == [first.signal_id, third.signal_id, forced.signal_id]
    assert wiring.app.stats().signals_deduplicated_total == 1
