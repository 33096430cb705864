"""Provider outages against the real gateway process and the real simulator process.

One provider down: its breaker opens, callers are served by the next provider without an
error, and the breaker closes again once the provider is back. Every provider down: the
synthetic fallback (when allowed) answers under its own name; without it callers get
UNAVAILABLE naming each provider's reason, within their deadline — never INTERNAL.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import grpc
import pytest

from argo.marketdata.v1 import marketdata_pb2 as pb
from tests.chaos.gateway_process import GatewayProcess, running_gateway, wait_until
from tests.chaos.sim_process import SimProcess

pytestmark = [pytest.mark.chaos, pytest.mark.e2e]
STOCKS = ["AAPL", "MSFT"]


def assert_sane(quotes: list[pb.Quote], provider: str) -> None:
    for quote in quotes:
        assert quote.provider == provider, quote
        assert math.isfinite(quote.price) and quote.price > 0
        assert 0 < quote.bid <= quote.ask


async def breaker_is(gateway: GatewayProcess, name: str, state: int) -> bool:
    return bool((await gateway.status(name)).breaker_state == state)


@pytest.mark.asyncio
async def test_one_provider_down_fails_over_silently_and_its_breaker_closes_after(
    sim: SimProcess, tmp_path: Path, chaos_anchor: str
) -> None:
    """Lost if it failed: callers would see errors (or wait on a dead provider) while a
    healthy one could answer, operators would not see the open breaker and why, and the
    preferred provider would never be used again after it recovered."""
    async with running_gateway(tmp_path, sim, chaos_anchor) as gw:
        assert_sane(list((await gw.quotes(STOCKS)).quotes), "polygon")
        await sim.configure({"providers": {"polygon": {"faults": {"down": True}}}})

        async def fresh_quotes_from_alpaca() -> bool:
            reply = await gw.quotes(STOCKS, max_age_ms=1)
            assert not reply.errors, reply.errors
            assert_sane(list(reply.quotes), "alpaca")
            return await breaker_is(gw, "polygon", pb.BREAKER_STATE_OPEN)

        await wait_until("polygon's breaker to open", fresh_quotes_from_alpaca, within=15)
        polygon = await gw.status("polygon")
        assert polygon.errors_total >= 5 and polygon.last_error.startswith("polygon")
        refused_calls = await sim.calls("polygon")
        bars = await gw.stub.GetBars(
            pb.GetBarsRequest(symbol="AAPL", timeframe=pb.TIMEFRAME_ONE_MINUTE, limit=5),
            timeout=5,
        )
        assert bars.provider == "alpaca" and len(bars.bars) == 5
        assert await sim.calls("polygon") == refused_calls  # open: not even tried

        await sim.configure({"providers": {"polygon": {"faults": {"down": False}}}})

        async def polygon_serves_and_its_breaker_closes() -> bool:
            reply = await gw.quotes(STOCKS, max_age_ms=1)
            assert not reply.errors, reply.errors
            served = {q.provider for q in reply.quotes} == {"polygon"}
            return served and await breaker_is(gw, "polygon", pb.BREAKER_STATE_CLOSED)

        # after the 1 s open wait, half-open probes succeed and two successes close it
        await wait_until(
            "polygon to serve again with its breaker closed",
            polygon_serves_and_its_breaker_closes,
            within=15,
            every=0.2,
        )
        assert gw.alive()


@pytest.mark.asyncio
async def test_every_provider_down_is_unavailable_in_time_naming_each_or_synthetic_if_allowed(
    sim: SimProcess, tmp_path: Path, chaos_anchor: str
) -> None:
    """Lost if it failed: callers would get INTERNAL (a bug code, not retried) or hang past
    their deadline instead of a retryable UNAVAILABLE that says which providers failed how;
    each of the simulator's three outage modes (refused, 503 page, reset) is covered. Once
    an operator allows the synthetic fallback (hot reload, no restart) callers would get
    errors although the gateway can answer, or synthetic prices not named as such."""
    modes = {"polygon": "refuse", "alpaca": "503", "yahoo": "reset"}
    outage = {p: {"faults": {"down": True, "outage_mode": m}} for p, m in modes.items()}
    await sim.configure({"providers": outage})
    tunables = {"routing": {"synthetic_fallback": False}}
    async with running_gateway(tmp_path, sim, chaos_anchor, tunables=tunables) as gw:
        for call in (
            lambda: gw.quotes(STOCKS, deadline=2),
            lambda: gw.stub.GetBars(
                pb.GetBarsRequest(symbol="NVDA", timeframe=pb.TIMEFRAME_ONE_DAY, limit=3),
                timeout=2,
            ),
        ):
            started = time.monotonic()
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await call()
            took = time.monotonic() - started
            assert caught.value.code() == grpc.StatusCode.UNAVAILABLE, caught.value
            message = caught.value.details() or ""
            assert all(name in message for name in modes), message
            assert took < 2.0
        gw.retune({"routing": {"synthetic_fallback": True}})

        async def served_by_the_synthetic_market() -> bool:
            try:
                reply = await gw.quotes(STOCKS, max_age_ms=1, deadline=2)
            except grpc.aio.AioRpcError as e:  # until the reload: as before
                assert e.code() == grpc.StatusCode.UNAVAILABLE, e
                return False
            return not reply.errors and {q.provider for q in reply.quotes} == {"synthetic"}

        await wait_until("the reloaded fallback", served_by_the_synthetic_market, within=10)
        assert_sane(list((await gw.quotes(STOCKS)).quotes), "synthetic")
        assert gw.alive()
