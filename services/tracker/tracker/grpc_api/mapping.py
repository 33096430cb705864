"""Pure protobuf <-> domain translation for the Tracker API.

`*_from_pb` functions expect a request that passed `validation` (known enum values, required
timestamps present); they never validate business rules themselves.
"""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from argo.marketdata.v1 import marketdata_pb2
from argo.signals.v1 import signals_pb2
from argo.tracker.v1 import tracker_pb2
from tracker.domain import (
    Action,
    BatchResult,
    CacheStatus,
    Outcome,
    OutcomeStats,
    RecordStatus,
    Regime,
    Signal,
    SignalFilter,
    SignalPage,
    SourceContribution,
    TrackedSignal,
)

ACTION_FROM_PB: dict[int, Action] = {
    signals_pb2.ACTION_BUY: Action.BUY,
    signals_pb2.ACTION_SELL: Action.SELL,
    signals_pb2.ACTION_HOLD: Action.HOLD,
}
REGIME_FROM_PB: dict[int, Regime] = {
    signals_pb2.REGIME_UNSPECIFIED: Regime.UNSPECIFIED,
    signals_pb2.REGIME_TRENDING: Regime.TRENDING,
    signals_pb2.REGIME_RANGING: Regime.RANGING,
    signals_pb2.REGIME_VOLATILE: Regime.VOLATILE,
}
OUTCOME_FROM_PB: dict[int, Outcome] = {
    tracker_pb2.OUTCOME_OPEN: Outcome.OPEN,
    tracker_pb2.OUTCOME_WIN: Outcome.WIN,
    tracker_pb2.OUTCOME_LOSS: Outcome.LOSS,
    tracker_pb2.OUTCOME_EXPIRED: Outcome.EXPIRED,
}
CACHE_STATUS_FROM_PB: dict[int, CacheStatus] = {
    marketdata_pb2.CACHE_STATUS_UNSPECIFIED: CacheStatus.UNSPECIFIED,
    marketdata_pb2.CACHE_STATUS_MISS: CacheStatus.MISS,
    marketdata_pb2.CACHE_STATUS_HIT_LOCAL: CacheStatus.HIT_LOCAL,
    marketdata_pb2.CACHE_STATUS_HIT_SHARED: CacheStatus.HIT_SHARED,
    marketdata_pb2.CACHE_STATUS_STALE: CacheStatus.STALE,
    marketdata_pb2.CACHE_STATUS_STALE_ON_ERROR: CacheStatus.STALE_ON_ERROR,
    marketdata_pb2.CACHE_STATUS_STREAM: CacheStatus.STREAM,
}
ACTION_TO_PB = {v: signals_pb2.Action.ValueType(k) for k, v in ACTION_FROM_PB.items()}
_REGIME_TO_PB = {v: signals_pb2.Regime.ValueType(k) for k, v in REGIME_FROM_PB.items()}
_OUTCOME_TO_PB = {v: tracker_pb2.Outcome.ValueType(k) for k, v in OUTCOME_FROM_PB.items()}
_RECORD_STATUS_TO_PB = {
    RecordStatus.ACCEPTED: tracker_pb2.RECORD_STATUS_ACCEPTED,
    RecordStatus.DUPLICATE: tracker_pb2.RECORD_STATUS_DUPLICATE,
    RecordStatus.REJECTED: tracker_pb2.RECORD_STATUS_REJECTED,
}
_CACHE_STATUS_TO_PB = {
    v: marketdata_pb2.CacheStatus.ValueType(k) for k, v in CACHE_STATUS_FROM_PB.items()
}


def datetime_from_pb(ts: Timestamp) -> datetime:
    """UTC-aware datetime, truncated to microseconds (the storage precision)."""
    return ts.ToDatetime(tzinfo=UTC)


