"""The gateway client replaces a channel stuck in reconnect backoff and retries GetQuotes
on the fresh one, so the first cycle after the gateway returns is served."""

from __future__ import annotations

import grpc
import pytest

from argo.marketdata.v1 import marketdata_pb2_grpc
from service_runtime import channels
from service_runtime.channels import open_channel
from signal_engine.adapters.market_gateway_client import GatewayMarketData
from signal_engine.domain import GatewayUnavailable
from tests.conftest import free_port
from tests.unit.signal_engine.test_client_adapters import Failure, FakeGateway

pytestmark = pytest.mark.asyncio
# Long enough that a channel which failed once stays in TRANSIENT_FAILURE for the whole
# test: only a fresh channel (with connections of its own) can reach the gateway again.
_BACKOFF = {
    "grpc.initial_reconnect_backoff_ms": 60_000,
    "grpc.min_reconnect_backoff_ms": 60_000,
    "grpc.max_reconnect_backoff_ms": 60_000,
}


async def test_a_channel_in_backoff_is_renewed_and_the_call_served_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Failing would mean: after a gateway restart the engine serves stale signals for as
    long as gRPC's reconnect backoff has grown during the outage (seconds), not one cycle."""
    stuck = [(k, v) for k, v in channels._CHANNEL_OPTIONS if k not in _BACKOFF]
    monkeypatch.setattr(channels, "_CHANNEL_OPTIONS", [*stuck, *_BACKOFF.items()])
    address = f"127.0.0.1:{free_port()}"
    opened: list[grpc.aio.Channel] = []

    def stuck_channel() -> grpc.aio.Channel:
        opened.append(open_channel(address))
        return opened[-1]

    client = GatewayMarketData(stuck_channel(), deadline_seconds=2.0, reopen=stuck_channel)
    with pytest.raises(GatewayUnavailable):  # nothing listens: both attempts refused
        await client.get_quotes(["AAPL"])
    assert len(opened) == 2
    assert opened[1].get_state() == grpc.ChannelConnectivity.TRANSIENT_FAILURE

    gateway = FakeGateway()  # type: ignore[abstract]
    server = grpc.aio.server()
    marketdata_pb2_grpc.add_MarketGatewayServicer_to_server(gateway, server)
    server.add_insecure_port(address)
    await server.start()
    try:
        quotes, _ = await client.get_quotes(["AAPL"])  # the held channel is still backing off
        assert quotes["AAPL"].price == 190.5
        assert len(opened) == 3 and len(gateway.requests) == 1
        await client.get_quotes(["AAPL"])  # the renewed channel is kept
        assert len(opened) == 3 and len(gateway.requests) == 2
    finally:
        await client.aclose()
        await server.stop(None)
        for channel in opened:
            await channel.close()


async def test_an_unavailable_answer_from_a_connected_gateway_is_not_retried() -> None:
    """Failing would mean: every 'all providers down' answer costs a second call and a
    new connection, doubling the load on a gateway that is already struggling."""
    gateway = FakeGateway()  # type: ignore[abstract]
    server = grpc.aio.server()
    marketdata_pb2_grpc.add_MarketGatewayServicer_to_server(gateway, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    reopened = 0

    def fresh() -> grpc.aio.Channel:
        nonlocal reopened
        reopened += 1
        return grpc.aio.insecure_channel(f"127.0.0.1:{port}")

    gateway.failure = Failure(grpc.StatusCode.UNAVAILABLE, "every provider is failing")
    client = GatewayMarketData(fresh(), deadline_seconds=2.0, reopen=fresh)
    try:
        with pytest.raises(GatewayUnavailable, match="every provider is failing"):
            await client.get_quotes(["AAPL"])
        assert reopened == 1 and len(gateway.requests) == 1
    finally:
        await client.aclose()
        await server.stop(None)
