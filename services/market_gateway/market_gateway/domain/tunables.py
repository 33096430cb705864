"""Operator knobs of the gateway, hot-reloaded from the ARGO_CONFIG YAML (parsed in
config_tunables.py; config/argo.example.yaml spells out every default).

`Optimizations` holds one switch per optimisation, all on by default; the benchmark's
`baseline` mode turns every one off, which makes the gateway behave like the seeds' system:
sequential per-source-per-symbol fetches, no cache, no streams.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType

DATA_TYPES = ("market_data", "bars", "indicators", "sentiment", "consensus", "ai_reasoning")


@dataclass(frozen=True, slots=True)
class Optimizations:
    cache: bool = True  # two-tier cache (L1 + Redis) with SWR and stale-on-error
    batching: bool = True  # symbols of concurrent requests in one upstream call; off: one
    #                        call per symbol, one after another
    single_flight: bool = True  # identical in-flight requests share one call
    hedging: bool = True  # a second provider after an adaptive delay; AI providers in parallel
    streams: bool = True  # provider WebSocket feeds write through; streamed symbols not polled
    incremental_bars: bool = True  # fetch only bars after the last cached one
    agreement: bool = True  # sampled cross-provider consensus; outliers demoted
    single_source: bool = True  # one provider per symbol (failover in order); off: every
    #                             enabled provider is asked, as the seeds' system did

    @classmethod
    def all_off(cls) -> Optimizations:
        return cls(**{f.name: False for f in fields(cls)})


@dataclass(frozen=True, slots=True)
class TtlSettings:
    """DESIGN.md §4's adaptive TTL: base x data type x volatility (x off-hours), clamped."""

    base_seconds: float = 120.0  # seeds' v2 base, for everything but quotes
    min_seconds: float = 10.0
    max_seconds: float = 3600.0
    quote_min_seconds: float = 0.5  # floor of quotes in a session (min_seconds would be stale)
    multipliers: Mapping[str, float] = field(
        default_factory=lambda: MappingProxyType(
            {
                "market_data": 1.0,
                "bars": 1.0,
                "indicators": 1.5,
                "sentiment": 2.0,
                "consensus": 3.0,
                "ai_reasoning": 10.0,
            }
        )
    )
    high_volatility_pct: float = 5.0
    high_volatility_multiplier: float = 0.5
    low_volatility_pct: float = 1.0
    low_volatility_multiplier: float = 2.0
    stale_while_revalidate_ratio: float = 1.0  # served stale for ratio x fresh while refreshing
    stale_if_error_seconds: float = 300.0  # served stale this long when every provider fails


@dataclass(frozen=True, slots=True)
class Routing:
    """Provider preference per data type; enabled providers missing from a list follow in
    the default order, and the synthetic market is the last fallback when allowed."""

    quotes: tuple[str, ...] = ("polygon", "alpaca", "alphavantage", "yahoo")
    bars: tuple[str, ...] = ("polygon", "alpaca", "yahoo", "alphavantage")
    sentiment: tuple[str, ...] = ("xai", "perplexity", "deepseek", "qwen", "glm")
    synthetic_fallback: bool = True


@dataclass(frozen=True, slots=True)
class QuotaSettings:
    """A provider's limiter windows; 0 leaves a window out (all 0: unlimited)."""

    rate_per_second: float = 0.0
    burst: float = 0.0
    per_minute: int = 0
    per_day: int = 0


@dataclass(frozen=True, slots=True)
class ProviderTuning:
    """Per provider: USD per upstream call (AI calls are priced per token) and its quota;
    `providers.<name>.enabled: false` lands in `Tunables.disabled_providers`."""

    price_per_call_usd: float = 0.0
    quota: QuotaSettings = QuotaSettings()


def _quota(rate: float, burst: float, per_minute: int = 0, per_day: int = 0) -> ProviderTuning:
    return ProviderTuning(quota=QuotaSettings(rate, burst, per_minute, per_day))


