"""Tracker settings from the environment, and hot-reloadable tunables from ARGO_CONFIG."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from service_runtime.settings import (
    CommonSettings,
    ConfigError,
    env_float,
    env_int,
    env_str,
    load_common,
)

SERVICE_NAME = "tracker"
DEFAULT_GRPC_PORT = 50053
DEFAULT_ADMIN_PORT = 9103
_DATABASE_SCHEMES = ("sqlite:///", "postgresql://", "postgres://")
_SECTION = "tracker"


@dataclass(frozen=True, kw_only=True)
class Settings:
    common: CommonSettings
    # None: SQLite at ./var/tracker.db; else postgresql://... or sqlite:///path.
    database_url: str | None
    db_statement_timeout_ms: int
    db_pool_max: int
    db_connect_timeout_seconds: float


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
    )


@dataclass(frozen=True, kw_only=True)
class Tunables:
    # Page size QuerySignals uses when the request says 0.
    query_default_page_size: int = 100
    # Storage operations slower than this are logged as `storage_operation_slow`.
    slow_storage_seconds: float = 0.25

    def __post_init__(self) -> None:
        if not 1 <= self.query_default_page_size <= 1000:
            raise ValueError("query_default_page_size: must be within 1..1000")
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
