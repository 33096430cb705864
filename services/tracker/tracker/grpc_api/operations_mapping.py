"""Pure domain -> protobuf translation of the calibration, archive and analytics RPCs."""

from __future__ import annotations

from argo.tracker.v1 import tracker_pb2
from tracker.domain import (
    Analytics,
    ArchiveManifest,
    ArchiveRun,
    Calibration,
    CalibrationMethod,
)
from tracker.grpc_api.mapping import ACTION_TO_PB, datetime_to_pb

_METHOD_TO_PB = {
    CalibrationMethod.ISOTONIC: tracker_pb2.CALIBRATION_METHOD_ISOTONIC,
    CalibrationMethod.PLATT: tracker_pb2.CALIBRATION_METHOD_PLATT,
}


def calibration_response(c: Calibration) -> tracker_pb2.GetCalibrationResponse:
    return tracker_pb2.GetCalibrationResponse(
        symbol=c.symbol,
        global_fallback=c.global_fallback,
        method=_METHOD_TO_PB[c.method],
        points=[
            tracker_pb2.CalibrationPoint(raw_confidence=p.raw_confidence, probability=p.probability)
            for p in c.points
        ],
        sample_size=c.sample_size,
        brier_before=c.brier_before,
        brier_after=c.brier_after,
        ece_before=c.ece_before,
        ece_after=c.ece_after,
        fit_time=datetime_to_pb(c.fit_time),
        held_out_size=c.held_out_size,
    )


def archive_response(run: ArchiveRun) -> tracker_pb2.RunArchiveResponse:
    m = run.manifest
    return tracker_pb2.RunArchiveResponse(
        date=m.day.isoformat(),
        rows=m.rows,
        bytes=m.bytes,
        sha256=m.sha256,
        location=m.location,
        compression=m.compression.value,
        csv_location=m.csv_location,
        csv_bytes=m.csv_bytes,
        pruned_rows=run.pruned_rows,
        archive_time=datetime_to_pb(m.archive_time),
    )


def manifest_to_pb(m: ArchiveManifest) -> tracker_pb2.ArchiveManifest:
    return tracker_pb2.ArchiveManifest(
        date=m.day.isoformat(),
        rows=m.rows,
        bytes=m.bytes,
        sha256=m.sha256,
        location=m.location,
        compression=m.compression.value,
        csv_location=m.csv_location,
        csv_bytes=m.csv_bytes,
        archive_time=datetime_to_pb(m.archive_time),
        pruned=m.pruned,
    )


def analytics_response(a: Analytics) -> tracker_pb2.GetAnalyticsResponse:
    pb = tracker_pb2.GetAnalyticsResponse(
        daily=[
            tracker_pb2.DailySignalSummary(
                date=d.day.isoformat(),
                symbol=d.symbol,
                action=ACTION_TO_PB[d.action],
                signals=d.signals,
                avg_confidence=d.avg_confidence,
                open=d.open,
                wins=d.wins,
                losses=d.losses,
                expired=d.expired,
            )
            for d in a.daily
        ],
        symbols=[
            tracker_pb2.SymbolPerformance(
                symbol=p.symbol,
                signals=p.signals,
                open=p.open,
                wins=p.wins,
                losses=p.losses,
                expired=p.expired,
                win_rate=p.win_rate,
                avg_pnl_percent=p.avg_pnl_percent,
                total_pnl_percent=p.total_pnl_percent,
                last_signal_time=(
                    datetime_to_pb(p.last_signal_time) if p.last_signal_time else None
                ),
            )
            for p in a.symbols
        ],
        confidence=[
            tracker_pb2.ConfidenceBucket(
                symbol=b.symbol,
                confidence_low=b.low,
                confidence_high=b.high,
                signals=b.signals,
                avg_confidence=b.avg_confidence,
                wins=b.wins,
                losses=b.losses,
                win_rate=b.win_rate,
                avg_pnl_percent=b.avg_pnl_percent,
            )
            for b in a.confidence
        ],
    )
    if a.refresh_time is not None:
        pb.refresh_time.CopyFrom(datetime_to_pb(a.refresh_time))
    return pb
