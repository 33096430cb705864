"""PriceSource over the gateway's argo.marketdata.v1.MarketGateway (GetQuotes, GetBars).

Protobuf types stay in this module. Each call carries its own deadline. A transport or
server failure becomes PriceDataUnavailable (the tracker retries next pass); a symbol the
gateway does not know has no prices (quotes: missing; bars: none), so its signals end
EXPIRED at their entry price instead of staying open forever.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TypeVar, cast

import grpc
import structlog
from google.protobuf.timestamp_pb2 import Timestamp

from argo.marketdata.v1 import marketdata_pb2 as pb
from argo.marketdata.v1 import marketdata_pb2_grpc
from tracker.domain import PriceBar, PriceDataUnavailable, PriceTick

log = structlog.get_logger(__name__)
T = TypeVar("T")

BAR_WIDTH = timedelta(minutes=1)
MAX_BARS_PER_CALL = 5000  # the gateway's GetBars limit
_MAX_PAGES = 50


def _to_datetime(ts: Timestamp) -> datetime:
    return ts.ToDatetime(tzinfo=UTC)


def _to_timestamp(instant: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(instant)
    return ts


def bar_from_pb(bar: pb.Bar) -> PriceBar:
    start = _to_datetime(bar.start_time)
    return PriceBar(
        start_time=start,
        end_time=start + BAR_WIDTH,
        open=bar.open,
        high=bar.high,
        low=bar.low,
        close=bar.close,
    )


class GatewayPriceSource:
    def __init__(
        self,
        channel: grpc.aio.Channel,
        *,
        deadline_seconds: float = 2.0,
        bars_per_call: int = MAX_BARS_PER_CALL,
        ready_timeout_seconds: float = 1.0,
    ) -> None:
        self._channel = channel
        self._stub = cast(
            "marketdata_pb2_grpc.MarketGatewayAsyncStub",
            marketdata_pb2_grpc.MarketGatewayStub(channel),
        )
        self._deadline = deadline_seconds
        self._bars_per_call = bars_per_call
        self._ready_timeout = ready_timeout_seconds

    async def latest(self, symbols: Sequence[str]) -> dict[str, PriceTick]:
        request = pb.GetQuotesRequest(symbols=list(symbols))
        response = await self._call(
            "GetQuotes", self._stub.GetQuotes(request, timeout=self._deadline)
        )
        if response.errors:
            log.debug("gateway_quote_errors", symbols=[e.symbol for e in response.errors])
        return {q.symbol: PriceTick(q.price, _to_datetime(q.time)) for q in response.quotes}

    async def bars(self, symbol: str, start: datetime, end: datetime) -> list[PriceBar]:
        """Completed one-minute bars starting in [start, end), paging past the call limit."""
        found: list[PriceBar] = []
        cursor = start
        for _ in range(_MAX_PAGES):
            request = pb.GetBarsRequest(
                symbol=symbol,
                timeframe=pb.TIMEFRAME_ONE_MINUTE,
                limit=self._bars_per_call,
                start_time=_to_timestamp(cursor),
                end_time=_to_timestamp(end),
            )
            try:
                response = await self._call(
                    "GetBars", self._stub.GetBars(request, timeout=self._deadline)
                )
            except _UnknownSymbol:
                return []
            page = [bar_from_pb(b) for b in response.bars]
            found.extend(page)
            if len(page) < self._bars_per_call:
                return found
            cursor = page[-1].start_time + BAR_WIDTH
            if cursor >= end:
                return found
        raise PriceDataUnavailable(f"GetBars for {symbol}: more than {_MAX_PAGES} pages")

    async def check_ready(self) -> bool:
        """True when the channel is connected (or connects within a second)."""
        if self._channel.get_state(try_to_connect=True) == grpc.ChannelConnectivity.READY:
            return True
        try:
            await asyncio.wait_for(self._channel.channel_ready(), timeout=self._ready_timeout)
        except TimeoutError:
            return False
        return True

    async def _call(self, method: str, call: Awaitable[T]) -> T:
        try:
            return await call
        except grpc.aio.AioRpcError as e:
            if e.code() is grpc.StatusCode.NOT_FOUND:
                raise _UnknownSymbol() from e
            raise PriceDataUnavailable(
                f"market gateway {method} failed: {e.code().name}: {e.details()}"
            ) from e
        except grpc.aio.UsageError as e:
            raise PriceDataUnavailable(f"market gateway channel unusable: {e}") from e


class _UnknownSymbol(Exception):
    """GetBars answered NOT_FOUND: the gateway knows no such symbol."""
