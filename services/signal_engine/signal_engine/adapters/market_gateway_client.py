"""GatewayMarketData: the MarketData port over the gateway's argo.marketdata.v1 API."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

import grpc
import structlog

from argo.marketdata.v1 import marketdata_pb2 as pb
from argo.marketdata.v1 import marketdata_pb2_grpc
from signal_engine.adapters.market_gateway_mapping import (
    TIMEFRAME_TO_PB,
    bars_from_pb,
    error_from_rpc,
    quotes_from_pb,
    sentiment_from_pb,
    timestamp_to_pb,
)
from signal_engine.domain import (
    BarSeries,
    GatewayError,
    GatewayUnavailable,
    Quote,
    SentimentVerdict,
    Timeframe,
)

log = structlog.get_logger(__name__)


class GatewayMarketData:
    """Each call carries its own deadline; gRPC errors become domain GatewayErrors."""

    def __init__(
        self,
        channel: grpc.aio.Channel,
        *,
        deadline_seconds: float = 2.0,
        ready_timeout_seconds: float = 1.0,
    ) -> None:
        self._channel = channel
        self._stub = marketdata_pb2_grpc.MarketGatewayStub(channel)
        self._deadline = deadline_seconds
        self._ready_timeout = ready_timeout_seconds

    async def get_quotes(self, symbols: Sequence[str]) -> tuple[dict[str, Quote], dict[str, str]]:
        request = pb.GetQuotesRequest(symbols=list(symbols))
        try:
            response = await self._stub.GetQuotes(request, timeout=self._deadline)
        except grpc.aio.AioRpcError as e:
            raise error_from_rpc(e, "GetQuotes") from e
        except grpc.aio.UsageError as e:
            raise GatewayUnavailable(f"market gateway channel unusable: {e}") from e
        return quotes_from_pb(list(symbols), response)

    async def get_bars(
        self, symbol: str, timeframe: Timeframe, limit: int, start: datetime | None = None
    ) -> BarSeries:
        request = pb.GetBarsRequest(
            symbol=symbol, timeframe=TIMEFRAME_TO_PB[timeframe], limit=limit
        )
        if start is not None:
            request.start_time.CopyFrom(timestamp_to_pb(start))
        try:
            response = await self._stub.GetBars(request, timeout=self._deadline)
        except grpc.aio.AioRpcError as e:
            raise error_from_rpc(e, "GetBars") from e
        except grpc.aio.UsageError as e:
            raise GatewayUnavailable(f"market gateway channel unusable: {e}") from e
        return bars_from_pb(response)

    async def get_sentiment(self, symbol: str) -> SentimentVerdict:
        request = pb.GetSentimentRequest(symbol=symbol)
        try:
            response = await self._stub.GetSentiment(request, timeout=self._deadline)
        except grpc.aio.AioRpcError as e:
            raise error_from_rpc(e, "GetSentiment") from e
        except grpc.aio.UsageError as e:
            raise GatewayUnavailable(f"market gateway channel unusable: {e}") from e
        try:
            return sentiment_from_pb(response)
        except ValueError as e:
            raise GatewayError(f"market gateway GetSentiment: bad verdict: {e}") from e

    async def check_ready(self) -> bool:
        """True when the channel is connected (or connects within a second)."""
        state = self._channel.get_state(try_to_connect=True)
        if state == grpc.ChannelConnectivity.READY:
            return True
        try:
            await asyncio.wait_for(self._channel.channel_ready(), timeout=self._ready_timeout)
        except TimeoutError:
            log.debug("market_gateway_not_ready", state=state.name)
            return False
        return True
