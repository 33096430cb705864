"""Pure conversions between protobuf messages and domain objects (protobuf stays here)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from google.protobuf.timestamp_pb2 import Timestamp

from argo.marketdata.v1 import marketdata_pb2 as pb
from market_gateway.domain import (
    Bar,
    BarSeries,
    BreakerState,
    CacheStatus,
    ErrorReason,
    ProviderStatus,
    Quote,
    Sentiment,
    StreamEvent,
    SymbolError,
    Timeframe,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
CACHE_STATUS_TO_PB: dict[CacheStatus, pb.CacheStatus.ValueType] = {
    CacheStatus.MISS: pb.CACHE_STATUS_MISS,
    CacheStatus.HIT_LOCAL: pb.CACHE_STATUS_HIT_LOCAL,
    CacheStatus.HIT_SHARED: pb.CACHE_STATUS_HIT_SHARED,
    CacheStatus.STALE: pb.CACHE_STATUS_STALE,
    CacheStatus.STALE_ON_ERROR: pb.CACHE_STATUS_STALE_ON_ERROR,
    CacheStatus.STREAM: pb.CACHE_STATUS_STREAM,
}
TIMEFRAME_FROM_PB: dict[pb.Timeframe.ValueType, Timeframe] = {
    pb.TIMEFRAME_ONE_MINUTE: Timeframe.ONE_MINUTE,
    pb.TIMEFRAME_FIVE_MINUTES: Timeframe.FIVE_MINUTES,
    pb.TIMEFRAME_FIFTEEN_MINUTES: Timeframe.FIFTEEN_MINUTES,
    pb.TIMEFRAME_ONE_HOUR: Timeframe.ONE_HOUR,
    pb.TIMEFRAME_ONE_DAY: Timeframe.ONE_DAY,
}
ERROR_REASON_TO_PB: dict[ErrorReason, pb.ErrorReason.ValueType] = {
    ErrorReason.UNKNOWN_SYMBOL: pb.ERROR_REASON_UNKNOWN_SYMBOL,
    ErrorReason.PROVIDER_UNAVAILABLE: pb.ERROR_REASON_PROVIDER_UNAVAILABLE,
    ErrorReason.RATE_LIMITED: pb.ERROR_REASON_RATE_LIMITED,
    ErrorReason.BAD_DATA: pb.ERROR_REASON_BAD_DATA,
}
BREAKER_STATE_TO_PB: dict[BreakerState, pb.BreakerState.ValueType] = {
    BreakerState.CLOSED: pb.BREAKER_STATE_CLOSED,
    BreakerState.OPEN: pb.BREAKER_STATE_OPEN,
    BreakerState.HALF_OPEN: pb.BREAKER_STATE_HALF_OPEN,
    BreakerState.DISABLED: pb.BREAKER_STATE_DISABLED,
}


def timestamp_to_pb(instant: datetime) -> Timestamp:
    micros = (instant - _EPOCH) // _MICROSECOND  # exact, and faster than FromDatetime
    seconds, micro = divmod(micros, 1_000_000)
    return Timestamp(seconds=seconds, nanos=micro * 1000)


def timestamp_from_pb(stamp: Timestamp) -> datetime:
    return stamp.ToDatetime(tzinfo=UTC)


def quote_to_pb(quote: Quote) -> pb.Quote:
    return pb.Quote(
        symbol=quote.symbol,
        price=quote.price,
        bid=quote.bid,
        ask=quote.ask,
        volume=quote.volume,
        time=timestamp_to_pb(quote.time),
        provider=quote.provider,
        cache_status=CACHE_STATUS_TO_PB[quote.cache_status],
        age_ms=quote.age_ms,
    )


def symbol_error_to_pb(error: SymbolError) -> pb.SymbolError:
    return pb.SymbolError(
        symbol=error.symbol,
        reason=ERROR_REASON_TO_PB[error.reason],
        message=error.message,
        retry_after_ms=error.retry_after_ms,
    )


def bar_to_pb(bar: Bar) -> pb.Bar:
    return pb.Bar(
        start_time=timestamp_to_pb(bar.start_time),
        open=bar.open,
        high=bar.high,
        low=bar.low,
        close=bar.close,
        volume=bar.volume,
        vwap=bar.vwap,
        trade_count=bar.trade_count,
    )


def bars_response_to_pb(series: BarSeries) -> pb.GetBarsResponse:
    return pb.GetBarsResponse(
        symbol=series.symbol,
        bars=[bar_to_pb(b) for b in series.bars],
        provider=series.provider,
        cache_status=CACHE_STATUS_TO_PB[series.cache_status],
        age_ms=series.age_ms,
    )


def bars_window_from_pb(
    request: pb.GetBarsRequest,
) -> tuple[datetime | None, datetime | None]:
    start = timestamp_from_pb(request.start_time) if request.HasField("start_time") else None
    end = timestamp_from_pb(request.end_time) if request.HasField("end_time") else None
    return start, end


def stream_event_to_pb(event: StreamEvent) -> pb.StreamQuotesResponse:
    message = pb.StreamQuotesResponse(
        symbol=event.symbol, sequence=event.sequence, resume_token=event.resume_token
    )
    if event.quote is not None:
        message.quote.CopyFrom(quote_to_pb(event.quote))
    elif event.gap is not None:
        gap = event.gap
        message.gap.CopyFrom(
            pb.Gap(from_sequence=gap.from_sequence, to_sequence=gap.to_sequence, reason=gap.reason)
        )
    elif event.backfilled is not None:
        window = event.backfilled
        message.backfilled.CopyFrom(
            pb.Backfilled(
                from_time=timestamp_to_pb(window.start), to_time=timestamp_to_pb(window.end)
            )
        )
    return message


def sentiment_to_pb(verdict: Sentiment) -> pb.GetSentimentResponse:
    return pb.GetSentimentResponse(
        symbol=verdict.symbol,
        score=verdict.score,
        confidence=verdict.confidence,
        rationale=verdict.rationale,
        citations=list(verdict.citations),
        provider=verdict.provider,
        time=timestamp_to_pb(verdict.time),
        cache_status=CACHE_STATUS_TO_PB[verdict.cache_status],
        age_ms=verdict.age_ms,
    )


def provider_status_to_pb(status: ProviderStatus) -> pb.ProviderStatus:
    message = pb.ProviderStatus(
        name=status.name,
        enabled=status.enabled,
        breaker_state=BREAKER_STATE_TO_PB[status.breaker_state],
        limiter_remaining=status.limiter_remaining,
        latency_p50_ms=status.latency_p50_ms,
        latency_p99_ms=status.latency_p99_ms,
        calls_total=status.calls_total,
        errors_total=status.errors_total,
        cost_usd_total=status.cost_usd_total,
        last_error=status.last_error,
    )
    if status.paused_until is not None:
        message.paused_until.CopyFrom(timestamp_to_pb(status.paused_until))
    if status.demoted_until is not None:
        message.demoted_until.CopyFrom(timestamp_to_pb(status.demoted_until))
    return message
