"""Prometheus metrics specific to market-gateway (shared names live in observability).

Cost: `argo_market_gateway_cost_usd_total{provider}` is the whole bill; it is the sum of its
two breakdowns, `argo_market_gateway_call_cost_usd_total` (market-data calls, price per call)
and `argo_market_gateway_ai_cost_usd_total` (AI tokens, adapters/ai_chat/ledger.py). Sum
either the total or the two breakdowns, never both.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

ACTIVE_STREAMS = Gauge("argo_market_gateway_active_streams", "StreamQuotes calls currently open.")
STREAM_EVENTS = Counter(
    "argo_market_gateway_stream_events_total",
    "Events sent on quote streams, by kind (quote, gap, backfilled, replayed).",
    ["kind"],
)
PROVIDER_COST = Counter(
    "argo_market_gateway_cost_usd_total",
    "Estimated provider spend in USD: price per call for market data, tokens for AI.",
    ["provider"],
)
CALL_COST = Counter(
    "argo_market_gateway_call_cost_usd_total",
    "Estimated spend on market-data calls in USD (price per call), by provider; with the AI "
    "token cost it makes up argo_market_gateway_cost_usd_total.",
    ["provider"],
)
QUOTES_SERVED = Counter(
    "argo_market_gateway_quotes_served_total",
    "Quotes answered, by how they were served (miss, hit_local, hit_shared, stale, stream).",
    ["cache_status"],
)
QUOTE_DISPERSION = Histogram(
    "argo_market_gateway_quote_dispersion_bps",
    "Spread of the prices providers gave for one symbol at once, in basis points of the "
    "consensus (median) price.",
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000),
)
PROVIDER_DEMOTIONS = Counter(
    "argo_market_gateway_provider_demotions_total",
    "Times a provider was moved to the end of the order for disagreeing with the others.",
    ["provider"],
)
PROVIDER_DEMOTED = Gauge(
    "argo_market_gateway_provider_demoted",
    "1 while a provider is demoted for disagreeing with the consensus price.",
    ["provider"],
)
FEED_EVENTS = Counter(
    "argo_market_gateway_feed_events_total",
    "Events from provider WebSocket feeds, by provider and kind (update, gap, backfilled).",
    ["provider", "kind"],
)
STREAMED_SYMBOLS = Gauge(
    "argo_market_gateway_streamed_symbols", "Symbols followed on a provider WebSocket feed."
)
