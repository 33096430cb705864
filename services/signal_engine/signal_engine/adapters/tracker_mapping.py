"""Engine domain signals -> argo.signals.v1 messages for the tracker, and gRPC errors ->
domain SinkErrors. Pure functions; protobuf types stop here."""

from __future__ import annotations

from datetime import UTC

import grpc

from argo.tracker.v1 import tracker_pb2
from signal_engine.domain import (
    Calibration,
    SinkError,
    SinkRejected,
    SinkUnavailable,
)
from signal_engine.ports import RecordReceipt
from signal_engine.signal_wire import (
    ACTION_TO_PB,
    CACHE_STATUS_TO_PB,
    REGIME_TO_PB,
    signal_to_pb,
)

__all__ = [
    "ACTION_TO_PB",
    "CACHE_STATUS_TO_PB",
    "REGIME_TO_PB",
    "calibration_from_pb",
    "error_from_rpc",
    "receipt_from_pb",
    "signal_to_pb",
]

# Worth retrying later: the tracker is away, overloaded, not yet implementing the call, or
# failed on its side. Only INVALID_ARGUMENT says the batch itself is wrong.
_REJECTED = {grpc.StatusCode.INVALID_ARGUMENT}


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
