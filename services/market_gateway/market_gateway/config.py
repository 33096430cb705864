"""market-gateway configuration: environment variables at start, tunables hot-reloaded.

Environment (besides the common ones in service_runtime.settings):
  SYNTHETIC_SEED           global seed of the synthetic market (default 42)
  SYNTHETIC_ANCHOR_DATE    YYYY-MM-DD where synthetic prices start from their nominal
                           levels; default: the date of ARGO_CLOCK_START, else the start
                           date of the process. Replicas must share it to agree on prices.
  SYNTHETIC_HISTORY_DAYS   how far back synthetic bars go (default 7305, ~20 years)
Providers (credentials, URLs, models, prices): see provider_settings.py; a provider
without credentials is off, and with none on the gateway serves the synthetic market.

Tunables (ARGO_CONFIG YAML; missing keys keep their defaults, unknown top-level keys are
left to other services):
  quote_ttl_seconds: 1.0          off_hours_ttl_multiplier: 3.0
  stream_interval_seconds: 1.0
  synthetic: {volatility_scale: 1.0}
  providers: {synthetic: {enabled: true}, polygon: {enabled: true}, ...}  (any provider name)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from market_gateway.domain import Tunables
from market_gateway.provider_settings import (
    AI_PROVIDERS,
    MARKET_PROVIDERS,
    ProviderSettings,
    load_provider_settings,
)
from service_runtime.settings import CommonSettings, ConfigError, env_int, env_str, load_common

__all__ = ["Settings", "Tunables", "load_settings", "parse_tunables"]

SERVICE_NAME = "market-gateway"
DEFAULT_GRPC_PORT = 50051
DEFAULT_ADMIN_PORT = 9101
KNOWN_PROVIDERS = ("synthetic", *MARKET_PROVIDERS, *AI_PROVIDERS)


@dataclass(frozen=True, kw_only=True)
class Settings:
    common: CommonSettings
    synthetic_seed: int = 42
    synthetic_anchor: date | None = None
    synthetic_history_days: int = 7305
    providers: ProviderSettings = field(default_factory=lambda: load_provider_settings({}))


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Read the environment; raise ConfigError naming the first bad variable."""
    common = load_common(
        environ,
        service_name=SERVICE_NAME,
        default_grpc_port=DEFAULT_GRPC_PORT,
        default_admin_port=DEFAULT_ADMIN_PORT,
    )
    anchor_raw = env_str(environ, "SYNTHETIC_ANCHOR_DATE")
    try:
        anchor = date.fromisoformat(anchor_raw) if anchor_raw else None
    except ValueError:
        raise ConfigError(
            f"SYNTHETIC_ANCHOR_DATE: must be YYYY-MM-DD, got {anchor_raw!r}"
        ) from None
    return Settings(
        common=common,
        synthetic_seed=env_int(environ, "SYNTHETIC_SEED", 42, minimum=0, maximum=2**63 - 1),
        synthetic_anchor=anchor,
        synthetic_history_days=env_int(
            environ, "SYNTHETIC_HISTORY_DAYS", 7305, minimum=1, maximum=36_600
        ),
        providers=load_provider_settings(environ),
    )


def parse_tunables(raw: Mapping[str, Any]) -> Tunables:
    """Build Tunables from the parsed YAML (or its `market_gateway:` section, so one file
    can serve all three services); raise ValueError naming a bad key."""
    section = raw.get("market_gateway", raw)
    if not isinstance(section, Mapping):
        raise ValueError("market_gateway: must be a mapping")
    raw = section
    defaults = Tunables()
    synthetic = _section(raw, "synthetic", allowed=("volatility_scale",))
    providers = _section(raw, "providers", allowed=KNOWN_PROVIDERS)
    disabled: set[str] = set()
    for name in providers:
        flags = _section(providers, name, allowed=("enabled",), path=f"providers.{name}")
        enabled = flags.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ValueError(f"providers.{name}.enabled: must be true or false, got {enabled!r}")
        if not enabled:
            disabled.add(name)
    return Tunables(
        quote_ttl_seconds=_number(raw, "quote_ttl_seconds", defaults.quote_ttl_seconds, 0, 3600),
        off_hours_ttl_multiplier=_number(
            raw, "off_hours_ttl_multiplier", defaults.off_hours_ttl_multiplier, 1, 100
        ),
        stream_interval_seconds=_number(
            raw, "stream_interval_seconds", defaults.stream_interval_seconds, 0.05, 60
        ),
        synthetic_volatility_scale=_number(
            synthetic,
            "volatility_scale",
            defaults.synthetic_volatility_scale,
            0,
            20,
            path="synthetic.volatility_scale",
        ),
        disabled_providers=frozenset(disabled),
    )


def _section(
    raw: Mapping[str, Any], key: str, *, allowed: tuple[str, ...], path: str | None = None
) -> Mapping[str, Any]:
    name = path or key
    value = raw.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError(f"{name}: must be a mapping, got {type(value).__name__}")
    for inner in value:
        if inner not in allowed:
            raise ValueError(f"{name}.{inner}: unknown key (known: {', '.join(allowed)})")
    return value


def _number(
    raw: Mapping[str, Any],
    key: str,
    default: float,
    minimum: float,
    maximum: float,
    *,
    path: str | None = None,
) -> float:
    name = path or key
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name}: must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number) or not minimum <= number <= maximum:
        raise ValueError(f"{name}: must be between {minimum} and {maximum}, got {value!r}")
    return number
