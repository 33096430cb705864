"""Pure pb mapping and request validation of the gRPC edge."""

from __future__ import annotations

from datetime import UTC, datetime

from argo.signals.v1 import signals_pb2 as pb
from signal_engine.adapters import tracker_mapping
from signal_engine.app import EngineStats
from signal_engine.domain import GatewayTimeout, SinkRejected, UnknownSymbol
from signal_engine.grpc_api import mapping
from signal_engine.grpc_api.errors import status_code_for
from signal_engine.grpc_api.validation import symbols_violations

from .test_client_adapters import SIGNAL


def test_tracker_and_api_mappings_encode_a_signal_identically() -> None:
    a = tracker_mapping.signal_to_pb(SIGNAL).SerializeToString(deterministic=True)
    b = mapping.signal_to_pb(SIGNAL).SerializeToString(deterministic=True)
    assert a == b and len(a) > 100


def test_stats_mapping() -> None:
    ended = datetime(2026, 11, 17, 15, 30, tzinfo=UTC)
    stats = EngineStats(
        cycles_total=3,
        cycle_time_p50_ms=12.5,
        cycle_time_p99_ms=40.0,
        avg_cycle_seconds=0.02,
        skip_rate=0.25,
        upstream_calls_per_cycle=3.5,
        symbols_processed_total=8,
        symbols_skipped_total=2,
        signals_published_total=6,
        signals_deduplicated_total=1,
        outbox_depth=4,
        outbox_refused_total=5,
        delivered_total=2,
        stream_dropped_total=0,
        last_cycle_time=ended,
        symbols=("AAPL",),
        configured_symbols=("AAPL", "MSFT"),
        replica_id="engine-1",
    )
    reply = mapping.stats_to_pb(stats)
    assert reply == pb.GetEngineStatsResponse(
        cycles_total=3,
        cycle_time_p50_ms=12.5,
        cycle_time_p99_ms=40.0,
        skip_rate=0.25,
        upstream_calls_per_cycle=3.5,
        symbols_processed_total=8,
        symbols_skipped_total=2,
        signals_published_total=6,
        outbox_depth=4,
        symbols=["AAPL"],
        last_cycle_time=mapping.timestamp_to_pb(ended),
        replica_id="engine-1",
        configured_symbols=["AAPL", "MSFT"],
        outbox_refused_total=5,
        signals_deduplicated_total=1,
        delivered_total=2,
    )


def test_validation_accepts_0_to_500_valid_symbols() -> None:
    assert symbols_violations([]) == []
    assert symbols_violations(["AAPL", "btc/usd", "X:ETHUSD", "BRK.B"] * 125) == []


def test_validation_caps_the_number_of_listed_violations() -> None:
    found = symbols_violations(["!"] * 600)
    assert found[0] == ("symbols", "must hold at most 500 symbols, got 600")
    assert len(found) == 50 and found[1][0] == "symbols[0]"


def test_error_table_walks_the_class_hierarchy() -> None:
    import grpc

    assert status_code_for(GatewayTimeout("slow")) == grpc.StatusCode.UNAVAILABLE
    assert status_code_for(UnknownSymbol("?")) == grpc.StatusCode.NOT_FOUND
    assert status_code_for(SinkRejected("bad")) == grpc.StatusCode.UNAVAILABLE
    assert status_code_for(TimeoutError()) == grpc.StatusCode.DEADLINE_EXCEEDED
    assert status_code_for(KeyError("bug")) is None
