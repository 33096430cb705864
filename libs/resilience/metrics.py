"""Telemetry of the resilience policies: Prometheus metrics, span events and log lines.

Metrics are module-level and registered once per process.
Names: `argo_ratelimit_*` (limiter), `argo_breaker_*` (circuit breaker), `argo_resilience_*`
(retry, single-flight, batcher, hedging, cache). Cache hits and misses use the shared
`observability.metrics.CACHE_HITS` / `CACHE_MISSES` (DESIGN.md §2 names); only the
stale-serving and tier health series are defined here. Labels are low-cardinality names
(provider, breaker, policy, cache), never keys, symbols or credentials.

`span_event` adds `resilience.<name>` to the *current* span (whatever the caller traces) and
costs ~0.2 µs when no span is recording; `announce` also writes a structlog line, for the rarer
decisions an operator wants in the logs (breaker transitions, pauses, L2 outages). Attribute
values must be str/int/float/bool.
"""

from __future__ import annotations

from collections.abc import Mapping

import structlog
from opentelemetry import trace
from opentelemetry.util.types import AttributeValue
from prometheus_client import Counter, Gauge, Histogram

log = structlog.get_logger("resilience")

RATELIMIT_ACQUIRES = Counter(
    "argo_ratelimit_acquires_total",
    "Permit requests by provider and result (granted, waited, rejected).",
    ["provider", "result"],
)
RATELIMIT_WAIT = Histogram(
    "argo_ratelimit_wait_seconds",
    "Time callers waited for a permit (only calls that had to wait).",
    ["provider"],
    buckets=(0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)
RATELIMIT_PAUSES = Counter(
    "argo_ratelimit_pauses_total",
    "Provider pushbacks applied (retry_after, ratelimit_headers, body_note, manual).",
    ["provider", "source"],
)
RATELIMIT_STORE_ERRORS = Counter(
    "argo_ratelimit_store_errors_total",
    "Limiter store failures (e.g. Redis unreachable) by store and fallback taken.",
    ["store", "fallback"],
)

BREAKER_STATE = Gauge(
    "argo_breaker_state",
    "Circuit breaker state: 0 closed, 1 open, 2 half_open.",
    ["breaker"],
)
BREAKER_TRANSITIONS = Counter(
    "argo_breaker_transitions_total",
    "Circuit breaker state transitions.",
    ["breaker", "from_state", "to_state"],
)
BREAKER_CALLS = Counter(
    "argo_breaker_calls_total",
    "Calls seen by a breaker: success, failure, slow_success, slow_failure, ignored, rejected.",
    ["breaker", "outcome"],
)
BREAKER_QUORUM_OPEN = Gauge(
    "argo_breaker_quorum_open_replicas",
    "Replicas that currently report this breaker open (shared view).",
    ["breaker"],
)

RETRIES = Counter(
    "argo_resilience_retries_total",
    "Retry decisions: retried, gave_up_deadline, gave_up_budget, gave_up_attempts, not_retryable.",
    ["policy", "outcome"],
)
SINGLEFLIGHT_CALLS = Counter(
    "argo_resilience_singleflight_total",
    "Single-flight calls by role (leader, follower, remote_leader, remote_follower).",
    ["flight", "role"],
)
BATCH_SIZE = Histogram(
    "argo_resilience_batch_size",
    "Keys per upstream call made by a micro-batcher.",
    ["batcher"],
    buckets=(1, 2, 3, 5, 10, 20, 50, 100, 250),
)
BATCH_CALLS = Counter(
    "argo_resilience_batches_total",
    "Upstream batch calls by outcome (ok, error).",
    ["batcher", "outcome"],
)
HEDGE_ATTEMPTS = Counter(
    "argo_resilience_hedge_total",
    "Hedging/racing outcomes: hedged (a second attempt started), primary_won, hedge_won, failed.",
    ["hedge", "outcome"],
)
HEDGE_DELAY = Gauge(
    "argo_resilience_hedge_delay_seconds",
    "Current adaptive hedging delay.",
    ["hedge"],
)

CACHE_STALE = Counter(
    "argo_resilience_cache_stale_total",
    "Stale entries served, by reason (revalidating, error).",
    ["cache", "reason"],
)
CACHE_L2_ERRORS = Counter(
    "argo_resilience_cache_l2_errors_total",
    "Failed L2 (Redis) cache operations; the cache then works from L1 alone.",
    ["cache"],
)
CACHE_L2_UP = Gauge(
    "argo_resilience_cache_l2_up",
    "1 when the L2 tier is in use, 0 while its circuit is open.",
    ["cache"],
)
CACHE_L1_BYTES = Gauge(
    "argo_resilience_cache_l1_bytes",
    "Approximate bytes held by the in-process tier.",
    ["cache"],
)
CACHE_L1_EVICTIONS = Counter(
    "argo_resilience_cache_l1_evictions_total",
    "Entries evicted from the in-process tier to honour its entry or byte bound.",
    ["cache"],
)


def span_event(name: str, attributes: Mapping[str, AttributeValue] | None = None) -> None:
    """Record `resilience.<name>` on the current span when it is recording."""
    span = trace.get_current_span()
    if span.is_recording():
        span.add_event(f"resilience.{name}", attributes=dict(attributes or {}))


def announce(name: str, attributes: Mapping[str, AttributeValue], *, level: str = "info") -> None:
    """A span event plus a structlog line named `name` with the same key-values."""
    span_event(name, attributes)
    if level == "warning":
        log.warning(name, **attributes)
    elif level == "debug":
        log.debug(name, **attributes)
    else:
        log.info(name, **attributes)
