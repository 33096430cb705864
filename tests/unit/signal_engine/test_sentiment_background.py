"""`sentiment_in_background` (the default): a held verdict is refreshed by a task of its
own, so a pass never waits for the AI; a symbol's first verdict is waited for."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from service_runtime.clock import FakeClock
from signal_engine.bootstrap import EngineWiring
from signal_engine.config import parse_tunables
from signal_engine.domain import CacheStatus, SentimentVerdict, Tunables

from .conftest import PRICES
from .fakes import FakeMarketData

pytestmark = pytest.mark.asyncio


@pytest.fixture
def tunables() -> Tunables:
    return Tunables(quiet_volatility_pct=0.0)  # sentiment_in_background left at its default


@pytest.fixture
def market(clock: FakeClock) -> SlowSentiment:
    return SlowSentiment(clock)


class SlowSentiment(FakeMarketData):
    """Answers the first sentiment call at once; later ones wait until `release` is set."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock.now, PRICES)
        self.release = asyncio.Event()

    async def get_sentiment(self, symbol: str) -> SentimentVerdict:
        answer = await super().get_sentiment(symbol)
        if len(self.sentiment_calls) > 1:
            await self.release.wait()
        return answer


def verdict(score: float, time: datetime) -> SentimentVerdict:
    return SentimentVerdict(
        symbol="AAPL",
        provider="xai",
        score=score,
        confidence=0.8,
        time=time,
        cache_status=CacheStatus.HIT_SHARED,
    )


def xai_direction(signal: object) -> float:
    lineage = getattr(signal, "lineage", ())
    return next(p.direction for p in lineage if p.source == "sentiment:xai")


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_a_pass_uses_the_held_verdict_while_the_refresh_runs_in_the_background(
    wiring: EngineWiring, market: SlowSentiment, clock: FakeClock
) -> None:
    slow = market
    market.sentiment["AAPL"] = verdict(0.9, clock.now())
    first = (await wiring.app.generate(["AAPL"])).signals[0]
    assert xai_direction(first) == 0.9  # the first verdict was waited for
    clock.advance(61)  # due again; the AI is slow now
    slow.sentiment["AAPL"] = verdict(-0.9, clock.now())
    second = (await asyncio.wait_for(wiring.app.generate(["AAPL"]), 1)).signals[0]
    await settle()
    assert xai_direction(second) == 0.9 and len(slow.sentiment_calls) == 2
    third = (await wiring.app.generate(["AAPL"])).signals[0]
    assert len(slow.sentiment_calls) == 2  # in flight: not asked again
    assert xai_direction(third) == 0.9
    slow.release.set()
    await settle()
    fourth = (await wiring.app.generate(["AAPL"])).signals[0]
    assert not fourth.reused and xai_direction(fourth) == -0.9  # a changed input


async def test_background_refreshes_are_cancelled_at_shutdown(
    wiring: EngineWiring, market: SlowSentiment, clock: FakeClock
) -> None:
    market.sentiment["AAPL"] = verdict(0.9, clock.now())
    await wiring.app.generate(["AAPL"])
    clock.advance(61)
    await wiring.app.generate(["AAPL"])  # starts a refresh that never ends by itself
    await settle()
    assert len(market.sentiment_calls) == 2
    await asyncio.wait_for(wiring.app.aclose(), 1)  # cancels it instead of waiting


async def test_without_the_switch_the_pass_waits_for_the_refresh(
    wiring: EngineWiring, market: SlowSentiment, clock: FakeClock
) -> None:
    market.release.set()
    assert wiring.apply_config is not None
    wiring.apply_config({"quiet_volatility_pct": 0, "sentiment_in_background": False})
    market.sentiment["AAPL"] = verdict(0.9, clock.now())
    await wiring.app.generate(["AAPL"])
    clock.advance(61)
    market.sentiment["AAPL"] = verdict(-0.9, clock.now())
    second = (await wiring.app.generate(["AAPL"])).signals[0]
    assert xai_direction(second) == -0.9


async def test_the_switch_is_a_boolean_in_the_yaml() -> None:
    assert not parse_tunables({"sentiment_in_background": False}).sentiment_in_background
    assert parse_tunables({}).sentiment_in_background
    with pytest.raises(ValueError, match="sentiment_in_background"):
        parse_tunables({"sentiment_in_background": "no"})
