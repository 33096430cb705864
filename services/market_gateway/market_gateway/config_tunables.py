"""The hot-reloaded tunables: the `market_gateway:` section of ARGO_CONFIG -> `Tunables`.

Missing keys keep their defaults (config/argo.example.yaml spells every one out); an
unknown key or a bad value raises ValueError naming its path, e.g.
`ttl.multipliers.sentiment: must be between 0.01 and 100, got -1`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields, replace
from typing import Any, TypeVar

from market_gateway.config_values import Raw, field_names, read_bool, read_number, read_section
from market_gateway.domain import (
    DATA_TYPES,
    AgreementSettings,
    BatchingSettings,
    HedgingSettings,
    Optimizations,
    ProviderTuning,
    QuotaSettings,
    ResilienceSettings,
    Routing,
    StreamSettings,
    TtlSettings,
    Tunables,
)
from market_gateway.provider_settings import AI_PROVIDERS, MARKET_PROVIDERS

KNOWN_PROVIDERS = ("synthetic", *MARKET_PROVIDERS, *AI_PROVIDERS)
S = TypeVar("S")

# field -> (minimum, maximum) for every number in a settings section
_RANGES: dict[str, tuple[float, float]] = {
    "base_seconds": (1, 86_400),
    "min_seconds": (0.1, 86_400),
    "max_seconds": (1, 7 * 86_400),
    "quote_min_seconds": (0.01, 3600),
    "high_volatility_pct": (0, 1000),
    "high_volatility_multiplier": (0.01, 100),
    "low_volatility_pct": (0, 1000),
    "low_volatility_multiplier": (0.01, 100),
    "stale_while_revalidate_ratio": (0, 1000),
    "stale_if_error_seconds": (0, 7 * 86_400),
    "limiter_max_wait_seconds": (0, 600),
    "upstream_timeout_seconds": (0.1, 600),
    "breaker_failure_threshold": (1, 1000),
    "breaker_success_threshold": (1, 100),
    "breaker_open_seconds": (0, 86_400),
    "retry_attempts": (1, 10),
    "max_hedged_attempts": (1, 4),
    "percentile": (0.01, 1),
    "min_delay_seconds": (0, 60),
    "max_delay_seconds": (0, 60),
    "initial_delay_seconds": (0, 60),
    "window_seconds": (0, 1),
    "max_batch": (1, 1000),
    "sample_interval_seconds": (1, 86_400),
    "threshold_bps": (0.1, 10_000),
    "demote_after": (1, 1000),
    "demotion_seconds": (1, 7 * 86_400),
    "min_providers_to_demote": (3, 10),
    "max_symbols": (1, 10_000),
    "healthy_within_seconds": (0.1, 3600),
    "resubscribe_delay_seconds": (0, 60),
    "rate_per_second": (0, 100_000),
    "burst": (0, 100_000),
    "per_minute": (0, 10_000_000),
    "per_day": (0, 100_000_000),
    "price_per_call_usd": (0, 100),
}


def parse_tunables(raw: Raw) -> Tunables:
    """Build Tunables from the parsed YAML (or its `market_gateway:` section, so one file
    can serve all three services); raise ValueError naming a bad key."""
    section = raw.get("market_gateway", raw)
    if not isinstance(section, Mapping):
        raise ValueError("market_gateway: must be a mapping")
    raw = section
    defaults = Tunables()
    synthetic = read_section(raw, "synthetic", ("volatility_scale",))
    providers, disabled = _providers(read_section(raw, "providers", KNOWN_PROVIDERS))
    ttl_raw = read_section(raw, "ttl", field_names(TtlSettings))
    ttl = _apply(TtlSettings(), {k: v for k, v in ttl_raw.items() if k != "multipliers"}, "ttl")
    multipliers = read_section(ttl_raw, "multipliers", DATA_TYPES, path="ttl.multipliers")
    if multipliers:
        merged = dict(ttl.multipliers)
        for name in multipliers:
            where = f"ttl.multipliers.{name}"
            merged[name] = read_number(multipliers, name, 1.0, 0.01, 100, path=where)
        ttl = replace(ttl, multipliers=merged)
    if ttl.min_seconds > ttl.max_seconds:
        raise ValueError("ttl.min_seconds: must not exceed ttl.max_seconds")
    return Tunables(
        quote_ttl_seconds=read_number(
            raw, "quote_ttl_seconds", defaults.quote_ttl_seconds, 0, 3600
        ),
        off_hours_ttl_multiplier=read_number(
            raw, "off_hours_ttl_multiplier", defaults.off_hours_ttl_multiplier, 1, 100
        ),
        stream_interval_seconds=read_number(
            raw, "stream_interval_seconds", defaults.stream_interval_seconds, 0.05, 60
        ),
        synthetic_volatility_scale=read_number(
            synthetic, "volatility_scale", 1.0, 0, 20, path="synthetic.volatility_scale"
        ),
        disabled_providers=frozenset(disabled),
        optimizations=_settings(raw, "optimizations", Optimizations()),
        ttl=ttl,
        routing=_routing(read_section(raw, "routing", field_names(Routing))),
        providers=providers,
        resilience=_settings(raw, "resilience", ResilienceSettings()),
        hedging=_settings(raw, "hedging", HedgingSettings()),
        batching=_settings(raw, "batching", BatchingSettings()),
        agreement=_agreement(raw),
        streams=_settings(raw, "streams", StreamSettings()),
        caller_quotas=_caller_quotas(raw),
    )


def _caller_quotas(raw: Raw) -> dict[str, QuotaSettings]:
    """`caller_quotas: {default: {...}, <caller-id>: {...}}`; entries replace the defaults'."""
    section = raw.get("caller_quotas")
    quotas = dict(Tunables().caller_quotas)
    if section is None:
        return quotas
    if not isinstance(section, Mapping):
        raise ValueError(f"caller_quotas: must be a mapping, got {type(section).__name__}")
    for caller in section:
        path = f"caller_quotas.{caller}"
        values = read_section(section, caller, field_names(QuotaSettings), path=path)
        quotas[str(caller)] = _apply(QuotaSettings(), values, path)
    return quotas


