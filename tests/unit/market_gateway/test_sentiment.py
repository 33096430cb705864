"""GetSentiment: AI providers behind guards, aggregated, cached; through bootstrap."""

from __future__ import annotations

import grpc
import pytest

from argo.marketdata.v1 import marketdata_pb2 as pb
from market_gateway.adapters.calendar import NyseCalendar
from market_gateway.bootstrap import GatewayWiring, bootstrap
from market_gateway.config import Settings, load_settings
from market_gateway.domain import CacheStatus, ProviderUnavailable, RateLimited
from service_runtime.clock import FakeClock

from .conftest import IN_SESSION, PRICES, unit_tunables
from .fakes import FakeQuoteSource, FakeSentimentSource, unavailable
from .test_servicer import rpc_error, serving

pytestmark = pytest.mark.asyncio


async def wire(
    settings: Settings, nyse: NyseCalendar, ai: list[FakeSentimentSource], **raw: object
) -> GatewayWiring:
    clock = FakeClock(IN_SESSION)
    return await bootstrap(
        settings,
        clock=clock,
        source=FakeQuoteSource(clock, PRICES),
        sentiment=ai,
        calendar=nyse,
        tunables=unit_tunables(**raw),
    )


def fakes(*spec: tuple[str, float]) -> list[FakeSentimentSource]:
    clock = FakeClock(IN_SESSION)
    return [FakeSentimentSource(clock, name, confidence=c) for name, c in spec]


async def test_verdicts_are_aggregated_then_cached(settings: Settings, nyse: NyseCalendar) -> None:
    ai = fakes(("xai", 0.6), ("perplexity", 0.9))
    wiring = await wire(settings, nyse, ai)
    first = await wiring.app.get_sentiment("aapl")
    assert first.symbol == "AAPL" and first.provider in ("xai", "perplexity")
    assert first.cache_status is CacheStatus.MISS
    again = await wiring.app.get_sentiment("AAPL")
    assert again.cache_status is CacheStatus.HIT_LOCAL and again.provider == first.provider
    assert sum(len(f.calls) for f in ai) <= 2 and all(len(f.calls) <= 1 for f in ai)
    await wiring.exit_stack.aclose()


async def test_the_most_confident_mode_asks_everyone(nyse: NyseCalendar) -> None:
    ai = fakes(("xai", 0.6), ("perplexity", 0.9), ("glm", 0.9))
    settings = load_settings({"AI_SENTIMENT_MODE": "most_confident"})
    wiring = await wire(settings, nyse, ai)
    verdict = await wiring.app.get_sentiment("BTC-USD")
    assert verdict.provider == "perplexity"  # ties go to the earlier provider
    assert [len(f.calls) for f in ai] == [1, 1, 1]
    await wiring.exit_stack.aclose()


async def test_without_hedging_providers_are_asked_in_order_until_one_answers(
    settings: Settings, nyse: NyseCalendar
) -> None:
    ai = fakes(("xai", 0.6), ("perplexity", 0.9), ("glm", 0.5))
    ai[1].failure = unavailable()
    wiring = await wire(
        settings,
        nyse,
        ai,
        optimizations={"hedging": False},
        routing={"sentiment": ["perplexity", "glm", "xai"]},
    )
    verdict = await wiring.app.get_sentiment("AAPL")
    assert verdict.provider == "glm" and [len(f.calls) for f in ai] == [0, 1, 1]
    await wiring.exit_stack.aclose()


async def test_without_a_single_source_every_provider_is_asked(
    settings: Settings, nyse: NyseCalendar
) -> None:
    ai = fakes(("xai", 0.6), ("perplexity", 0.9))
    off = {"hedging": False, "single_source": False, "cache": False}
    wiring = await wire(settings, nyse, ai, optimizations=off)
    for _ in range(2):
        assert (await wiring.app.get_sentiment("AAPL")).provider == "perplexity"
    assert [len(f.calls) for f in ai] == [2, 2]  # per source, per request, uncached
    await wiring.exit_stack.aclose()


async def test_every_provider_out_of_quota_is_rate_limited(
    settings: Settings, nyse: NyseCalendar
) -> None:
    ai = fakes(("xai", 0.6), ("perplexity", 0.9))
    ai[0].failure = RateLimited("xai: 429", retry_after=3)
    ai[1].failure = RateLimited("perplexity: 429", retry_after=7)
    wiring = await wire(settings, nyse, ai)
    with pytest.raises(RateLimited) as caught:
        await wiring.app.get_sentiment("AAPL")
    assert caught.value.retry_after == 3
    async with serving(wiring) as stub:
        error = await rpc_error(stub.GetSentiment(pb.GetSentimentRequest(symbol="MSFT"), timeout=5))
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    pushback = dict(error.trailing_metadata() or ())["retry-after-ms"]
    assert 0 < int(pushback) <= 3000  # the limiters hold both providers paused meanwhile
    await wiring.exit_stack.aclose()


async def test_sentiment_over_grpc_says_provider_cache_status_and_age(
    settings: Settings, nyse: NyseCalendar
) -> None:
    ai = fakes(("xai", 0.7))
    wiring = await wire(settings, nyse, ai)
    async with serving(wiring) as stub:
        reply = await stub.GetSentiment(pb.GetSentimentRequest(symbol="eth/usd"), timeout=5)
        again = await stub.GetSentiment(pb.GetSentimentRequest(symbol="ETH-USD"), timeout=5)
    assert (reply.symbol, reply.provider, reply.confidence) == ("ETH-USD", "xai", 0.7)
    assert reply.rationale == "xai thinks so" and reply.cache_status == pb.CACHE_STATUS_MISS
    assert again.cache_status == pb.CACHE_STATUS_HIT_LOCAL and again.age_ms == 0
    await wiring.exit_stack.aclose()


async def test_disabled_ai_providers_are_unavailable_by_configuration(
    settings: Settings, nyse: NyseCalendar
) -> None:
    ai = fakes(("xai", 0.7))
    wiring = await wire(settings, nyse, ai, providers={"xai": {"enabled": False}})
    with pytest.raises(ProviderUnavailable, match="disabled by configuration"):
        await wiring.app.get_sentiment("AAPL")
    await wiring.exit_stack.aclose()
