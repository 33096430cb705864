"""Tracker-specific Prometheus metrics (module-level so each name registers once)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

SIGNALS_RECORDED = Counter(
    "argo_tracker_signals_recorded_total",
    "Signals received by RecordSignals, by result (accepted, duplicate).",
    ["result"],
)
BATCHES_REJECTED = Counter(
    "argo_tracker_batches_rejected_total",
    "RecordSignals batches rejected as invalid (nothing stored).",
)
STORAGE_SECONDS = Histogram(
    "argo_tracker_storage_duration_seconds",
    "Time of one storage operation (record, query, outcome_stats).",
    ["operation"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
STORAGE_UNAVAILABLE = Counter(
    "argo_tracker_storage_unavailable_total",
    "Storage operations that failed because the database was unavailable.",
    ["operation"],
)
