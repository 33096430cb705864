"""Slow providers against the real gateway process: deadlines hold and hedging wins.

A call with a short deadline is answered by another provider (the hedge), from the cache,
or ends UNAVAILABLE / DEADLINE_EXCEEDED — and the gateway itself finishes within it (its
own gRPC duration histogram says so, not just the client's timer).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import grpc
import pytest

from argo.marketdata.v1 import marketdata_pb2 as pb
from tests.chaos.gateway_process import GatewayProcess, running_gateway, wait_until
from tests.chaos.sim_process import SimProcess

pytestmark = [pytest.mark.chaos, pytest.mark.e2e]
SLOW = {"faults": {"slow_rate": 1.0, "slow_ms": 3000}}
DEADLINE = 0.3
OBSERVE_SECONDS = 6.0  # longer than the quote's fresh + stale-while-revalidate windows
SLACK = 0.25  # scheduling noise of a loaded machine (the providers would take 3 s)


async def served_seconds(gw: GatewayProcess) -> tuple[float, float]:
    """(count, sum) of the gateway's own GetQuotes handling times."""
    name = "argo_grpc_server_duration_seconds"
    method = "/argo.marketdata.v1.MarketGateway/GetQuotes"
    count = await gw.metric(f"{name}_count", method=method)
    return count, await gw.metric(f"{name}_sum", method=method)


async def timed(call: Any) -> tuple[Any, float]:
    started = time.monotonic()
    try:
        result = await call
    except grpc.aio.AioRpcError as e:
        result = e
    return result, time.monotonic() - started


@pytest.mark.asyncio
async def test_a_slow_provider_is_hedged_and_the_hedge_answers_within_a_short_deadline(
    sim: SimProcess, tmp_path: Path, chaos_anchor: str
) -> None:
    """Lost if it failed: one slow provider would make every caller with a short deadline
    fail (or wait its full slowness) although a second provider answers in milliseconds."""
    roomy = {"providers": {"polygon": {"rate_per_second": 100, "burst": 100}}}
    async with running_gateway(tmp_path, sim, chaos_anchor, tunables=roomy) as gw:
        for _ in range(12):  # the adaptive delay learns from 10 fast answers (0.25 s before)
            reply = await gw.quotes(["NVDA"], max_age_ms=1)
            assert {q.provider for q in reply.quotes} == {"polygon"}
        delay = await gw.metric("argo_resilience_hedge_delay_seconds", hedge="quotes")
        assert delay < DEADLINE / 2
        await sim.configure({"providers": {"polygon": SLOW}})
        hedged = await gw.metric("argo_resilience_hedge_total", hedge="quotes", outcome="hedged")
        won = await gw.metric("argo_resilience_hedge_total", hedge="quotes", outcome="hedge_won")
        polygon_before = (await gw.status("polygon")).calls_total

        reply, took = await timed(gw.quotes(["AAPL", "MSFT"], deadline=DEADLINE))
        assert not isinstance(reply, grpc.aio.AioRpcError), reply
        assert not reply.errors and {q.provider for q in reply.quotes} == {"alpaca"}
        assert took < DEADLINE
        labels = {"hedge": "quotes"}
        assert await gw.metric("argo_resilience_hedge_total", **labels, outcome="hedged") > hedged
        assert await gw.metric("argo_resilience_hedge_total", **labels, outcome="hedge_won") > won
        # polygon was asked first (its call cancelled as the loser), alpaca answered
        assert (await gw.status("polygon")).calls_total == polygon_before + 1
        assert (await gw.status("alpaca")).errors_total == 0


@pytest.mark.asyncio
async def test_every_provider_slow_ends_the_call_within_its_deadline(
    sim: SimProcess, tmp_path: Path, chaos_anchor: str
) -> None:
    """Lost if it failed: the gateway would keep a caller (and its own handler) busy past
    the caller's deadline waiting on providers that cannot answer in time, or report the
    timeout as INTERNAL."""
    await sim.configure({"providers": {"polygon": SLOW, "alpaca": SLOW}})
    tunables = {"routing": {"synthetic_fallback": False}}
    providers = ("polygon", "alpaca")
    async with running_gateway(
        tmp_path, sim, chaos_anchor, providers=providers, tunables=tunables
    ) as gw:
        for symbols in (["AAPL"], ["MSFT", "BTC-USD"]):
            count, total = await served_seconds(gw)
            reply, took = await timed(gw.quotes(symbols, deadline=DEADLINE))
            assert isinstance(reply, grpc.aio.AioRpcError), reply
            codes = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
            assert reply.code() in codes, reply
            assert took < DEADLINE + SLACK

            async def handled(before: float = count) -> bool:
                return (await served_seconds(gw))[0] == before + 1

            await wait_until("the gateway to finish the call", handled, within=5)
            assert (await served_seconds(gw))[1] - total < DEADLINE + SLACK
        assert gw.alive()


@pytest.mark.asyncio
async def test_with_every_provider_slow_a_cached_quote_keeps_callers_within_their_deadline(
    sim: SimProcess, tmp_path: Path, chaos_anchor: str
) -> None:
    """Lost if it failed: callers would wait on slow providers past their deadline (or get
    INTERNAL or DEADLINE_EXCEEDED) for a symbol the gateway holds a recent price of. Fresh,
    then within stale-while-revalidate, then past it while the slow refresh is still out
    (stale-if-error), every caller gets that price within its deadline."""
    # fresh <= 0.5 s x 2 (calm market) and revalidation 0.5 x fresh: past the window after
    # 1.5 s at most, while the slow refresh (3 s) is still out
    tunables = {
        "routing": {"synthetic_fallback": False},
        "quote_ttl_seconds": 0.5,
        "ttl": {"stale_while_revalidate_ratio": 0.5},
    }
    providers = ("polygon", "alpaca")
    async with running_gateway(
        tmp_path, sim, chaos_anchor, providers=providers, tunables=tunables
    ) as gw:
        fetched = (await gw.quotes(["AAPL"])).quotes[0]
        await sim.configure({"providers": {"polygon": SLOW, "alpaca": SLOW}})
        seen: list[str] = []
        stale_ages: list[int] = []
        until = time.monotonic() + OBSERVE_SECONDS
        while time.monotonic() < until:
            reply, took = await timed(gw.quotes(["AAPL"], deadline=DEADLINE))
            assert not isinstance(reply, grpc.aio.AioRpcError), reply
            assert took < DEADLINE + SLACK
            (quote,) = reply.quotes
            assert quote.provider in providers
            assert quote.time.ToNanoseconds() >= fetched.time.ToNanoseconds()  # never older
            seen.append(pb.CacheStatus.Name(quote.cache_status))
            if quote.cache_status == pb.CACHE_STATUS_STALE_ON_ERROR:
                stale_ages.append(quote.age_ms)
        # fresh, then stale while revalidating, then kept past that window (the slow
        # refresh still out), each within the deadline
        wanted = {"CACHE_STATUS_HIT_LOCAL", "CACHE_STATUS_STALE", "CACHE_STATUS_STALE_ON_ERROR"}
        assert wanted <= set(seen), seen
        assert max(stale_ages) > 1500
        assert gw.alive()
