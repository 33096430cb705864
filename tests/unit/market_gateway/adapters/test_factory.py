"""build_sources and bootstrap: enabled providers become adapters whose clients the exit
stack closes; the app serves the first one, and a rejected quote is reported as bad data."""

from __future__ import annotations

import copy
import json
from contextlib import AsyncExitStack
from datetime import timedelta

import httpx
import pytest

from market_gateway.adapters.ai_chat.aggregate import SentimentAggregator, SentimentMode
from market_gateway.adapters.alpaca.stream import AlpacaStream
from market_gateway.adapters.factory import build_sources
from market_gateway.adapters.polygon.client import PolygonClient
from market_gateway.adapters.polygon.stream import PolygonStream
from market_gateway.bootstrap import bootstrap
from market_gateway.config import load_settings
from market_gateway.domain import ErrorReason, parse_symbol
from service_runtime.clock import FakeClock

from ..conftest import IN_SESSION
from .support import Router, load

ENV = {
    "POLYGON_API_KEY": "pg-key",
    "ALPACA_API_KEY_ID": "alp-id",
    "ALPACA_API_SECRET_KEY": "alp-secret",
    "YAHOO_ENABLED": "true",
    "XAI_API_KEY": "xai-key",
    "DEEPSEEK_API_KEY": "ds-key",
    "AI_SENTIMENT_MODE": "most_confident",
}


@pytest.mark.asyncio
async def test_enabled_providers_become_adapters_in_preference_order() -> None:
    settings = load_settings(ENV)
    async with AsyncExitStack() as stack:
        sources = build_sources(settings.providers, clock=FakeClock(IN_SESSION), exit_stack=stack)
        assert [s.name for s in sources.quotes] == ["polygon", "alpaca", "yahoo"]
        assert [type(s) for s in sources.streams] == [PolygonStream, AlpacaStream]
        assert isinstance(sources.sentiment, SentimentAggregator)
        assert sources.sentiment.providers == ["xai", "deepseek"]
        assert sources.sentiment.mode is SentimentMode.MOST_CONFIDENT
    assert (
        build_sources(
            load_settings({}).providers, clock=FakeClock(IN_SESSION), exit_stack=stack
        ).quotes
        == []
    )


@pytest.mark.asyncio
async def test_clients_use_header_auth_and_are_closed_by_the_exit_stack() -> None:
    router = Router().json(
        "/v2/snapshot/locale/us/markets/stocks/tickers",
        load("polygon", "rest-snapshot-stocks-tickers.json"),
    )
    settings = load_settings({"POLYGON_API_KEY": "pg-key"})
    stack = AsyncExitStack()
    sources = build_sources(
        settings.providers,
        clock=FakeClock(IN_SESSION),
        exit_stack=stack,
        transport=router.transport(),
    )
    polygon = sources.quotes[0]
    assert isinstance(polygon, PolygonClient)
    await polygon.get_quotes([parse_symbol("BCAT")])
    request = router.requests[0]
    assert (
        request.url.host == "api.massive.com"
        and request.headers["authorization"] == "Bearer pg-key"
    )
    await stack.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await polygon.get_quotes([parse_symbol("BCAT")])


@pytest.mark.asyncio
async def test_ai_clients_post_to_each_providers_chat_endpoint() -> None:
    verdict = '{"score": -0.2, "confidence": 0.6, "rationale": "Weak guidance."}'
    seen: list[httpx.Request] = []

    def respond(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = {
            "model": "m",
            "choices": [{"message": {"content": verdict}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5},
        }
        return httpx.Response(200, json=body)

    settings = load_settings({"XAI_API_KEY": "xai-key", "QWEN_API_KEY": "qwen-key"})
    async with AsyncExitStack() as stack:
        sources = build_sources(
            settings.providers,
            clock=FakeClock(IN_SESSION),
            exit_stack=stack,
            transport=httpx.MockTransport(respond),
        )
        assert sources.sentiment is not None
        sentiment = await sources.sentiment.get_sentiment(parse_symbol("AAPL"))
    assert sentiment.score == -0.2 and sentiment.provider in ("xai", "qwen")
    urls = sorted(str(r.url) for r in seen)
    assert urls == [
        "https://api.x.ai/v1/chat/completions",
        "https://dashscope-intl.aliyuncs.com/compatible-mode/v1/chat/completions",
    ]
    assert sources.ai_ledger.totals(sentiment.provider).prompt_tokens == 10
    assert json.loads(seen[0].content)["model"] in ("grok-3-mini", "qwen-plus")


@pytest.mark.asyncio
async def test_bootstrap_serves_the_enabled_providers_then_the_synthetic_fallback() -> None:
    wiring = await bootstrap(
        load_settings({"ALPHAVANTAGE_API_KEY": "av"}), clock=FakeClock(IN_SESSION)
    )
    try:
        assert [p.name for p in wiring.app.router.quotes()] == ["alphavantage", "synthetic"]
        assert [s.name for s in wiring.sources.quotes] == ["alphavantage"]
        enabled = [s.name for s in await wiring.app.provider_status() if s.enabled]
        assert enabled == ["alphavantage", "synthetic"]
    finally:
        await wiring.exit_stack.aclose()


@pytest.mark.asyncio
async def test_bootstrap_without_providers_serves_the_synthetic_market() -> None:
    wiring = await bootstrap(load_settings({}), clock=FakeClock(IN_SESSION))
    assert [p.name for p in wiring.app.router.quotes()] == ["synthetic"]
    statuses = await wiring.app.provider_status()
    assert [s.name for s in statuses if s.enabled] == ["synthetic"]
    assert {s.name for s in statuses if not s.enabled} >= {"polygon", "xai"}
    assert wiring.sources.quotes == [] and wiring.sources.sentiment is None
    await wiring.exit_stack.aclose()


@pytest.mark.asyncio
async def test_a_quote_rejected_by_the_adapter_is_bad_data_for_that_symbol_only() -> None:
    clock = FakeClock(IN_SESSION)
    body = copy.deepcopy(load("polygon", "rest-snapshot-stocks-tickers.json"))
    good = body["tickers"][0]
    good["lastTrade"]["t"] = int((IN_SESSION - timedelta(seconds=1)).timestamp() * 1e9)
    future = copy.deepcopy(good) | {"ticker": "MSFT"}
    future["lastTrade"] = good["lastTrade"] | {
        "t": int((IN_SESSION + timedelta(hours=1)).timestamp() * 1e9)
    }
    body["tickers"].append(future)
    router = Router().json("/v2/snapshot/locale/us/markets/stocks/tickers", body)
    async with AsyncExitStack() as stack:
        sources = build_sources(
            load_settings({"POLYGON_API_KEY": "k"}).providers,
            clock=clock,
            exit_stack=stack,
            transport=router.transport(),
        )
        wiring = await bootstrap(load_settings({}), clock=clock, source=sources.quotes[0])
        quotes, errors = await wiring.app.get_quotes(["BCAT", "msft"])
    assert [(q.symbol, q.provider) for q in quotes] == [("BCAT", "polygon")]
    assert [(e.symbol, e.reason) for e in errors] == [("msft", ErrorReason.BAD_DATA)]
    assert "future" in errors[0].message
