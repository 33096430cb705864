"""Tracker-specific Prometheus metrics (module-level so each name registers once).

Alerting rules use these names; keep them stable.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

SIGNALS_RECORDED = Counter(
    "argo_tracker_signals_recorded_total",
    "Signals received by RecordSignals, by result (accepted, duplicate, rejected).",
    ["result"],
)
BATCHES_REJECTED = Counter(
    "argo_tracker_batches_rejected_total",
    "RecordSignals batches rejected as a whole (bad size, or all_or_nothing with an "
    "invalid signal); nothing stored.",
)
STORAGE_SECONDS = Histogram(
    "argo_tracker_storage_duration_seconds",
    "Time of one storage operation (record, query, outcome_stats, ...).",
    ["operation"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
STORAGE_UNAVAILABLE = Counter(
    "argo_tracker_storage_unavailable_total",
    "Storage operations that failed because the database was unavailable.",
    ["operation"],
)

# Outcome tracking.
OUTCOMES = Counter(
    "argo_tracker_outcomes_total",
    "Signals resolved by the outcome tracker, by outcome (WIN, LOSS, EXPIRED).",
    ["outcome"],
)
WIN_RATE = Gauge(
    "argo_tracker_win_rate",
    "wins / (wins + losses) of signals created in the last 30 days.",
)
OPEN_SIGNALS = Gauge("argo_tracker_open_signals", "Signals still being tracked.")
OUTCOME_PASS_SECONDS = Histogram(
    "argo_tracker_outcome_pass_duration_seconds",
    "Time of one outcome-tracking pass over every due open signal.",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)
OUTCOME_PASS_FAILURES = Counter(
    "argo_tracker_outcome_pass_failures_total",
    "Outcome-tracking passes that failed with an unexpected error (a bug; see the logs).",
)
PRICE_FAILURES = Counter(
    "argo_tracker_price_fetch_failures_total",
    "Gateway price calls that failed during outcome tracking, by call (quotes, bars).",
    ["call"],
)

# Calibration.
CALIBRATION_ECE = Gauge(
    "argo_tracker_calibration_ece",
    "Expected calibration error after calibration on held-out outcomes, by symbol "
    "('global' for the all-symbols fit).",
    ["symbol"],
)
CALIBRATION_BRIER = Gauge(
    "argo_tracker_calibration_brier",
    "Brier score after calibration on held-out outcomes, by symbol.",
    ["symbol"],
)
CALIBRATION_FITS = Counter(
    "argo_tracker_calibration_fits_total",
    "Calibration refits by result (fitted, skipped, failed).",
    ["result"],
)

# Archive.
ARCHIVE_RUNS = Counter("argo_tracker_archive_runs_total", "Archive runs that succeeded.")
ARCHIVE_FAILURES = Counter(
    "argo_tracker_archive_failures_total",
    "Archive runs that failed (object store or database down, verification failed).",
)
ARCHIVE_BYTES = Counter(
    "argo_tracker_archive_bytes_total",
    "Bytes written to the archive (Parquet plus optional CSV), verified.",
)
ARCHIVE_PRUNED = Counter(
    "argo_tracker_archive_pruned_rows_total",
    "Rows deleted from the hot store after their day was archived and verified.",
)
ANALYTICS_REFRESHES = Counter(
    "argo_tracker_analytics_refreshes_total",
    "Analytics view refreshes by result (refreshed, skipped, failed).",
    ["result"],
)
