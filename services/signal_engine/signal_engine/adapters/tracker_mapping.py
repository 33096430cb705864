"""Engine domain signals -> argo.signals.v1 messages for the tracker, and gRPC errors ->
domain SinkErrors. Pure functions; protobuf types stop here."""

from __future__ import annotations

from datetime import UTC, datetime

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from argo.marketdata.v1 import marketdata_pb2 as md_pb
from argo.signals.v1 import signals_pb2 as pb
from argo.tracker.v1 import tracker_pb2
from signal_engine.domain import (
    Action,
    CacheStatus,
    Calibration,
    Regime,
    Signal,
    SinkError,
    SinkRejected,
    SinkUnavailable,
    SourceContribution,
)
from signal_engine.ports import RecordReceipt

ACTION_TO_PB: dict[Action, pb.Action.ValueType] = {
    Action.BUY: pb.ACTION_BUY,
    Action.SELL: pb.ACTION_SELL,
    Action.HOLD: pb.ACTION_HOLD,
}
REGIME_TO_PB: dict[Regime, pb.Regime.ValueType] = {
    Regime.UNSPECIFIED: pb.REGIME_UNSPECIFIED,
    Regime.TRENDING: pb.REGIME_TRENDING,
    Regime.RANGING: pb.REGIME_RANGING,
    Regime.VOLATILE: pb.REGIME_VOLATILE,
}
CACHE_STATUS_TO_PB: dict[CacheStatus, md_pb.CacheStatus.ValueType] = {
    CacheStatus.UNSPECIFIED: md_pb.CACHE_STATUS_UNSPECIFIED,
    CacheStatus.MISS: md_pb.CACHE_STATUS_MISS,
    CacheStatus.HIT_LOCAL: md_pb.CACHE_STATUS_HIT_LOCAL,
    CacheStatus.HIT_SHARED: md_pb.CACHE_STATUS_HIT_SHARED,
    CacheStatus.STALE: md_pb.CACHE_STATUS_STALE,
    CacheStatus.STREAM: md_pb.CACHE_STATUS_STREAM,
}
# Worth retrying later: the tracker is away, overloaded, not yet implementing the call, or
# failed on its side. Only INVALID_ARGUMENT says the batch itself is wrong.
_REJECTED = {grpc.StatusCode.INVALID_ARGUMENT}


def _timestamp(instant: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(instant)
    return stamp


def _contribution_to_pb(part: SourceContribution) -> pb.SourceContribution:
    return pb.SourceContribution(
        source=part.source,
        direction=part.direction,
        confidence=part.confidence,
        weight=part.weight,
        data_age_ms=part.data_age_ms,
        provider=part.provider,
        cache_status=CACHE_STATUS_TO_PB[part.cache_status],
        contribution=part.contribution,
        raw_contribution=part.raw_contribution,
    )


def signal_to_pb(signal: Signal) -> pb.Signal:
    return pb.Signal(
        signal_id=signal.signal_id,
        symbol=signal.symbol,
        action=ACTION_TO_PB[signal.action],
        confidence=signal.confidence,
        raw_confidence=signal.raw_confidence,
        entry_price=signal.entry_price,
        target_price=signal.target_price,
        stop_price=signal.stop_price,
        create_time=_timestamp(signal.create_time),
        expire_time=_timestamp(signal.expire_time),
        regime=REGIME_TO_PB[signal.regime],
        lineage=[_contribution_to_pb(p) for p in signal.lineage],
        trace_id=signal.trace_id,
        reused=signal.reused,
        stale=signal.stale,
    )


def error_from_rpc(error: grpc.aio.AioRpcError) -> SinkError:
    code = error.code()
    message = f"tracker RecordSignals: {code.name}: {error.details() or ''}".rstrip(": ")
    if code in _REJECTED:
        return SinkRejected(message)
    return SinkUnavailable(message)


def calibration_from_pb(response: tracker_pb2.GetCalibrationResponse) -> Calibration:
    """A domain calibration; raise ValueError when the knots are malformed."""
    return Calibration(
        symbol=response.symbol,
        points=tuple((p.raw_confidence, p.probability) for p in response.points),
        global_fallback=response.global_fallback,
        fit_time=response.fit_time.ToDatetime(tzinfo=UTC)
        if response.HasField("fit_time")
        else None,
    )


def receipt_from_pb(response: tracker_pb2.RecordSignalsResponse) -> RecordReceipt:
    """Counts and the per-item rejections (an older tracker answers counts only)."""
    rejected = {
        r.signal_id: r.reason or "rejected by the tracker"
        for r in response.results
        if r.status == tracker_pb2.RECORD_STATUS_REJECTED
    }
    return RecordReceipt(response.accepted, response.duplicate, rejected)
