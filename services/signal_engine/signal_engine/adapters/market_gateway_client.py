"""GatewayMarketData: the MarketData port over the gateway's argo.marketdata.v1 API."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
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
_MIN_RETRY_SECONDS = 0.05  # less left of the deadline than this: no retry


class GatewayMarketData:
    """Each call carries its own deadline; gRPC errors become domain GatewayErrors.

    With `reopen`, a channel left in TRANSIENT_FAILURE by a failed GetQuotes (each pass's
    first call) is replaced by a fresh one and the call is tried once more on it: gRPC
    would wait out its reconnect backoff (up to seconds, growing with the outage) before
    trying the gateway again, while a fresh channel connects at its first call, so the
    first cycle after the gateway returns is served. While the gateway is away the retry
    costs one refused connection; it gets what is left of the call's deadline, never a
    second one. The old channel is closed in the background with a grace period, so calls
    still running on it end with their own status rather than a bare cancellation."""

    def __init__(
        self,
        channel: grpc.aio.Channel,
        *,
        deadline_seconds: float = 2.0,
        ready_timeout_seconds: float = 1.0,
        reopen: Callable[[], grpc.aio.Channel] | None = None,
    ) -> None:
        self._channel = channel
        self._stub = marketdata_pb2_grpc.MarketGatewayStub(channel)
        self._deadline = deadline_seconds
        self._ready_timeout = ready_timeout_seconds
        self._reopen = reopen
        self._closing: set[asyncio.Task[None]] = set()

    async def aclose(self) -> None:
        await self._channel.close()
        await asyncio.gather(*self._closing, return_exceptions=True)

    def _renew_if_failing(self, used: grpc.aio.Channel, error: grpc.aio.AioRpcError) -> bool:
        """Replace `used` when it failed to connect (UNAVAILABLE in TRANSIENT_FAILURE);
        True when this call replaced it (not when the gateway itself answered UNAVAILABLE,
        nor when a concurrent call replaced it already)."""
        if self._reopen is None or used is not self._channel:
            return False
        if error.code() != grpc.StatusCode.UNAVAILABLE:
            return False
        if used.get_state() != grpc.ChannelConnectivity.TRANSIENT_FAILURE:
            return False
        self._channel = self._reopen()
        self._stub = marketdata_pb2_grpc.MarketGatewayStub(self._channel)
        log.debug("market_gateway_channel_renewed")
        closing = asyncio.get_running_loop().create_task(used.close(grace=self._deadline))
        self._closing.add(closing)
        closing.add_done_callback(self._closing.discard)
        return True

    async def get_quotes(self, symbols: Sequence[str]) -> tuple[dict[str, Quote], dict[str, str]]:
        request = pb.GetQuotesRequest(symbols=list(symbols))
        channel = self._channel
        started = time.monotonic()
        try:
            response = await self._quotes(request, self._deadline)
        except grpc.aio.AioRpcError as e:
            renewed = self._renew_if_failing(channel, e)  # for the next call at least
            left = self._deadline - (time.monotonic() - started)
            if not renewed or left < _MIN_RETRY_SECONDS:
                raise error_from_rpc(e, "GetQuotes") from e
            try:
                response = await self._quotes(request, left)  # the gateway may be back
            except grpc.aio.AioRpcError as again:
                raise error_from_rpc(again, "GetQuotes") from again
        return quotes_from_pb(list(symbols), response)

    async def _quotes(self, request: pb.GetQuotesRequest, seconds: float) -> pb.GetQuotesResponse:
        try:
            response: pb.GetQuotesResponse = await self._stub.GetQuotes(request, timeout=seconds)
        except grpc.aio.UsageError as e:
            raise GatewayUnavailable(f"market gateway channel unusable: {e}") from e
        return response

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
        except grpc.aio.UsageError:
            return False  # renewed (and closed) while we waited; the next probe uses the new
        except TimeoutError:
            log.debug("market_gateway_not_ready", state=state.name)
            return False
        return True
