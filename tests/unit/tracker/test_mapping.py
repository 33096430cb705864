"""protobuf <-> domain mapping of the Tracker API."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from google.protobuf.timestamp_pb2 import Timestamp

from argo.marketdata.v1 import marketdata_pb2
from argo.signals.v1 import signals_pb2
from argo.tracker.v1 import tracker_pb2
from tracker.domain import (
    Action,
    BatchResult,
    ItemResult,
    Outcome,
    OutcomeStats,
    RecordStatus,
    Regime,
    SignalFilter,
    TrackedSignal,
)
from tracker.grpc_api import mapping

from .factories import T0, make_sell, make_signal


def test_signal_round_trips_through_protobuf() -> None:
    for signal in (make_signal(), make_sell(regime=Regime.VOLATILE, lineage=(), trace_id="")):
        assert mapping.signal_from_pb(mapping.signal_to_pb(signal)) == signal


def test_signal_to_pb_carries_enums_lineage_and_timestamps() -> None:
    pb = mapping.signal_to_pb(make_signal(create_time=T0 + timedelta(microseconds=250)))
    assert pb.action == signals_pb2.ACTION_BUY
    assert pb.regime == signals_pb2.REGIME_TRENDING
    assert pb.create_time.seconds == int(T0.timestamp()) and pb.create_time.nanos == 250_000
    assert [c.source for c in pb.lineage] == ["sma_crossover", "sentiment:xai"]
    assert pb.lineage[0].cache_status == marketdata_pb2.CACHE_STATUS_HIT_LOCAL


def test_from_pb_lowercases_the_id_and_truncates_nanoseconds() -> None:
    pb = mapping.signal_to_pb(make_signal())
    pb.signal_id = pb.signal_id.upper()
    pb.create_time.nanos = 123_456_789
    signal = mapping.signal_from_pb(pb)
    assert signal.signal_id == pb.signal_id.lower()
    assert signal.create_time.microsecond == 123_456


def test_tracked_signal_open_and_resolved() -> None:
    signal = make_signal()
    open_pb = mapping.tracked_to_pb(TrackedSignal(signal=signal, record_time=T0))
    assert open_pb.outcome == tracker_pb2.OUTCOME_OPEN
    assert not open_pb.HasField("exit_time") and open_pb.exit_price == 0.0
    resolved = TrackedSignal(
        signal=signal,
        record_time=T0,
        outcome=Outcome.LOSS,
        exit_price=187.0,
        exit_time=T0 + timedelta(hours=2),
        pnl_percent=-1.64,
    )
    pb = mapping.tracked_to_pb(resolved)
    assert (pb.outcome, pb.exit_price, pb.pnl_percent) == (tracker_pb2.OUTCOME_LOSS, 187.0, -1.64)
    assert mapping.datetime_from_pb(pb.exit_time) == T0 + timedelta(hours=2)
    assert mapping.signal_from_pb(pb.signal) == signal


def test_filter_from_pb_maps_every_field() -> None:
    start, end = Timestamp(), Timestamp()
    start.FromDatetime(T0)
    end.FromDatetime(T0 + timedelta(days=1))
    pb = tracker_pb2.SignalFilter(
        symbols=["AAPL", "BTC-USD"],
        actions=[signals_pb2.ACTION_SELL],
        outcomes=[tracker_pb2.OUTCOME_WIN, tracker_pb2.OUTCOME_EXPIRED],
        start_time=start,
        end_time=end,
        min_confidence=55.5,
    )
    assert mapping.filter_from_pb(pb) == SignalFilter(
        symbols=frozenset({"AAPL", "BTC-USD"}),
        actions=frozenset({Action.SELL}),
        outcomes=frozenset({Outcome.WIN, Outcome.EXPIRED}),
        start_time=T0,
        end_time=T0 + timedelta(days=1),
        min_confidence=55.5,
    )
    assert mapping.filter_from_pb(tracker_pb2.SignalFilter()) == SignalFilter()


def test_stats_response_derives_rates() -> None:
    stats = OutcomeStats(
        total=9, open=2, wins=3, losses=1, expired=3, total_pnl_percent=7.0, pnl_samples=7
    )
    pb = mapping.stats_response(stats)
    assert (pb.total, pb.open, pb.wins, pb.losses, pb.expired) == (9, 2, 3, 1, 3)
    assert (pb.win_rate, pb.avg_pnl_percent, pb.total_pnl_percent) == (0.75, 1.0, 7.0)


def test_every_domain_enum_member_has_a_protobuf_value() -> None:
    signal = make_signal()
    for regime in Regime:
        assert (
            mapping.signal_from_pb(mapping.signal_to_pb(replace(signal, regime=regime))).regime
            is regime
        )
    for outcome in Outcome:
        pb = mapping.tracked_to_pb(TrackedSignal(signal=signal, record_time=T0, outcome=outcome))
        assert mapping.OUTCOME_FROM_PB[pb.outcome] is outcome


def test_tracked_to_pb_carries_the_mark_and_the_archive_flag() -> None:
    signal = make_sell(entry_price=100.0, target_price=95.0, stop_price=103.0)
    open_ = TrackedSignal(
        signal=signal, record_time=T0, mark_price=98.0, mark_time=T0 + timedelta(minutes=3)
    )
    pb = mapping.tracked_to_pb(open_)
    assert (pb.mark_price, pb.open_pnl_percent, pb.archived) == (98.0, 2.0, False)
    assert pb.mark_time.ToDatetime().minute == 3 and not pb.HasField("exit_time")
    resolved = replace(
        open_, outcome=Outcome.WIN, exit_price=95.0, exit_time=T0, pnl_percent=5.0, archived=True
    )
    pb = mapping.tracked_to_pb(resolved)
    assert (pb.open_pnl_percent, pb.pnl_percent, pb.archived) == (0.0, 5.0, True)


def test_record_response_answers_every_item_in_order() -> None:
    batch = BatchResult(
        (
            ItemResult(signal_id="a", status=RecordStatus.ACCEPTED),
            ItemResult(
                signal_id="b",
                status=RecordStatus.REJECTED,
                violations=(("confidence", "must be within 0..100, got 120.0"), ("symbol", "x")),
            ),
            ItemResult(signal_id="a", status=RecordStatus.DUPLICATE),
        )
    )
    pb = mapping.record_response(batch)
    assert (pb.accepted, pb.duplicate, pb.rejected) == (1, 1, 1)
    assert [(r.signal_id, r.status) for r in pb.results] == [
        ("a", tracker_pb2.RECORD_STATUS_ACCEPTED),
        ("b", tracker_pb2.RECORD_STATUS_REJECTED),
        ("a", tracker_pb2.RECORD_STATUS_DUPLICATE),
    ]
    assert pb.results[1].reason == "confidence: must be within 0..100, got 120.0; symbol: x"
    assert [v.field for v in pb.results[1].violations] == ["confidence", "symbol"]