def datetime_to_pb(instant: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(instant)
    return ts


def contribution_from_pb(pb: signals_pb2.SourceContribution) -> SourceContribution:
    return SourceContribution(
        source=pb.source,
        direction=pb.direction,
        confidence=pb.confidence,
        weight=pb.weight,
        data_age_ms=pb.data_age_ms,
        provider=pb.provider,
        cache_status=CACHE_STATUS_FROM_PB[pb.cache_status],
    )


def signal_from_pb(pb: signals_pb2.Signal) -> Signal:
    return Signal(
        signal_id=pb.signal_id.lower(),  # UUIDs are case-insensitive; store one spelling
        symbol=pb.symbol,
        action=ACTION_FROM_PB[pb.action],
        confidence=pb.confidence,
        raw_confidence=pb.raw_confidence,
        entry_price=pb.entry_price,
        target_price=pb.target_price,
        stop_price=pb.stop_price,
        create_time=datetime_from_pb(pb.create_time),
        expire_time=datetime_from_pb(pb.expire_time),
        regime=REGIME_FROM_PB[pb.regime],
        lineage=tuple(contribution_from_pb(c) for c in pb.lineage),
        trace_id=pb.trace_id,
        reused=pb.reused,
        stale=pb.stale,
    )


def signal_to_pb(signal: Signal) -> signals_pb2.Signal:
    return signals_pb2.Signal(
        signal_id=signal.signal_id,
        symbol=signal.symbol,
        action=ACTION_TO_PB[signal.action],
        confidence=signal.confidence,
        raw_confidence=signal.raw_confidence,
        entry_price=signal.entry_price,
        target_price=signal.target_price,
        stop_price=signal.stop_price,
        create_time=datetime_to_pb(signal.create_time),
        expire_time=datetime_to_pb(signal.expire_time),
        regime=_REGIME_TO_PB[signal.regime],
        lineage=[
            signals_pb2.SourceContribution(
                source=c.source,
                direction=c.direction,
                confidence=c.confidence,
                weight=c.weight,
                data_age_ms=c.data_age_ms,
                provider=c.provider,
                cache_status=_CACHE_STATUS_TO_PB[c.cache_status],
            )
            for c in signal.lineage
        ],
        trace_id=signal.trace_id,
        reused=signal.reused,
        stale=signal.stale,
    )


def tracked_to_pb(tracked: TrackedSignal) -> tracker_pb2.TrackedSignal:
    pb = tracker_pb2.TrackedSignal(
        signal=signal_to_pb(tracked.signal),
        outcome=_OUTCOME_TO_PB[tracked.outcome],
        exit_price=tracked.exit_price or 0.0,
        pnl_percent=tracked.pnl_percent or 0.0,
        record_time=datetime_to_pb(tracked.record_time),
        mark_price=tracked.mark_price or 0.0,
        open_pnl_percent=tracked.open_pnl_percent or 0.0,
        archived=tracked.archived,
    )
    if tracked.exit_time is not None:
        pb.exit_time.CopyFrom(datetime_to_pb(tracked.exit_time))
    if tracked.mark_time is not None:
        pb.mark_time.CopyFrom(datetime_to_pb(tracked.mark_time))
    return pb


def filter_from_pb(pb: tracker_pb2.SignalFilter) -> SignalFilter:
    return SignalFilter(
        symbols=frozenset(pb.symbols),
        actions=frozenset(ACTION_FROM_PB[a] for a in pb.actions),
        outcomes=frozenset(OUTCOME_FROM_PB[o] for o in pb.outcomes),
        start_time=datetime_from_pb(pb.start_time) if pb.HasField("start_time") else None,
        end_time=datetime_from_pb(pb.end_time) if pb.HasField("end_time") else None,
        min_confidence=pb.min_confidence,
    )


def record_response(batch: BatchResult) -> tracker_pb2.RecordSignalsResponse:
    return tracker_pb2.RecordSignalsResponse(
        accepted=batch.accepted,
        duplicate=batch.duplicate,
        rejected=batch.rejected,
        results=[
            tracker_pb2.RecordResult(
                signal_id=item.signal_id,
                status=_RECORD_STATUS_TO_PB[item.status],
                reason=item.reason,
                violations=[
                    tracker_pb2.Violation(field=f, description=d) for f, d in item.violations
                ],
            )
            for item in batch.items
        ],
    )


def query_response(page: SignalPage) -> tracker_pb2.QuerySignalsResponse:
    return tracker_pb2.QuerySignalsResponse(
        signals=[tracked_to_pb(t) for t in page.signals],
        next_page_token=page.next_page_token,
    )


def stats_response(stats: OutcomeStats) -> tracker_pb2.GetOutcomeStatsResponse:
    return tracker_pb2.GetOutcomeStatsResponse(
        total=stats.total,
        open=stats.open,
        wins=stats.wins,
        losses=stats.losses,
        expired=stats.expired,
        win_rate=stats.win_rate,
        avg_pnl_percent=stats.avg_pnl_percent,
        total_pnl_percent=stats.total_pnl_percent,
    )
