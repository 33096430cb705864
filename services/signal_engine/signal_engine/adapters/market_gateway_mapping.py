"""argo.marketdata.v1 messages <-> engine domain values, and gRPC errors -> domain errors.

Pure functions; protobuf types stop here.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from argo.marketdata.v1 import marketdata_pb2 as pb
from signal_engine.domain import (
    Bar,
    BarSeries,
    CacheStatus,
    GatewayError,
    GatewayRejected,
    GatewayTimeout,
    GatewayUnavailable,
    Quote,
    SentimentUnsupported,
    SentimentVerdict,
    Timeframe,
    UnknownSymbol,
)

CACHE_STATUS_FROM_PB: dict[int, CacheStatus] = {
    pb.CACHE_STATUS_UNSPECIFIED: CacheStatus.UNSPECIFIED,
    pb.CACHE_STATUS_MISS: CacheStatus.MISS,
    pb.CACHE_STATUS_HIT_LOCAL: CacheStatus.HIT_LOCAL,
    pb.CACHE_STATUS_HIT_SHARED: CacheStatus.HIT_SHARED,
    pb.CACHE_STATUS_STALE: CacheStatus.STALE,
    pb.CACHE_STATUS_STALE_ON_ERROR: CacheStatus.STALE_ON_ERROR,
    pb.CACHE_STATUS_STREAM: CacheStatus.STREAM,
}
TIMEFRAME_TO_PB: dict[Timeframe, pb.Timeframe.ValueType] = {
    Timeframe.ONE_MINUTE: pb.TIMEFRAME_ONE_MINUTE,
    Timeframe.FIVE_MINUTES: pb.TIMEFRAME_FIVE_MINUTES,
    Timeframe.FIFTEEN_MINUTES: pb.TIMEFRAME_FIFTEEN_MINUTES,
    Timeframe.ONE_HOUR: pb.TIMEFRAME_ONE_HOUR,
    Timeframe.ONE_DAY: pb.TIMEFRAME_ONE_DAY,
}
RETRY_AFTER_KEY = "retry-after-ms"


def _cache_status(value: int) -> CacheStatus:
    return CACHE_STATUS_FROM_PB.get(value, CacheStatus.UNSPECIFIED)


def quote_from_pb(message: pb.Quote) -> Quote:
    """A domain Quote; raise ValueError when the price is not finite and positive."""
    if not (math.isfinite(message.price) and message.price > 0.0):
        raise ValueError(f"gateway sent a bad price {message.price!r}")
    return Quote(
        symbol=message.symbol,
        price=message.price,
        bid=message.bid,
        ask=message.ask,
        volume=message.volume,
        time=message.time.ToDatetime(tzinfo=UTC),
        provider=message.provider,
        cache_status=_cache_status(message.cache_status),
        age_ms=max(0, message.age_ms),
    )


def quotes_from_pb(
    requested: list[str], response: pb.GetQuotesResponse
) -> tuple[dict[str, Quote], dict[str, str]]:
    """Quotes and errors keyed by the symbol as requested.

    The gateway answers in the order of the request's first mention of each symbol and
    names errors by the caller's spelling, so the served symbols pair up with the quotes
    in order; if the counts disagree, quotes are keyed by the gateway's canonical symbol.
    """
    errors = {e.symbol: e.message or pb.ErrorReason.Name(e.reason) for e in response.errors}
    distinct = list(dict.fromkeys(requested))
    served = [s for s in distinct if s not in errors]
    keys = served if len(served) == len(response.quotes) else [q.symbol for q in response.quotes]
    quotes: dict[str, Quote] = {}
    for key, message in zip(keys, response.quotes, strict=True):
        try:
            quotes[key] = quote_from_pb(message)
        except ValueError as e:
            errors[key] = str(e)
    return quotes, errors


def timestamp_to_pb(instant: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(instant)
    return stamp


def sentiment_from_pb(message: pb.GetSentimentResponse) -> SentimentVerdict:
    """A domain verdict; raise ValueError on a score or confidence out of range."""
    if not (math.isfinite(message.score) and -1.0 <= message.score <= 1.0):
        raise ValueError(f"score must be within -1..1, got {message.score!r}")
    if not (math.isfinite(message.confidence) and 0.0 <= message.confidence <= 1.0):
        raise ValueError(f"confidence must be within 0..1, got {message.confidence!r}")
    if not message.provider:
        raise ValueError("the verdict names no provider")
    return SentimentVerdict(
        symbol=message.symbol,
        provider=message.provider.lower(),
        score=message.score,
        confidence=message.confidence,
        time=message.time.ToDatetime(tzinfo=UTC) if message.HasField("time") else None,
        age_ms=max(0, message.age_ms),
        cache_status=_cache_status(message.cache_status),
        rationale=message.rationale,
    )


def bars_from_pb(response: pb.GetBarsResponse) -> BarSeries:
    return BarSeries(
        symbol=response.symbol,
        bars=tuple(
            Bar(
                start_time=b.start_time.ToDatetime(tzinfo=UTC),
                open=b.open,
                high=b.high,
                low=b.low,
                close=b.close,
                volume=b.volume,
            )
            for b in response.bars
        ),
        provider=response.provider,
        cache_status=_cache_status(response.cache_status),
        age_ms=max(0, response.age_ms),
    )


def _retry_after_ms(error: grpc.aio.AioRpcError) -> int:
    for key, value in error.trailing_metadata() or ():
        if key == RETRY_AFTER_KEY:
            try:
                return max(0, int(value))
            except (TypeError, ValueError):
                return 0
    return 0


def error_from_rpc(error: grpc.aio.AioRpcError, call: str) -> GatewayError:
    """The domain error for a failed gateway call (`call` names it in the message)."""
    code = error.code()
    message = f"market gateway {call}: {code.name}: {error.details() or ''}".rstrip(": ")
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return GatewayTimeout(message)
    if code == grpc.StatusCode.UNIMPLEMENTED and call == "GetSentiment":
        return SentimentUnsupported(message)
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED):
        return GatewayUnavailable(message, retry_after_ms=_retry_after_ms(error))
    if code == grpc.StatusCode.NOT_FOUND:
        return UnknownSymbol(message)
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return GatewayRejected(message)
    return GatewayError(message)
