"""Pure pb <-> domain functions for the SignalEngine API.

The tracker client adapter has its own copy of the Signal mapping (adapters and grpc_api
never import each other); a unit test checks that both encode a signal to the same bytes.
"""

from __future__ import annotations

from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp

from argo.marketdata.v1 import marketdata_pb2 as md_pb
from argo.signals.v1 import signals_pb2 as pb
from signal_engine.app import EngineStats, GenerationResult
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


def generate_response(result: GenerationResult) -> pb.GenerateSignalsResponse:
    return pb.GenerateSignalsResponse(
        signals=[signal_to_pb(s) for s in result.signals],
        failures=[pb.SymbolFailure(symbol=f.symbol, message=f.message) for f in result.failures],
    )


def latest_response(signals: list[Signal], missing: list[str]) -> pb.GetLatestSignalsResponse:
    return pb.GetLatestSignalsResponse(
        signals=[signal_to_pb(s) for s in signals], missing_symbols=missing
    )


def stats_to_pb(stats: EngineStats) -> pb.GetEngineStatsResponse:
    response = pb.GetEngineStatsResponse(
        cycles_total=stats.cycles_total,
        cycle_time_p50_ms=stats.cycle_time_p50_ms,
        cycle_time_p99_ms=stats.cycle_time_p99_ms,
        skip_rate=stats.skip_rate,
        upstream_calls_per_cycle=stats.upstream_calls_per_cycle,
        symbols_processed_total=stats.symbols_processed_total,
        symbols_skipped_total=stats.symbols_skipped_total,
        signals_published_total=stats.signals_published_total,
        outbox_depth=stats.outbox_depth,
        symbols=list(stats.symbols),
        replica_id=stats.replica_id,
        configured_symbols=list(stats.configured_symbols),
        outbox_refused_total=stats.outbox_refused_total,
        signals_deduplicated_total=stats.signals_deduplicated_total,
        delivered_total=stats.delivered_total,
    )
    if stats.last_cycle_time is not None:
        response.last_cycle_time.CopyFrom(timestamp_to_pb(stats.last_cycle_time))
    return response
