"""Tracker settings from the environment, and hot-reloadable tunables from ARGO_CONFIG."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from service_runtime.settings import (
    CommonSettings,
    ConfigError,
    env_choice,
    env_float,
    env_int,
    env_str,
    load_common,
)

SERVICE_NAME = "tracker"
DEFAULT_GRPC_PORT = 50053
DEFAULT_ADMIN_PORT = 9103
_DATABASE_SCHEMES = ("sqlite:///", "postgresql://", "postgres://")
_ARCHIVE_SCHEMES = ("file://", "s3://")
_SECTION = "tracker"
_BOOLEANS = ("true", "false", "1", "0", "yes", "no", "on", "off")
_TRUE = ("true", "1", "yes", "on")


@dataclass(frozen=True, kw_only=True)
class Settings:
    common: CommonSettings
    # None: SQLite at ./var/tracker.db; else postgresql://... or sqlite:///path.
    database_url: str | None
    db_statement_timeout_ms: int
    db_pool_max: int
    db_connect_timeout_seconds: float
    # PostgreSQL batch inserts: "copy" (COPY into a per-connection temp table, then INSERT
    # ... ON CONFLICT) or "unnest" (one INSERT over arrays; use it behind a pooler in
    # transaction mode, where per-connection temp tables do not survive).
    db_ingest_method: str
    # The gateway the outcome tracker reads prices from.
    market_gateway_addr: str
    gateway_deadline_seconds: float
    outcome_tracking: bool
    # None: ./var/archive; else file:///path or s3://bucket/prefix.
    archive_url: str | None
    archive_compression: str  # "zstd" or "snappy"
    archive_csv: bool
    archive_retention_days: int
    archive_lifecycle: bool
    # S3 endpoint override (MinIO, moto); unset: boto3's own (AWS_ENDPOINT_URL(_S3) or AWS).
    archive_s3_endpoint_url: str | None
    # S3 region: AWS_REGION, else boto3's own lookup (AWS_DEFAULT_REGION, profile).
    archive_s3_region: str | None


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Read the tracker's variables; raise ConfigError naming the first bad one."""
    common = load_common(
        environ,
        service_name=SERVICE_NAME,
        default_grpc_port=DEFAULT_GRPC_PORT,
        default_admin_port=DEFAULT_ADMIN_PORT,
    )
    database_url = env_str(environ, "DATABASE_URL") or None
    if database_url is not None and not database_url.startswith(_DATABASE_SCHEMES):
        # Name the scheme only: the URL may carry a password.
        scheme = database_url.partition("://")[0] if "://" in database_url else "(none)"
        raise ConfigError(
            f"DATABASE_URL: must start with postgresql://, postgres:// or sqlite:///, "
            f"got scheme {scheme!r}"
        )
    archive_url = env_str(environ, "ARCHIVE_URL") or None
    if archive_url is not None and not archive_url.startswith(_ARCHIVE_SCHEMES):
        scheme = archive_url.partition("://")[0] if "://" in archive_url else "(none)"
        raise ConfigError(f"ARCHIVE_URL: must start with file:// or s3://, got scheme {scheme!r}")
    return Settings(
        common=common,
        database_url=database_url,
        db_statement_timeout_ms=env_int(
            environ, "DB_STATEMENT_TIMEOUT_MS", 5000, minimum=100, maximum=600_000
        ),
        db_pool_max=env_int(environ, "DB_POOL_MAX", 10, minimum=1, maximum=200),
        db_connect_timeout_seconds=env_float(
            environ, "DB_CONNECT_TIMEOUT_SECONDS", 5.0, minimum=0.1, maximum=120.0
        ),
        db_ingest_method=env_choice(environ, "DB_INGEST_METHOD", "copy", ("copy", "unnest")),
        market_gateway_addr=_address(environ, "MARKET_GATEWAY_ADDR", "127.0.0.1:50051"),
        gateway_deadline_seconds=env_float(
            environ, "GATEWAY_DEADLINE_SECONDS", 2.0, minimum=0.05, maximum=60.0
        ),
        outcome_tracking=_flag(environ, "OUTCOME_TRACKING", True),
        archive_url=archive_url,
        archive_compression=env_choice(environ, "ARCHIVE_COMPRESSION", "zstd", ("zstd", "snappy")),
        archive_csv=_flag(environ, "ARCHIVE_CSV", False),
        archive_retention_days=env_int(
            environ, "ARCHIVE_RETENTION_DAYS", 30, minimum=1, maximum=36_500
        ),
        archive_lifecycle=_flag(environ, "ARCHIVE_LIFECYCLE", True),
        archive_s3_endpoint_url=env_str(environ, "ARCHIVE_S3_ENDPOINT_URL") or None,
        archive_s3_region=env_str(environ, "AWS_REGION") or None,
    )


