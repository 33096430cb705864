"""market-gateway configuration: environment variables at start, tunables hot-reloaded.

Environment (besides the common ones in service_runtime.settings):
  SYNTHETIC_SEED           global seed of the synthetic market (default 42)
  SYNTHETIC_ANCHOR_DATE    YYYY-MM-DD where synthetic prices start from their nominal
                           levels; default: the date of ARGO_CLOCK_START, else the start
                           date of the process. Replicas must share it to agree on prices.
  SYNTHETIC_HISTORY_DAYS   how far back synthetic bars go (default 7305, ~20 years)
Providers (credentials, URLs, models, prices): see provider_settings.py; a provider
without credentials is off, and with none on the gateway serves the synthetic market.

  REDIS_URL                shared L2 cache and rate-limit ledger (unset: in-process only)
  MARKET_GATEWAY_REDIS_PREFIX  key prefix of both in Redis (default argo:market-gateway)
  REDIS_MAX_CONNECTIONS    Redis connections per replica (default 64); a burst beyond them
                           waits for a free one rather than failing
  REDIS_POOL_WAIT_SECONDS  longest such wait (default 0.5); longer counts as a Redis
                           failure: the cache and the limiter fall back
  MARKET_GATEWAY_REPLICAS  replicas sharing the quotas: while Redis is unreachable each
                           replica limits itself to 1/replicas of every quota (default 1)

Tunables (ARGO_CONFIG YAML, hot-reloaded): see config_tunables.py and
config/argo.example.yaml, which lists every key with its default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import parse_qs, urlsplit

from market_gateway.config_tunables import KNOWN_PROVIDERS, parse_tunables
from market_gateway.domain import Tunables
from market_gateway.provider_settings import ProviderSettings, load_provider_settings
from service_runtime.settings import (
    CommonSettings,
    ConfigError,
    env_float,
    env_int,
    env_str,
    load_common,
)

__all__ = ["KNOWN_PROVIDERS", "Settings", "Tunables", "load_settings", "parse_tunables"]

SERVICE_NAME = "market-gateway"
DEFAULT_GRPC_PORT = 50051
DEFAULT_ADMIN_PORT = 9101
DEFAULT_REDIS_PREFIX = "argo:market-gateway"
DEFAULT_REDIS_MAX_CONNECTIONS = 64
DEFAULT_REDIS_POOL_WAIT_SECONDS = 0.5
_POOL_OPTIONS = {"max_connections": "REDIS_MAX_CONNECTIONS", "timeout": "REDIS_POOL_WAIT_SECONDS"}


@dataclass(frozen=True, kw_only=True)
class Settings:
    common: CommonSettings
    synthetic_seed: int = 42
    synthetic_anchor: date | None = None
    synthetic_history_days: int = 7305
    providers: ProviderSettings = field(default_factory=lambda: load_provider_settings({}))
    redis_url: str | None = None
    redis_prefix: str = DEFAULT_REDIS_PREFIX
    redis_max_connections: int = DEFAULT_REDIS_MAX_CONNECTIONS
    redis_pool_wait_seconds: float = DEFAULT_REDIS_POOL_WAIT_SECONDS
    replicas: int = 1


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
        redis_url=_redis_url(environ),
        redis_prefix=env_str(environ, "MARKET_GATEWAY_REDIS_PREFIX", DEFAULT_REDIS_PREFIX),
        redis_max_connections=env_int(
            environ,
            "REDIS_MAX_CONNECTIONS",
            DEFAULT_REDIS_MAX_CONNECTIONS,
            minimum=1,
            maximum=10_000,
        ),
        redis_pool_wait_seconds=env_float(
            environ,
            "REDIS_POOL_WAIT_SECONDS",
            DEFAULT_REDIS_POOL_WAIT_SECONDS,
            minimum=0.01,
            maximum=30.0,
        ),
        replicas=env_int(environ, "MARKET_GATEWAY_REPLICAS", 1, minimum=1, maximum=1000),
    )


def _redis_url(environ: Mapping[str, str]) -> str | None:
    url = env_str(environ, "REDIS_URL")
    if not url:
        return None
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError("REDIS_URL: must start with redis://, rediss:// or unix://")
    # redis-py lets the URL's query override the pool's settings: say which setting to use
    query = parse_qs(urlsplit(url).query)
    for option, setting in _POOL_OPTIONS.items():
        if option in query:
            raise ConfigError(f"REDIS_URL: set {setting} instead of ?{option}=")
    return url
