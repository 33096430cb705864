"""Built-in defaults: realistic latency and each provider's real quota (provider-formats.md).

Data only. Quotas are the plans the suite is expected to run on:
- polygon (Massive): paid plans are "unlimited" but asked to stay under ~100 requests/s.
  The free plan is 5 requests/minute: `quotas: [{limit: 5, seconds: 60}]`.
- alpaca: 200 requests/minute per account (Algo Trader Plus: 10 000/minute).
- alphavantage: the free key since 2024: 25 requests/day plus a 1 request/second burst
  limit. The older plan (5/minute + 500/day, the "Note" body) is
  `quotas: [{limit: 5, seconds: 60}, {limit: 500, seconds: 86400}]`.
- yahoo: undocumented limits; none by default (add a window to see its 429).
- xai: per-model RPS = RPM/60; 480 RPM here. perplexity: Tier 0 sonar 50 RPM.
  deepseek: documented as not rate limited. qwen (DashScope): RPM enforced per second too.
  glm (Zhipu): per-model concurrency limit (code 1302).
"""

from __future__ import annotations

from typing import Any

PROVIDERS = (
    "polygon",
    "alpaca",
    "alphavantage",
    "yahoo",
    "xai",
    "perplexity",
    "deepseek",
    "qwen",
    "glm",
)
AI_PROVIDERS = ("xai", "perplexity", "deepseek", "qwen", "glm")

_AI_LATENCY = {"median_ms": 1_500, "p99_ms": 6_000, "max_ms": 60_000}

BUILTIN: dict[str, Any] = {
    "seed": 7,
    "market": {
        "seed": 42,
        "history_days": 7305,
        "max_cached_days": 1024,
        "unknown_symbols": ["INVALID", "DELISTED", "ZZZZ"],
        "universe": [
            "AAPL",
            "MSFT",
            "NVDA",
            "TSLA",
            "AMZN",
            "GOOGL",
            "META",
            "AMD",
            "SPY",
            "QQQ",
            "BTC-USD",
            "ETH-USD",
            "SOL-USD",
        ],  # fmt: skip
    },
    "listen": {"host": "127.0.0.1", "port": 8900, "provider_ports": "auto"},
    "defaults": {
        "latency": {"median_ms": 120, "p99_ms": 600, "max_ms": 30_000},
    },
    "providers": {
        "polygon": {
            "api_key": "sim-polygon-key",
            "quotas": [{"limit": 100, "seconds": 1}],
        },
        "alpaca": {
            "api_key": "sim-alpaca-key-id",
            "secret_key": "sim-alpaca-secret",
            "quotas": [{"limit": 200, "seconds": 60}],
            "stream": {"symbol_limit": 30},
        },
        "alphavantage": {
            "api_key": "sim-alphavantage-key",
            "quotas": [{"limit": 1, "seconds": 1}, {"limit": 25, "seconds": 86_400}],
        },
        "yahoo": {"null_gap_rate": 0.02},
        "xai": {
            "api_key": "sim-xai-key",
            "latency": _AI_LATENCY,
            "quotas": [{"limit": 8, "seconds": 1}, {"limit": 480, "seconds": 60}],
            "model": "grok-3-mini",
        },
        "perplexity": {
            "api_key": "sim-perplexity-key",
            "latency": _AI_LATENCY,
            "quotas": [{"limit": 50, "seconds": 60}],
            "model": "sonar",
        },
        "deepseek": {
            "api_key": "sim-deepseek-key",
            "latency": _AI_LATENCY,
            "model": "deepseek-chat",
        },
        "qwen": {
            "api_key": "sim-qwen-key",
            "latency": _AI_LATENCY,
            "quotas": [{"limit": 10, "seconds": 1}, {"limit": 600, "seconds": 60}],
            "model": "qwen3-max",
        },
        "glm": {
            "api_key": "sim-glm-key",
            "latency": _AI_LATENCY,
            "max_concurrency": 5,
            "model": "glm-4.6",
        },
    },
}