def _flag(environ: Mapping[str, str], name: str, default: bool) -> bool:
    return env_choice(environ, name, "true" if default else "false", _BOOLEANS) in _TRUE


def _address(environ: Mapping[str, str], name: str, default: str) -> str:
    value = env_str(environ, name, default)
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"{name}: must be host:port, got {value!r}")
    return value


@dataclass(frozen=True, kw_only=True)
class Tunables:
    # Page size QuerySignals uses when the request says 0.
    query_default_page_size: int = 100
    # Storage operations slower than this are logged as `storage_operation_slow`.
    slow_storage_seconds: float = 0.25
    # Seconds between outcome-tracking passes over the open signals.
    outcome_poll_seconds: float = 15.0
    # Open signals claimed (and row-locked on PostgreSQL) per evaluation batch.
    outcome_batch_size: int = 200
    # A HOLD wins when the price at expiry is within this percentage of its entry.
    hold_band_pct: float = 0.5
    # Decided outcomes a symbol needs for its own calibration (else the global fit).
    calibration_min_samples: int = 200
    # Outcomes of signals created in this many days feed the calibration.
    calibration_window_days: int = 30
    # Seconds between calibration refits.
    calibration_refit_seconds: float = 3600.0
    # Seconds between refreshes of the analytics materialized views (PostgreSQL).
    analytics_refresh_seconds: float = 300.0

    def __post_init__(self) -> None:
        ranges: dict[str, tuple[float, float]] = {
            "query_default_page_size": (1, 1000),
            "outcome_poll_seconds": (0.1, 3600.0),
            "outcome_batch_size": (1, 5000),
            "hold_band_pct": (0.0, 100.0),
            "calibration_min_samples": (10, 10_000_000),
            "calibration_window_days": (1, 3650),
            "calibration_refit_seconds": (10.0, 7 * 86_400.0),
            "analytics_refresh_seconds": (1.0, 86_400.0),
        }
        for name, (low, high) in ranges.items():
            if not low <= getattr(self, name) <= high:
                raise ValueError(f"{name}: must be within {low:g}..{high:g}")
        if not 0.0 < self.slow_storage_seconds <= 60.0:
            raise ValueError("slow_storage_seconds: must be within (0, 60]")


def parse_tunables(raw: Mapping[str, Any]) -> Tunables:
    """Tunables from the YAML mapping (or its `tracker:` section); missing keys keep their
    defaults. Raise ValueError naming the key on an unknown key or a bad value."""
    section = raw.get(_SECTION, raw)
    if not isinstance(section, Mapping):
        raise ValueError(f"{_SECTION}: must be a mapping")
    known = {f.name: f for f in fields(Tunables)}
    values: dict[str, Any] = {}
    for key, value in section.items():
        if key not in known:
            raise ValueError(f"{key}: unknown tunable; known: {', '.join(sorted(known))}")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{key}: must be a number, got {value!r}")
        if known[key].type == "int":
            if not isinstance(value, int):
                raise ValueError(f"{key}: must be an integer, got {value!r}")
            values[key] = value
        else:
            if not math.isfinite(value):
                raise ValueError(f"{key}: must be finite, got {value!r}")
            values[key] = float(value)
    return Tunables(**values)