def _providers(raw: Raw) -> tuple[dict[str, ProviderTuning], set[str]]:
    tuned = dict(Tunables().providers)
    disabled: set[str] = set()
    for name in raw:
        path = f"providers.{name}"
        allowed = ("enabled", "price_per_call_usd", *field_names(QuotaSettings))
        entry = read_section(raw, name, allowed, path=path)
        base = tuned.get(name, ProviderTuning())
        enabled = entry.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ValueError(f"{path}.enabled: must be true or false, got {enabled!r}")
        if not enabled:
            disabled.add(name)
        quota_raw = {k: v for k, v in entry.items() if k in field_names(QuotaSettings)}
        quota = _apply(base.quota, quota_raw, path)
        price = read_number(
            entry,
            "price_per_call_usd",
            base.price_per_call_usd,
            0,
            100,
            path=f"{path}.price_per_call_usd",
        )
        tuned[name] = ProviderTuning(price_per_call_usd=price, quota=quota)
    return tuned, disabled


def _routing(raw: Raw) -> Routing:
    routing = Routing()
    changes: dict[str, Any] = {}
    for key in ("quotes", "bars", "sentiment"):
        if key in raw:
            changes[key] = _names_list(raw, key, f"routing.{key}")
    if "synthetic_fallback" in raw:
        changes["synthetic_fallback"] = read_bool(raw, "synthetic_fallback", "routing")
    return replace(routing, **changes)


def _agreement(raw: Raw) -> AgreementSettings:
    section = read_section(raw, "agreement", field_names(AgreementSettings))
    scalars = {k: v for k, v in section.items() if k != "providers"}
    settings = _apply(AgreementSettings(), scalars, "agreement")
    if "providers" in section:
        providers = _names_list(section, "providers", "agreement.providers")
        settings = replace(settings, providers=providers)
    return settings


def _settings(raw: Raw, key: str, default: S) -> S:
    return _apply(default, read_section(raw, key, field_names(type(default))), key)


def _apply(default: S, values: Raw, path: str) -> S:
    """`default` with `values` applied, each checked against its field's type and range."""
    changes: dict[str, Any] = {}
    current = {f.name: getattr(default, f.name) for f in fields(default)}  # type: ignore[arg-type]
    for name, value in values.items():
        where = f"{path}.{name}"
        if isinstance(current[name], bool):
            changes[name] = read_bool(values, name, path)
        elif isinstance(current[name], int):
            low, high = _RANGES[name]
            number = read_number(values, name, 0, low, high, path=where)
            if number != int(number):
                raise ValueError(f"{where}: must be a whole number, got {value!r}")
            changes[name] = int(number)
        else:
            low, high = _RANGES[name]
            changes[name] = read_number(values, name, 0.0, low, high, path=where)
    return replace(default, **changes)  # type: ignore[type-var]


def _names_list(raw: Raw, key: str, path: str) -> tuple[str, ...]:
    value = raw.get(key)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{path}: must be a list of provider names, got {value!r}")
    unknown = [v for v in value if v not in KNOWN_PROVIDERS]
    if unknown:
        raise ValueError(f"{path}: unknown provider {unknown[0]!r}")
    return tuple(value)
