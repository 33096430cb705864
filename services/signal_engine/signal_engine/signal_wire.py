"""The engine's domain Signal as an argo.signals.v1 message.

One module for both edges that send signals out (the gRPC API and the tracker client),
which DESIGN.md's layers keep from importing each other. Pure functions; no I/O.
"""

from __future__ import annotations

from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp

from argo.marketdata.v1 import marketdata_pb2 as md_pb
from argo.signals.v1 import signals_pb2 as pb
from signal_engine.domain import Action, CacheStatus, Regime, Signal, SourceContribution

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
    CacheStatus.STALE_ON_ERROR: md_pb.CACHE_STATUS_STALE_ON_ERROR,
    CacheStatus.STREAM: md_pb.CACHE_STATUS_STREAM,
}


def timestamp_to_pb(instant: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(instant)
    return stamp


def contribution_to_pb(part: SourceContribution) -> pb.SourceContribution:
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
        create_time=timestamp_to_pb(signal.create_time),
        expire_time=timestamp_to_pb(signal.expire_time),
        regime=REGIME_TO_PB[signal.regime],
        lineage=[contribution_to_pb(p) for p in signal.lineage],
        trace_id=signal.trace_id,
        reused=signal.reused,
        stale=signal.stale,
    )
