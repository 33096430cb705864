"""Settings from the environment (12-factor) and tunables from the hot-reloaded YAML file."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from types import MappingProxyType
from typing import Any

from service_runtime.settings import (
    CommonSettings,
    ConfigError,
    env_float,
    env_int,
    env_list,
    env_str,
    load_common,
)
from signal_engine.domain import SOURCES, InvalidSymbol, Tunables, canonical_symbol
from signal_engine.domain.tunables import DEFAULT_WEIGHTS

__all__ = ["Settings", "Tunables", "load_settings", "parse_tunables"]

DEFAULT_SYMBOLS = ("AAPL", "NVDA", "TSLA", "MSFT", "BTC-USD", "ETH-USD")
MAX_OWNED_SYMBOLS = 500


@dataclass(frozen=True, kw_only=True)
class Settings:
    common: CommonSettings
    market_gateway_addr: str
    tracker_addr: str
    symbols: tuple[str, ...]
    cycle_seconds: float
    gateway_deadline_seconds: float
    tracker_deadline_seconds: float
    outbox_dir: str
    outbox_max_signals: int
    delivery_max_backoff_seconds: float
    redis_url: str | None
    lease_seconds: float
    redis_key_prefix: str
    replica_id: str  # "" = generated at start (host name, pid and a random suffix)


def _address(environ: Mapping[str, str], name: str, default: str) -> str:
    value = env_str(environ, name, default)
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"{name}: must be host:port, got {value!r}")
    return value


def _symbols(environ: Mapping[str, str]) -> tuple[str, ...]:
    raw = env_list(environ, "SYMBOLS", DEFAULT_SYMBOLS)
    owned: dict[str, None] = {}
    for item in raw:
        try:
            owned.setdefault(canonical_symbol(item), None)
        except InvalidSymbol as e:
            raise ConfigError(f"SYMBOLS: {item!r} {e}") from None
    if len(owned) > MAX_OWNED_SYMBOLS:
        raise ConfigError(f"SYMBOLS: at most {MAX_OWNED_SYMBOLS} symbols, got {len(owned)}")
    return tuple(owned)


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Read the engine's variables; raise ConfigError naming the first bad one."""
    cycle = env_float(environ, "CYCLE_SECONDS", 5.0, maximum=86400.0)
    if cycle <= 0.0:
        raise ConfigError(f"CYCLE_SECONDS: must be > 0, got {cycle}")
    return Settings(
        common=load_common(
            environ, service_name="signal-engine", default_grpc_port=50052, default_admin_port=9102
        ),
        market_gateway_addr=_address(environ, "MARKET_GATEWAY_ADDR", "127.0.0.1:50051"),
        tracker_addr=_address(environ, "TRACKER_ADDR", "127.0.0.1:50053"),
        symbols=_symbols(environ),
        cycle_seconds=cycle,
        gateway_deadline_seconds=env_float(
            environ, "GATEWAY_DEADLINE_SECONDS", 2.0, minimum=0.05, maximum=60.0
        ),
        tracker_deadline_seconds=env_float(
            environ, "TRACKER_DEADLINE_SECONDS", 2.0, minimum=0.05, maximum=60.0
        ),
        outbox_dir=env_str(environ, "ENGINE_OUTBOX_DIR", "./var/outbox"),
        outbox_max_signals=env_int(
            environ, "ENGINE_OUTBOX_MAX_SIGNALS", 100_000, minimum=1, maximum=10_000_000
        ),
        delivery_max_backoff_seconds=env_float(
            environ, "ENGINE_DELIVERY_MAX_BACKOFF_SECONDS", 15.0, minimum=0.1, maximum=600.0
        ),
        redis_url=_redis_url(environ),
        lease_seconds=env_float(environ, "ENGINE_LEASE_SECONDS", 10.0, minimum=0.5, maximum=600.0),
        redis_key_prefix=_key_prefix(environ),
        replica_id=env_str(environ, "ENGINE_REPLICA_ID", ""),
    )


def _redis_url(environ: Mapping[str, str]) -> str | None:
    url = env_str(environ, "REDIS_URL")
    if not url:
        return None
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError("REDIS_URL: must start with redis://, rediss:// or unix://")
    return url


def _key_prefix(environ: Mapping[str, str]) -> str:
    prefix = env_str(environ, "ENGINE_REDIS_KEY_PREFIX", "argo:signal-engine")
    if any(c in prefix for c in "{} \t\n"):
        raise ConfigError(f"ENGINE_REDIS_KEY_PREFIX: no braces or spaces, got {prefix!r}")
    return prefix


_SECTION = "signal_engine"
_INT_KEYS = {"bars_limit", "max_concurrency"}
_BOOL_KEYS = {"sentiment_in_background"}


def parse_tunables(raw: Mapping[str, Any]) -> Tunables:
    """Tunables from the YAML mapping (or its `signal_engine:` section); missing keys keep
    their defaults. Raise ValueError naming the key on an unknown key or a bad value."""
    section = raw.get(_SECTION, raw)
    if not isinstance(section, Mapping):
        raise ValueError(f"{_SECTION}: must be a mapping")
    known = {f.name for f in fields(Tunables)}
    values: dict[str, Any] = {}
    for key, value in section.items():
        if key not in known:
            raise ValueError(f"{key}: unknown tunable; known: {', '.join(sorted(known))}")
        if key == "weights":
            values[key] = _weights(value)
        elif key in _INT_KEYS:
            values[key] = _integer(key, value)
        elif key in _BOOL_KEYS:
            values[key] = _boolean(key, value)
        else:
            values[key] = _number(key, value)
    return Tunables(**values)  # __post_init__ checks ranges, naming the key


def _number(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{key}: must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{key}: must be finite, got {value!r}")
    return float(value)


def _boolean(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{key}: must be true or false, got {value!r}")
    return value


def _integer(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{key}: must be an integer, got {value!r}")
    return value


def _weights(value: Any) -> Mapping[str, float]:
    if not isinstance(value, Mapping):
        raise ValueError(f"weights: must map source names ({', '.join(SOURCES)}) to numbers")
    given = {str(k): _number(f"weights.{k}", v) for k, v in value.items()}
    return MappingProxyType({**DEFAULT_WEIGHTS, **given})  # unnamed sources keep defaults