# Seeds (seed-facts.md): polygon 5/s burst 10, alpha_vantage 0.2/s burst 5 (+ the free
# key's 25/day), xai and sonar (perplexity) 1/s burst 5. The rest from provider-formats.md:
# alpaca 200/min, perplexity Tier 0 50/min, qwen 10/s + 600/min, glm 5 concurrent; yahoo
# and deepseek document none (a polite default).
DEFAULT_PROVIDERS: Mapping[str, ProviderTuning] = MappingProxyType(
    {
        "synthetic": ProviderTuning(),
        "polygon": _quota(5, 10),
        "alpaca": _quota(5, 10, per_minute=200),
        "alphavantage": _quota(0.2, 5, per_day=25),
        "yahoo": _quota(2, 10),
        "xai": _quota(1, 5),
        "perplexity": _quota(1, 5, per_minute=50),
        "deepseek": _quota(5, 10),
        "qwen": _quota(10, 10, per_minute=600),
        "glm": _quota(2, 5),
    }
)

# Per authenticated caller (AUTH_MODE on): "default" applies to every caller without its own
# entry (each caller still gets its own bucket). Generous: a protection, not a product tier.
DEFAULT_CALLER_QUOTAS: Mapping[str, QuotaSettings] = MappingProxyType(
    {"default": QuotaSettings(rate_per_second=100, burst=200)}
)


@dataclass(frozen=True, slots=True)
class ResilienceSettings:
    limiter_max_wait_seconds: float = 1.0  # longer waits fail over (never past the deadline)
    upstream_timeout_seconds: float = 10.0  # bound of one call when the caller sets no deadline
    breaker_failure_threshold: int = 5
    breaker_success_threshold: int = 2
    breaker_open_seconds: float = 60.0
    retry_attempts: int = 1  # 1: no retry of the same provider (failover is the retry)


@dataclass(frozen=True, slots=True)
class HedgingSettings:
    max_hedged_attempts: int = 1
    percentile: float = 0.9  # the delay is this percentile of recent winning latencies
    min_delay_seconds: float = 0.05
    max_delay_seconds: float = 2.0
    initial_delay_seconds: float = 0.25


@dataclass(frozen=True, slots=True)
class BatchingSettings:
    window_seconds: float = 0.005
    max_batch: int = 100


@dataclass(frozen=True, slots=True)
class AgreementSettings:
    sample_interval_seconds: float = 60.0  # at most one sampled fan-out per interval
    providers: tuple[str, ...] = ("polygon", "alpaca", "yahoo")  # asked when sampling
    threshold_bps: float = 50.0  # farther than this from the consensus is a disagreement
    demote_after: int = 3  # disagreements in a row
    demotion_seconds: float = 600.0
    min_providers_to_demote: int = 3  # with two answers nobody can tell who is wrong


@dataclass(frozen=True, slots=True)
class StreamSettings:
    max_symbols: int = 1000  # followed at most; a feed's plan limit applies too (Alpaca IEX: 30)
    healthy_within_seconds: float = 10.0  # a feed silent for longer is polled around
    resubscribe_delay_seconds: float = 0.5  # new symbols are gathered this long first


@dataclass(frozen=True, slots=True)
class Tunables:
    """Operator knobs, hot-reloaded from the config file (parsed in config_tunables.py)."""

    quote_ttl_seconds: float = 1.0  # base TTL of quotes (see ttl.quote_min_seconds)
    off_hours_ttl_multiplier: float = 3.0
    stream_interval_seconds: float = 1.0
    synthetic_volatility_scale: float = 1.0
    disabled_providers: frozenset[str] = field(default_factory=frozenset)
    optimizations: Optimizations = Optimizations()
    ttl: TtlSettings = field(default_factory=TtlSettings)
    routing: Routing = Routing()
    providers: Mapping[str, ProviderTuning] = field(default_factory=lambda: DEFAULT_PROVIDERS)
    resilience: ResilienceSettings = ResilienceSettings()
    hedging: HedgingSettings = HedgingSettings()
    batching: BatchingSettings = BatchingSettings()
    agreement: AgreementSettings = AgreementSettings()
    streams: StreamSettings = StreamSettings()
    caller_quotas: Mapping[str, QuotaSettings] = field(
        default_factory=lambda: DEFAULT_CALLER_QUOTAS
    )

    def provider(self, name: str) -> ProviderTuning:
        return self.providers.get(name) or ProviderTuning()

    def enabled(self, name: str) -> bool:
        return name not in self.disabled_providers

    def with_optimizations(self, **switches: bool) -> Tunables:
        return replace(self, optimizations=replace(self.optimizations, **switches))
