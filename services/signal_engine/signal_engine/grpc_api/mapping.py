"""Pure pb <-> domain functions for the SignalEngine API.

The tracker client adapter has its own copy of the Signal mapping (adapters and grpc_api
never import each other); a unit test checks that both encode a signal to the same bytes.
"""

from __future__ import annotations

from argo.signals.v1 import signals_pb2 as pb
from signal_engine.app import EngineStats, GenerationResult
from signal_engine.domain import Signal
from signal_engine.signal_wire import (
    ACTION_TO_PB,
    CACHE_STATUS_TO_PB,
    REGIME_TO_PB,
    contribution_to_pb,
    signal_to_pb,
    timestamp_to_pb,
)

__all__ = [
    "ACTION_TO_PB",
    "CACHE_STATUS_TO_PB",
    "REGIME_TO_PB",
    "contribution_to_pb",
    "generate_response",
    "latest_response",
    "signal_to_pb",
    "stats_to_pb",
    "timestamp_to_pb",
]


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
