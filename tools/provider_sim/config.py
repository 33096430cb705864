"""The simulator's configuration: typed, validated, layered, patchable at runtime.

Layers, later wins: built-in defaults (`defaults.py`), environment (`SYNTHETIC_SEED`,
`SYNTHETIC_ANCHOR_DATE`, `ARGO_CLOCK_START`, so prices agree with the gateway), the user's
YAML/dict, then runtime patches (`POST /_sim/config`). A provider's effective settings are
`defaults:` deep-merged with `providers.<name>:` (built-in first, then the user's), so a
user's `defaults.latency` overrides a built-in per-provider latency. In a patch `null`
removes a key from the user layer (back to the default). Unknown keys are errors.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from tools.provider_sim.defaults import BUILTIN, PROVIDERS
from tools.provider_sim.schema import build, dump
from tools.provider_sim.timefmt import parse_instant

OUTAGE_MODES = ("refuse", "503", "reset")

__all__ = [
    "Faults",
    "PROVIDERS",
    "Latency",
    "ListenConfig",
    "MarketConfig",
    "OutageWindow",
    "ProviderConfig",
    "QuotaWindow",
    "SimConfig",
    "StreamConfig",
    "deep_merge",
]


@dataclass(frozen=True, kw_only=True)
class Latency:
    """Lognormal delay fitted to a median and a 99th percentile; max_ms caps the tail."""

    median_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 30_000.0


@dataclass(frozen=True, kw_only=True)
class QuotaWindow:
    """At most `limit` calls per fixed window of `seconds` (aligned to the epoch)."""

    limit: int
    seconds: float

    def __post_init__(self) -> None:
        if self.limit < 1 or self.seconds <= 0:
            raise ValueError(f"quota window needs limit >= 1 and seconds > 0, got {self}")


@dataclass(frozen=True, kw_only=True)
class OutageWindow:
    """Down from `start` to `end`: seconds after simulator start, or ISO-8601 instants."""

    start: float | str
    end: float | str
    mode: str | None = None  # refuse | 503 | reset; None = the provider's outage_mode

    def __post_init__(self) -> None:
        if self.mode is not None and self.mode not in OUTAGE_MODES:
            raise ValueError(f"mode: must be one of {OUTAGE_MODES}, got {self.mode!r}")
        for name in ("start", "end"):
            value = getattr(self, name)
            if isinstance(value, str):
                parse_instant(value, name)


@dataclass(frozen=True, kw_only=True)
class Faults:
    error_rate: float = 0.0  # answered with one of error_statuses and the provider's body
    error_statuses: tuple[int, ...] = (500, 502, 503)
    html_rate: float = 0.0  # an nginx-style HTML error page
    html_status: int = 502
    malformed_rate: float = 0.0  # 200 with a body that is not valid JSON
    truncated_rate: float = 0.0  # Content-Length promised, connection closed halfway
    slow_rate: float = 0.0  # this fraction of calls waits slow_ms more
    slow_ms: float = 5_000.0
    down: bool = False  # every call fails the outage_mode way
    outage_mode: str = "refuse"  # refuse (connection refused) | 503 | reset (conn. reset)
    outages: tuple[OutageWindow, ...] = ()

    def __post_init__(self) -> None:
        for name in ("error_rate", "html_rate", "malformed_rate", "truncated_rate", "slow_rate"):
            if getattr(self, name) > 1:
                raise ValueError(f"{name}: must be between 0 and 1, got {getattr(self, name)}")
        if self.outage_mode not in OUTAGE_MODES:
            raise ValueError(
                f"outage_mode: must be one of {OUTAGE_MODES}, got {self.outage_mode!r}"
            )
        for status in (*self.error_statuses, self.html_status):
            if not 400 <= status <= 599:
                raise ValueError(f"error status must be 400..599, got {status}")


@dataclass(frozen=True, kw_only=True)
class StreamConfig:
    interval_ms: float = 1_000.0  # one data frame per connection this often
    max_connections: int | None = 1  # per cluster / feed, as the real plans allow
    drop_after_frames: int | None = None  # drop each connection after N data frames
    drop_mode: str = "abort"  # abort (TCP closed, no close frame) | close (1001)
    auth_timeout_ms: float = 10_000.0
    symbol_limit: int | None = None  # Alpaca IEX: 30 trade+quote channels
    max_events_per_frame: int = 500

    def __post_init__(self) -> None:
        if self.drop_mode not in ("abort", "close"):
            raise ValueError(f"drop_mode: must be abort or close, got {self.drop_mode!r}")
        if self.interval_ms <= 0 or self.max_events_per_frame < 1:
            raise ValueError("interval_ms must be > 0 and max_events_per_frame >= 1")


@dataclass(frozen=True, kw_only=True)
class ProviderConfig:
    api_key: str = ""
    secret_key: str = ""  # Alpaca only (APCA-API-SECRET-KEY)
    latency: Latency = field(default_factory=Latency)
    quotas: tuple[QuotaWindow, ...] = ()
    max_concurrency: int | None = None
    faults: Faults = field(default_factory=Faults)
    stream: StreamConfig = field(default_factory=StreamConfig)
    skew_bps: float = 0.0  # this provider's prices are off by this much
    null_gap_rate: float = 0.0  # Yahoo: fraction of bars whose values are null
    model: str = ""  # AI: the model named in answers when the request names none


@dataclass(frozen=True, kw_only=True)
class MarketConfig:
    seed: int = 42  # = the gateway's SYNTHETIC_SEED
    anchor_date: date | None = None  # = SYNTHETIC_ANCHOR_DATE; None: date of the clock start
    history_days: int = 7305
    max_cached_days: int = 1024
    unknown_symbols: tuple[str, ...] = ()
    universe: tuple[str, ...] = ()  # what `*` subscriptions and an empty tickers= mean
    warm_days: int = 400  # daily history computed for the universe at start (cold calls)


@dataclass(frozen=True, kw_only=True)
class ListenConfig:
    host: str = "127.0.0.1"
    port: int = 8900
    provider_ports: str | dict[str, int] = "auto"  # auto | none | {provider: port}

    def __post_init__(self) -> None:
        ports = self.provider_ports
        if isinstance(ports, str) and ports not in ("auto", "none"):
            raise ValueError(f"provider_ports: auto, none or a mapping, got {ports!r}")
        for name in ports if isinstance(ports, dict) else ():
            if name not in PROVIDERS:
                raise ValueError(f"provider_ports.{name}: unknown provider")


@dataclass(frozen=True)
class SimConfig:
    seed: int
    market: MarketConfig
    listen: ListenConfig
    providers: Mapping[str, ProviderConfig]
    user: Mapping[str, Any]  # the user layer (YAML + patches), kept for later patches
    environ_layer: Mapping[str, Any]

    @classmethod
    def parse(
        cls, raw: Mapping[str, Any] | None = None, *, env_layer: Mapping[str, Any] | None = None
    ) -> SimConfig:
        """Validate the user layer over the defaults; ValueError names the bad key."""
        user = copy.deepcopy(dict(raw or {}))
        env = copy.deepcopy(dict(env_layer or {}))
        _check_keys(user, ("seed", "market", "listen", "defaults", "providers"), "")
        merged = deep_merge(deep_merge(BUILTIN, env), user)
        for name in merged.get("providers") or {}:
            if name not in PROVIDERS:
                raise ValueError(f"providers.{name}: unknown provider (known: {PROVIDERS})")
        providers = {
            name: build(ProviderConfig, _provider_layers(name, env, user), f"providers.{name}")
            for name in PROVIDERS
        }
        seed = merged.get("seed")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"seed: must be an integer, got {seed!r}")
        return cls(
            seed=seed,
            market=build(MarketConfig, merged.get("market") or {}, "market"),
            listen=build(ListenConfig, merged.get("listen") or {}, "listen"),
            providers=providers,
            user=user,
            environ_layer=env,
        )

    def patched(self, patch: Mapping[str, Any]) -> SimConfig:
        """A new config with `patch` deep-merged into the user layer (null deletes)."""
        return SimConfig.parse(deep_merge(self.user, patch), env_layer=self.environ_layer)

    def provider(self, name: str) -> ProviderConfig:
        return self.providers[name]

    def to_dict(self) -> dict[str, Any]:
        """The effective configuration, as JSON-ready data."""
        return {
            "seed": self.seed,
            "market": dump(self.market),
            "listen": dump(self.listen),
            "providers": {name: dump(cfg) for name, cfg in self.providers.items()},
        }


def _provider_layers(name: str, env: Mapping[str, Any], user: Mapping[str, Any]) -> Any:
    layers: list[Mapping[str, Any]] = []
    for source in (BUILTIN, env, user):
        layers.append(source.get("defaults") or {})
        layers.append((source.get("providers") or {}).get(name) or {})
    merged: dict[str, Any] = {}
    for layer in layers:
        merged = deep_merge(merged, layer)
    return merged


def deep_merge(base: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key; anything else replaces; None deletes the key."""
    merged = copy.deepcopy(dict(base))
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _check_keys(raw: Mapping[str, Any], allowed: tuple[str, ...], path: str) -> None:
    for key in raw:
        if key not in allowed:
            raise ValueError(f"{path}{key}: unknown key (known: {', '.join(allowed)})")
