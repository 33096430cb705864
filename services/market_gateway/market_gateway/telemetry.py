"""Prometheus metrics specific to market-gateway (shared names live in observability)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

ACTIVE_STREAMS = Gauge("argo_market_gateway_active_streams", "StreamQuotes calls currently open.")
STREAM_EVENTS = Counter(
    "argo_market_gateway_stream_events_total",
    "Events sent on quote streams, by kind (quote, gap, replayed).",
    ["kind"],
)
