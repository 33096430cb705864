"""market-gateway under load: 64 concurrent callers on each of its five RPCs (64 open
StreamQuotes subscribers for the stream), against the real process on the synthetic market
with the provider simulator as its AI provider. See conftest.py for the running suite.
"""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from argo.marketdata.v1 import marketdata_pb2 as pb
from argo.marketdata.v1 import marketdata_pb2_grpc as pb_grpc
from tests.e2e.suite import Suite
from tests.load import settings
from tests.load.driver import (
    LoadResult,
    drive,
    rss_mib,
    subscribe,
)
from tests.load.universe import CRYPTO, STOCKS, pick
from tests.load.verdict import broken_promises

pytestmark = [pytest.mark.load, pytest.mark.e2e]
TIMEFRAMES = [pb.TIMEFRAME_ONE_MINUTE, pb.TIMEFRAME_FIVE_MINUTES, pb.TIMEFRAME_FIFTEEN_MINUTES,
              pb.TIMEFRAME_ONE_HOUR, pb.TIMEFRAME_ONE_DAY]  # fmt: skip


def unary_calls(stub: pb_grpc.MarketGatewayStub) -> dict[str, Any]:
    async def get_quotes(i: int) -> None:
        symbols = pick(i, 5)
        reply = await stub.GetQuotes(
            pb.GetQuotesRequest(symbols=symbols, max_age_ms=(i % 3) * 500), timeout=10
        )
        assert not reply.errors and len(reply.quotes) == 5, reply.errors

    async def get_bars(i: int) -> None:
        request = pb.GetBarsRequest(symbol=pick(i, 1)[0], timeframe=TIMEFRAMES[i % 5])
        if i % 2:
            request.limit = 10 + i % 190
        else:  # a window ending a little further back each call: keys no cache has seen
            end = Timestamp()
            end.GetCurrentTime()
            end.seconds -= 3600 + i % 86_400
            request.end_time.CopyFrom(end)
            request.start_time.seconds = end.seconds - 86_400
            request.limit = 300
        reply = await stub.GetBars(request, timeout=10)
        assert reply.symbol and reply.provider, reply

    async def get_sentiment(i: int) -> None:
        reply = await stub.GetSentiment(pb.GetSentimentRequest(symbol=pick(i, 1)[0]), timeout=10)
        assert -1.0 <= reply.score <= 1.0 and reply.provider, reply

    async def get_provider_status(i: int) -> None:
        reply = await stub.GetProviderStatus(pb.GetProviderStatusRequest(), timeout=10)
        assert any(p.name == "synthetic" for p in reply.providers), reply

    return {
        "MarketGateway/GetQuotes": get_quotes,
        "MarketGateway/GetBars": get_bars,
        "MarketGateway/GetSentiment": get_sentiment,
        "MarketGateway/GetProviderStatus": get_provider_status,
    }


def open_quote_stream(stub: pb_grpc.MarketGatewayStub) -> Any:
    def open_stream(i: int) -> Any:
        # Two stocks and a crypto pair (crypto trades around the clock: events every run).
        symbols = [*pick(i, 2, STOCKS), CRYPTO[i % len(CRYPTO)]]
        return stub.StreamQuotes(pb.StreamQuotesRequest(symbols=symbols))

    return open_stream


def check_quote_event(event: pb.StreamQuotesResponse) -> None:
    assert event.symbol and event.sequence >= 1, event


@pytest.mark.asyncio
async def test_gateway_every_rpc_under_64_callers_no_errors_bounded_p99_flat_memory(
    load_suite: Suite,
) -> None:
    """64 callers on every gateway RPC: every call OK, p99 within the limit, and the RSS
    flat after warm-up. If it failed, callers would see errors or multi-second stalls at
    modest concurrency, or the gateway's caches (quotes, bars, sentiment, stream logs,
    parsed symbols over ~170 symbols and ever-new bar windows) would grow until the pod
    is OOM-killed."""
    gateway = load_suite.services["market-gateway"]
    results: list[LoadResult] = []
    async with grpc.aio.insecure_channel(gateway.address) as channel:
        stub = pb_grpc.MarketGatewayStub(channel)
        calls = unary_calls(stub)
        for phase, seconds in (("warm-up", settings.WARMUP_SECONDS), ("run", settings.SECONDS)):
            if phase == "run":
                warm_rss = rss_mib(gateway.process.pid)
            for name, call in calls.items():
                results.append(await drive(name, call, seconds=seconds))
            results.append(
                await subscribe(
                    "MarketGateway/StreamQuotes",
                    open_quote_stream(stub),
                    seconds=seconds + 1.0,  # the first poll may wait a full interval
                    check=check_quote_event,
                )
            )
        end_rss = rss_mib(gateway.process.pid)
    rss = {"market-gateway": (warm_rss, end_rss)}
    broken = broken_promises(results, rss)
    assert not broken, broken
