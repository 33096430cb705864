"""Prometheus metrics specific to the signal engine (shared names: observability.metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

SYMBOL_EVALUATIONS = Counter(
    "argo_signal_engine_symbol_evaluations_total",
    "Symbol evaluations by result (computed, skipped, stale, failed).",
    ["result"],
)
SIGNALS_PUBLISHED = Counter(
    "argo_signal_engine_signals_published_total",
    "New (not reused) signals formed, by action.",
    ["action"],
)
UPSTREAM_CALLS = Counter(
    "argo_signal_engine_upstream_calls_total",
    "Calls to the market gateway, by method.",
    ["method"],
)
PENDING_DELIVERIES = Gauge(
    "argo_signal_engine_outbox_depth",
    "Signals waiting for delivery to the tracker.",
)
DELIVERIES = Counter(
    "argo_signal_engine_deliveries_total",
    "Signals handed to the tracker, by result (accepted, duplicate, rejected, dropped).",
    ["result"],
)
DELIVERY_FAILURES = Counter(
    "argo_signal_engine_delivery_failures_total",
    "RecordSignals attempts that failed and will be retried.",
)
STREAM_DROPPED = Counter(
    "argo_signal_engine_stream_dropped_total",
    "Signals dropped for a StreamSignals subscriber that fell behind.",
)
STREAM_SUBSCRIBERS = Gauge(
    "argo_signal_engine_stream_subscribers",
    "Open StreamSignals subscriptions.",
)
