"""Every provider adapter against tools/provider_sim, started in-process on free ports.

The adapters are built exactly as the gateway builds them: `build_sources` over the
variables the simulator hands out (`sim.env()`), talking real HTTP and WebSocket to it.
The simulator's clock is the adapters' clock, a FakeClock inside an NYSE session.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio

from market_gateway.adapters.ai_chat.aggregate import SentimentAggregator
from market_gateway.adapters.ai_chat.client import ChatSentimentClient
from market_gateway.adapters.alpaca.client import AlpacaClient
from market_gateway.adapters.alphavantage.client import AlphaVantageClient
from market_gateway.adapters.calendar import NyseCalendar
from market_gateway.adapters.factory import Sources, build_sources
from market_gateway.adapters.polygon.client import PolygonClient
from market_gateway.adapters.yahoo.client import YahooClient
from market_gateway.config import load_settings
from market_gateway.domain import (
    Backfilled,
    FeedEvent,
    FeedGap,
    QuoteUpdate,
    RateLimited,
    Timeframe,
    UnknownSymbol,
    parse_symbol,
)
from service_runtime.clock import FakeClock
from tools.provider_sim import ProviderSimulator, SimConfig
from tools.provider_sim.config import deep_merge

pytestmark = pytest.mark.integration

# Tuesday 2026-11-17 10:30 New York: the stock market is open.
SESSION = datetime(2026, 11, 17, 15, 30, tzinfo=UTC)
FAST: dict[str, Any] = {
    "defaults": {"latency": {"median_ms": 0}, "stream": {"interval_ms": 20}},
    "providers": {"yahoo": {"null_gap_rate": 0.0}},
}
AAPL, MSFT, BTC = parse_symbol("AAPL"), parse_symbol("MSFT"), parse_symbol("BTC-USD")


@dataclass
class Rig:
    sim: ProviderSimulator
    clock: FakeClock
    sources: Sources

    def source(self, name: str) -> Any:
        return next(s for s in self.sources.quotes if s.name == name)

    def calls(self, provider: str) -> dict[str, Any]:
        snapshot: dict[str, Any] = self.sim.counters.snapshot()
        return snapshot["providers"].get(provider, {"calls": 0, "endpoints": {}})


@pytest.fixture(scope="module")
def calendar() -> NyseCalendar:
    return NyseCalendar.build(2020, 2030)


async def start(
    calendar: NyseCalendar, config: Mapping[str, Any] | None = None
) -> tuple[ProviderSimulator, FakeClock]:
    clock = FakeClock(SESSION)
    sim = ProviderSimulator(
        SimConfig.parse(deep_merge(FAST, config or {})), clock=clock, calendar=calendar, port=0
    )
    await sim.start()
    return sim, clock


@pytest_asyncio.fixture
async def rig(calendar: NyseCalendar) -> AsyncIterator[Rig]:
    sim, clock = await start(calendar)
    env = sim.env() | {"YAHOO_ENABLED": "true", "AI_SENTIMENT_MODE": "most_confident"}
    async with AsyncExitStack() as stack:
        stack.push_async_callback(sim.stop)
        sources = build_sources(load_settings(env).providers, clock=clock, exit_stack=stack)
        yield Rig(sim, clock, sources)


def test_the_simulators_variables_enable_every_provider(rig: Rig) -> None:
    assert [s.name for s in rig.sources.quotes] == ["polygon", "alpaca", "alphavantage", "yahoo"]
    assert [s.name for s in rig.sources.streams] == ["polygon", "alpaca"]
    assert isinstance(rig.sources.sentiment, SentimentAggregator)
    assert rig.sources.sentiment.providers == ["xai", "perplexity", "deepseek", "qwen", "glm"]


@pytest.mark.asyncio
async def test_polygon_batches_quotes_into_one_snapshot_call_per_asset_class(rig: Rig) -> None:
    polygon: PolygonClient = rig.source("polygon")
    batch = await polygon.get_quotes([AAPL, MSFT, BTC, parse_symbol("ZZZZ")])
    assert sorted(batch) == ["AAPL", "BTC-USD", "MSFT"] and not batch.rejected
    assert all(q.provider == "polygon" and q.price > 0 for q in batch.values())
    assert batch["AAPL"].bid <= batch["AAPL"].ask
    assert rig.calls("polygon")["calls"] == 2


@pytest.mark.asyncio
async def test_polygon_bars_last_trade_nbbo_and_previous_close(rig: Rig) -> None:
    polygon: PolygonClient = rig.source("polygon")
    minutes = await polygon.get_bars(AAPL, Timeframe.ONE_MINUTE, None, SESSION, 30)
    assert len(minutes) == 30 and minutes[-1].start_time == SESSION - timedelta(minutes=1)
    days = await polygon.get_bars(AAPL, Timeframe.ONE_DAY, None, SESSION, 5)
    assert len(days) == 5 and days[-1].start_time == datetime(2026, 11, 16, tzinfo=UTC)
    window = await polygon.get_bars(
        BTC, Timeframe.ONE_HOUR, datetime(2026, 11, 17, 9, tzinfo=UTC), SESSION, 100
    )
    assert [b.start_time.hour for b in window] == [9, 10, 11, 12, 13, 14]  # 15:00 not done
    trade = await polygon.last_trade(AAPL)
    nbbo = await polygon.last_quote(AAPL)
    prev = await polygon.previous_close(AAPL)
    assert trade.price > 0 and nbbo.bid <= nbbo.ask and prev.close > 0
    with pytest.raises(UnknownSymbol):
        await polygon.last_trade(parse_symbol("ZZZZ"))


@pytest.mark.asyncio
async def test_polygon_bars_follow_the_simulators_next_url(rig: Rig) -> None:
    polygon: PolygonClient = rig.source("polygon")
    await rig.sim.configure({"providers": {"polygon": {"quotas": None}}})
    start = SESSION - timedelta(hours=1)
    bars = await polygon.get_bars(AAPL, Timeframe.ONE_MINUTE, start, SESSION, 60)
    assert len(bars) == 60 and bars[0].start_time == start
    assert [b.start_time for b in bars] == sorted({b.start_time for b in bars})


@pytest.mark.asyncio
async def test_alpaca_snapshots_bars_and_latest(rig: Rig) -> None:
    alpaca: AlpacaClient = rig.source("alpaca")
    batch = await alpaca.get_quotes([AAPL, MSFT, BTC, parse_symbol("ZZZZ")])
    assert sorted(batch) == ["AAPL", "BTC-USD", "MSFT"]
    bars = await alpaca.get_bars_multi([AAPL, MSFT], Timeframe.FIVE_MINUTES, None, SESSION, 12)
    assert {name: len(b) for name, b in bars.items()} == {"AAPL": 12, "MSFT": 12}
    trades = await alpaca.latest_trades([AAPL, BTC])
    assert sorted(trades) == ["AAPL", "BTC-USD"]
    daily = await alpaca.get_bars(BTC, Timeframe.ONE_DAY, None, SESSION, 3)
    assert [b.start_time.day for b in daily] == [14, 15, 16]


@pytest.mark.asyncio
async def test_alpha_vantage_quotes_bars_and_its_throttle_bodies(rig: Rig) -> None:
    av: AlphaVantageClient = rig.source("alphavantage")
    batch = await av.get_quotes([AAPL])
    assert batch["AAPL"].price > 0 and batch["AAPL"].provider == "alphavantage"
    with pytest.raises(RateLimited) as caught:  # the free key's 1 request/second burst
        await av.get_quotes([MSFT])
    assert 0 < caught.value.retry_after <= 60
    rig.clock.advance(1.0)
    bars = await av.get_bars(AAPL, Timeframe.ONE_DAY, None, SESSION, 10)
    assert len(bars) == 10
    rig.clock.advance(1.0)
    rsi = await av.rsi(AAPL, Timeframe.ONE_DAY)
    assert rsi.points and all(0 <= p.value <= 100 for p in rsi.points)
    outcomes = rig.calls("alphavantage")["by_outcome"]
    assert outcomes.get("rate_limited") == 1


@pytest.mark.asyncio
async def test_yahoo_quotes_and_bars(rig: Rig) -> None:
    yahoo: YahooClient = rig.source("yahoo")
    batch = await yahoo.get_quotes([AAPL, BTC, parse_symbol("ZZZZ")])
    assert sorted(batch) == ["AAPL", "BTC-USD"]
    bars = await yahoo.get_bars(AAPL, Timeframe.FIFTEEN_MINUTES, None, SESSION, 4)
    assert len(bars) == 4 and bars[-1].start_time == SESSION - timedelta(minutes=15)


@pytest.mark.asyncio
async def test_yahoo_null_gaps_are_skipped(calendar: NyseCalendar) -> None:
    sim, clock = await start(calendar, {"providers": {"yahoo": {"null_gap_rate": 0.5}}})
    async with AsyncExitStack() as stack:
        stack.push_async_callback(sim.stop)
        env = {"YAHOO_BASE_URL": sim.base_url("yahoo")}
        sources = build_sources(load_settings(env).providers, clock=clock, exit_stack=stack)
        start_at = SESSION - timedelta(hours=1)
        bars = await sources.quotes[0].get_bars(AAPL, Timeframe.ONE_MINUTE, start_at, SESSION, 60)
    assert 0 < len(bars) < 60
    assert all(b.low <= b.close <= b.high for b in bars)


@pytest.mark.asyncio
async def test_every_ai_provider_answers_a_verdict_with_usage_and_cost(rig: Rig) -> None:
    aggregate = rig.sources.sentiment
    assert isinstance(aggregate, SentimentAggregator)
    for chat in aggregate.sources:  # each provider on its own, then the aggregate
        assert isinstance(chat, ChatSentimentClient)
        sentiment = await chat.get_sentiment(AAPL)
        assert sentiment.provider == chat.name and -1 <= sentiment.score <= 1
        assert 0 <= sentiment.confidence <= 1 and sentiment.rationale
        assert sentiment.usage.prompt_tokens > 0 and sentiment.cost_usd > 0
        if chat.name == "perplexity":
            assert sentiment.citations
    best = await aggregate.get_sentiment(BTC)
    assert best.symbol == "BTC-USD" and best.provider in aggregate.providers
    assert rig.sources.ai_ledger.totals("xai").calls == 2


async def take(events: AsyncIterator[FeedEvent], count: int) -> list[FeedEvent]:
    taken: list[FeedEvent] = []
    async with asyncio.timeout(10):
        async for event in events:
            taken.append(event)
            if len(taken) >= count:
                break
    await events.aclose()  # type: ignore[attr-defined]
    return taken


@pytest.mark.asyncio
@pytest.mark.parametrize("provider", ["polygon", "alpaca"])
async def test_streams_deliver_quotes_for_stocks_and_crypto(rig: Rig, provider: str) -> None:
    stream = next(s for s in rig.sources.streams if s.name == provider)
    events = await take(stream.events([AAPL, BTC]), 8)
    symbols = {e.quote.symbol for e in events if isinstance(e, QuoteUpdate)}
    assert symbols == {"AAPL", "BTC-USD"}
    assert all(e.quote.provider == provider for e in events if isinstance(e, QuoteUpdate))
    assert rig.sim.counters.snapshot()["websocket"][provider]["connections"] == 2


@pytest.mark.asyncio
@pytest.mark.parametrize("provider", ["polygon", "alpaca"])
async def test_a_dropped_stream_is_resumed_and_back_filled(rig: Rig, provider: str) -> None:
    await rig.sim.configure({"providers": {provider: {"stream": {"drop_after_frames": 2}}}})
    stream = next(s for s in rig.sources.streams if s.name == provider)
    collected: list[FeedEvent] = []
    async with asyncio.timeout(10):
        async for event in stream.events([AAPL]):  # backoff sleeps on the FakeClock
            collected.append(event)
            filled_at = next(
                (i for i, e in enumerate(collected) if isinstance(e, Backfilled)), None
            )
            if filled_at is not None and len(collected) > filled_at + 1:
                break
    gap = next(e for e in collected if isinstance(e, FeedGap))
    filled = next(e for e in collected if isinstance(e, Backfilled))
    assert gap.symbols == ("AAPL",) and gap.end >= gap.start
    assert filled.symbol == "AAPL" and filled.quote is not None and filled.quote.price > 0
    assert collected.index(gap) < collected.index(filled)
    assert isinstance(collected[-1], QuoteUpdate)
    tally = rig.sim.counters.snapshot()["websocket"][provider]
    assert tally["connections"] >= 2 and tally["dropped"] >= 1
