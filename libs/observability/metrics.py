"""Prometheus metrics whose names dashboards already use (DESIGN.md §2).

They live in one module so the three services (and tests that run several of them in one
process) register each name exactly once on the default registry.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

SIGNAL_GENERATION_SECONDS = Histogram(
    "argo_signal_generation_duration_seconds",
    "Duration of one signal-generation cycle (all owned symbols).",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0),
)
DATA_SOURCE_REQUESTS = Counter(
    "argo_data_source_requests_total",
    "Upstream data-source requests by source and outcome (ok, error, rate_limited).",
    ["source", "status"],
)
DATA_SOURCE_STATUS = Gauge(
    "argo_data_source_status",
    "1 when the data source is usable (enabled and its breaker is not open), else 0.",
    ["source"],
)
DATA_SOURCE_LATENCY = Histogram(
    "argo_data_source_latency_seconds",
    "Upstream data-source request latency.",
    ["source"],
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0),
)
CACHE_HITS = Counter("argo_cache_hits_total", "Cache hits by cache name.", ["cache"])
CACHE_MISSES = Counter("argo_cache_misses_total", "Cache misses by cache name.", ["cache"])
GRPC_REQUESTS = Counter(
    "argo_grpc_server_requests_total",
    "gRPC requests handled, by method and status code.",
    ["method", "code"],
)
GRPC_LATENCY = Histogram(
    "argo_grpc_server_duration_seconds",
    "gRPC request handling time by method.",
    ["method"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
CONFIG_RELOADS = Counter(
    "argo_config_reloads_total",
    "Config file reload attempts by result (applied, rejected).",
    ["result"],
)
