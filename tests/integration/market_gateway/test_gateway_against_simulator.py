"""The whole gateway (bootstrap, app, gRPC servicer) against tools/provider_sim.

Upstream calls are counted by the simulator, so these tests observe what the gateway's
optimisations save: one call per provider batch for many concurrent callers, failover with
an opening breaker, hedging around a slow provider, Alpha Vantage's "Note" pausing it, a
dropped feed back-filled while its symbols are not polled, and the baseline (every switch
off) asking every source for every symbol, one call after another.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import grpc
import pytest

from argo.marketdata.v1 import marketdata_pb2 as pb
from argo.marketdata.v1 import marketdata_pb2_grpc as pb_grpc
from market_gateway.adapters.calendar import NyseCalendar
from market_gateway.bootstrap import GatewayWiring, bootstrap
from market_gateway.config import load_settings, parse_tunables
from market_gateway.domain import CacheStatus, StreamEvent
from service_runtime.clock import FakeClock, SystemClock
from tools.provider_sim import ProviderSimulator, SimConfig
from tools.provider_sim.config import deep_merge

from .test_adapters_against_simulator import FAST, SESSION

pytestmark = pytest.mark.integration
SIX = ["AAPL", "NVDA", "TSLA", "MSFT", "BTC-USD", "ETH-USD"]
STOCKS = "/v2/snapshot/locale/us/markets/stocks/tickers"
CRYPTO = "/v2/snapshot/locale/global/markets/crypto/tickers"
AGGREGATES = "/v2/aggs/ticker/{ticker}/range/{multiplier}/{timespan}/{from}/{to}"


@dataclass
class Gateway:
    sim: ProviderSimulator
    wiring: GatewayWiring
    stub: Any  # MarketGatewayStub

    def calls(self, provider: str, endpoint: str | None = None) -> int:
        found: dict[str, Any] = self.sim.counters.snapshot()["providers"].get(provider, {})
        if endpoint is None:
            return int(found.get("calls", 0))
        return int(found.get("endpoints", {}).get(endpoint, {}).get("calls", 0))

    async def status(self, name: str) -> pb.ProviderStatus:
        reply = await self.stub.GetProviderStatus(pb.GetProviderStatusRequest(), timeout=5)
        return next(p for p in reply.providers if p.name == name)


@pytest.fixture(scope="module")
def calendar() -> NyseCalendar:
    return NyseCalendar.build(2020, 2030)


@asynccontextmanager
async def gateway(
    calendar: NyseCalendar,
    *,
    providers: tuple[str, ...] = ("polygon", "alpaca", "yahoo"),
    sim: Mapping[str, Any] | None = None,
    tunables: Mapping[str, Any] | None = None,
    real_time: bool = False,
) -> AsyncIterator[Gateway]:
    """The simulator and a gateway that knows only `providers`, served on a free port."""
    clock = SystemClock(SESSION) if real_time else FakeClock(SESSION)
    config = deep_merge(FAST, {"market": {"universe": SIX, "warm_days": 400}, **(sim or {})})
    simulator = ProviderSimulator(SimConfig.parse(config), clock=clock, calendar=calendar, port=0)
    await simulator.start()
    async with asyncio.timeout(20):  # answers are slow until the history is computed
        await simulator.wait_warm()
    env = {k: v for k, v in simulator.env().items() if k.split("_")[0].lower() in providers}
    if "yahoo" in providers:
        env["YAHOO_ENABLED"] = "true"
    wiring = await bootstrap(
        load_settings(env),
        clock=clock,
        calendar=calendar,
        tunables=parse_tunables(dict(tunables or {})),
    )
    server = grpc.aio.server()
    wiring.register(server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield Gateway(simulator, wiring, pb_grpc.MarketGatewayStub(channel))
    finally:
        await channel.close()
        await server.stop(None)
        await wiring.exit_stack.aclose()
        await simulator.stop()


@pytest.mark.asyncio
async def test_fifty_concurrent_get_quotes_make_one_upstream_call_per_batch(
    calendar: NyseCalendar,
) -> None:
    # real time: on a FakeClock the hedge delay would pass before any network answer
    tunables = {"optimizations": {"streams": False}}
    async with gateway(calendar, tunables=tunables, real_time=True) as gw:
        request = pb.GetQuotesRequest(symbols=SIX)
        replies = await asyncio.gather(*(gw.stub.GetQuotes(request, timeout=10) for _ in range(50)))
        assert all([q.symbol for q in r.quotes] == SIX and not r.errors for r in replies)
        assert {r.quotes[0].provider for r in replies} == {"polygon"}
        # polygon's snapshot takes every ticker of an asset class in one call
        assert (gw.calls("polygon", STOCKS), gw.calls("polygon", CRYPTO)) == (1, 1)
        assert gw.calls("polygon") == 2
        tally = gw.sim.counters.snapshot()["providers"]["polygon"]["endpoints"]
        assert tally[STOCKS]["symbols"] == 4 and tally[CRYPTO]["symbols"] == 2
        await asyncio.sleep(
            0.1
        )  # the background agreement sample (alpaca batched, yahoo per symbol)
        assert gw.calls("alpaca") == 2 and gw.calls("yahoo") == 6
        again = await gw.stub.GetQuotes(request, timeout=10)
        assert {q.cache_status for q in again.quotes} == {pb.CACHE_STATUS_HIT_LOCAL}
        assert gw.calls("polygon") == 2


@pytest.mark.asyncio
async def test_an_erroring_provider_fails_over_silently_and_its_breaker_opens(
    calendar: NyseCalendar,
) -> None:
    tunables = {"optimizations": {"streams": False, "agreement": False}}
    async with gateway(calendar, tunables=tunables) as gw:
        await gw.sim.configure({"providers": {"polygon": {"faults": {"error_rate": 1.0}}}})
        clock = gw.sim.clock
        assert isinstance(clock, FakeClock)
        for _ in range(8):
            request = pb.GetQuotesRequest(symbols=["AAPL", "MSFT"], max_age_ms=1)
            reply = await gw.stub.GetQuotes(request, timeout=10)
            assert not reply.errors and [q.provider for q in reply.quotes] == ["alpaca"] * 2
            clock.advance(1)
        assert gw.calls("polygon") == 5  # the breaker opened after five: no more calls
        polygon = await gw.status("polygon")
        assert polygon.breaker_state == pb.BREAKER_STATE_OPEN and polygon.errors_total == 5
        assert "polygon" in polygon.last_error and gw.calls("alpaca") == 8


@pytest.mark.asyncio
async def test_hedging_answers_from_the_second_provider_when_the_first_is_slow(
    calendar: NyseCalendar,
) -> None:
    sim = {"providers": {"polygon": {"faults": {"slow_rate": 1.0, "slow_ms": 3000}}}}
    tunables = {"optimizations": {"streams": False, "agreement": False}}
    async with gateway(calendar, sim=sim, tunables=tunables, real_time=True) as gw:
        started = time.monotonic()
        reply = await gw.stub.GetQuotes(pb.GetQuotesRequest(symbols=["AAPL"]), timeout=10)
        took = time.monotonic() - started
        assert reply.quotes[0].provider == "alpaca" and not reply.errors
        assert took < 1.5  # the 0.25 s hedge delay, not polygon's 3 s
        assert gw.calls("polygon", STOCKS) <= 1 and gw.calls("alpaca") == 1


@pytest.mark.asyncio
async def test_alpha_vantages_note_pauses_the_provider_and_is_pushed_back(
    calendar: NyseCalendar,
) -> None:
    sim = {"providers": {"alphavantage": {"quotas": [{"limit": 1, "seconds": 60}]}}}
    tunables = {"providers": {"synthetic": {"enabled": False}}}
    async with gateway(calendar, providers=("alphavantage",), sim=sim, tunables=tunables) as gw:
        first = await gw.stub.GetQuotes(pb.GetQuotesRequest(symbols=["AAPL"]), timeout=10)
        assert first.quotes[0].provider == "alphavantage"
        for symbol in ("MSFT", "NVDA"):
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await gw.stub.GetQuotes(pb.GetQuotesRequest(symbols=[symbol]), timeout=10)
            assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
            pushback = dict(caught.value.trailing_metadata() or ())["retry-after-ms"]
            assert 1_000 < int(pushback) <= 60_000
        assert gw.calls("alphavantage") == 2  # the Note paused it: NVDA never went out
        outcomes = gw.sim.counters.snapshot()["providers"]["alphavantage"]["by_outcome"]
        assert outcomes.get("rate_limited") == 1
        status = await gw.status("alphavantage")
        assert status.HasField("paused_until") and status.breaker_state == pb.BREAKER_STATE_CLOSED


@pytest.mark.asyncio
async def test_a_dropped_feed_is_resumed_and_back_filled_while_its_symbols_are_not_polled(
    calendar: NyseCalendar,
) -> None:
    sim = {"providers": {"polygon": {"stream": {"drop_after_frames": 3}}}}
    tunables = {"routing": {"synthetic_fallback": False}}
    async with gateway(
        calendar, providers=("polygon",), sim=sim, tunables=tunables, real_time=True
    ) as gw:
        app = gw.wiring.app
        events: list[StreamEvent] = []
        statuses: list[CacheStatus] = []
        stream = app.stream_quotes(["AAPL"])
        async with asyncio.timeout(15):
            async for event in stream:
                events.append(event)
                (quote,), _ = await app.get_quotes(["AAPL"])
                statuses.append(quote.cache_status)
                filled = [i for i, e in enumerate(events) if e.backfilled is not None]
                if filled and any(e.quote for e in events[filled[0] + 1 :]):
                    break
        await stream.aclose()
        gap = next(e for e in events if e.gap is not None)
        backfilled = next(e for e in events if e.backfilled is not None)
        assert gap.sequence < backfilled.sequence and "polygon feed down" in gap.gap.reason
        assert [e.sequence for e in events] == list(range(1, len(events) + 1))
        assert statuses[-1] is CacheStatus.STREAM
        websocket = gw.sim.counters.snapshot()["websocket"]["polygon"]
        assert websocket["dropped"] >= 1 and websocket["connections"] >= 2
        backfills = gw.calls("polygon", AGGREGATES)
        # snapshots: the first poll, then only the back-fills' latest quotes — no polling
        assert gw.calls("polygon", STOCKS) == 1 + backfills


@pytest.mark.asyncio
async def test_with_every_switch_off_each_source_is_asked_for_each_symbol_in_turn(
    calendar: NyseCalendar,
) -> None:
    off = dict.fromkeys(
        ("cache", "batching", "single_flight", "hedging", "streams", "incremental_bars",
         "agreement", "single_source"),
        False,
    )  # fmt: skip
    async with gateway(calendar, tunables={"optimizations": off}) as gw:
        for _ in range(2):
            reply = await gw.stub.GetQuotes(pb.GetQuotesRequest(symbols=SIX), timeout=30)
            assert not reply.errors and {q.provider for q in reply.quotes} == {"polygon"}
        for provider in ("polygon", "alpaca", "yahoo"):  # 2 requests x 6 symbols, one each
            assert gw.calls(provider) == 12
            tally = gw.sim.counters.snapshot()["providers"][provider]
            assert tally["symbols"] == 12  # one symbol per call: nothing batched
        await gw.stub.GetQuotes(pb.GetQuotesRequest(symbols=SIX), timeout=30)
        assert sum(gw.calls(p) for p in ("polygon", "alpaca", "yahoo")) == 3 * 18
