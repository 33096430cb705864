"""Prometheus metrics specific to the signal engine (shared names: observability.metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

SYMBOL_EVALUATIONS = Counter(
    "argo_signal_engine_symbol_evaluations_total",
    "Symbol evaluations by result (computed, skipped, deduplicated, stale, failed).",
    ["result"],
)
POLLS_DEFERRED = Counter(
    "argo_signal_engine_polls_deferred_total",
    "Owned symbols left out of a cycle by adaptive polling (quiet or market closed).",
)
COMPONENT_RECOMPUTES = Counter(
    "argo_signal_engine_component_recomputes_total",
    "Signal components recomputed because their inputs changed (technical, sentiment, consensus).",
    ["component"],
)
SIGNALS_PUBLISHED = Counter(
    "argo_signal_engine_signals_published_total",
    "New (not reused) signals formed, by action.",
    ["action"],
)
UPSTREAM_CALLS = Counter(
    "argo_signal_engine_upstream_calls_total",
    "Calls to the market gateway and the tracker's calibration, by method.",
    ["method"],
)
SENTIMENT_FETCHES = Counter(
    "argo_signal_engine_sentiment_fetches_total",
    "GetSentiment calls by result (new, unchanged, unavailable, unsupported).",
    ["result"],
)
CALIBRATION_FETCHES = Counter(
    "argo_signal_engine_calibration_fetches_total",
    "GetCalibration calls by result (found, none, unavailable).",
    ["result"],
)
OUTBOX_DEPTH = Gauge(
    "argo_signal_engine_outbox_depth",
    "Signals waiting in the durable outbox for delivery to the tracker.",
)
OUTBOX_REFUSED = Counter(
    "argo_signal_engine_outbox_refused_total",
    "New signals the full (or unwritable) outbox refused; the tracker never gets them.",
)
DELIVERIES = Counter(
    "argo_signal_engine_deliveries_total",
    "Signals handed to the tracker, by result (accepted, duplicate, rejected).",
    ["result"],
)
DELIVERY_FAILURES = Counter(
    "argo_signal_engine_delivery_failures_total",
    "RecordSignals attempts that failed and will be retried.",
)
SYMBOLS_OWNED = Gauge(
    "argo_signal_engine_symbols_owned",
    "Symbols this replica holds a lease on (all configured ones without Redis).",
)
STREAM_DROPPED = Counter(
    "argo_signal_engine_stream_dropped_total",
    "Signals dropped for a StreamSignals subscriber that fell behind.",
)
STREAM_SUBSCRIBERS = Gauge(
    "argo_signal_engine_stream_subscribers",
    "Open StreamSignals subscriptions.",
)
