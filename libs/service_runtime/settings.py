"""Environment-variable parsing shared by the three services' `config.py`.

Every reader names the variable in its error, so a bad value at start fails fast with a
message an operator can act on ("GRPC_PORT: must be an integer, got 'abc'").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from service_runtime.clock import parse_clock_start

if TYPE_CHECKING:
    from service_runtime.auth import AuthSettings
    from service_runtime.channels import ChannelSecurity
    from service_runtime.tls import ServerTls


class ConfigError(ValueError):
    """A configuration value is missing or invalid; the message names the variable."""


def env_str(environ: Mapping[str, str], name: str, default: str = "") -> str:
    return environ.get(name, default).strip() or default


def env_int(
    environ: Mapping[str, str],
    name: str,
    default: int,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}: must be an integer, got {raw!r}") from None
    _check_range(name, value, minimum, maximum)
    return value


def env_float(
    environ: Mapping[str, str],
    name: str,
    default: float,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}: must be a number, got {raw!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ConfigError(f"{name}: must be finite, got {raw!r}")
    _check_range(name, value, minimum, maximum)
    return value


def env_choice(
    environ: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]
) -> str:
    value = env_str(environ, name, default).lower()
    if value not in choices:
        raise ConfigError(f"{name}: must be one of {', '.join(choices)}, got {value!r}")
    return value


def env_list(environ: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    items = tuple(item.strip() for item in raw.split(",") if item.strip())
    if not items:
        raise ConfigError(f"{name}: must list at least one comma-separated value")
    return items


def _check_range(name: str, value: float, minimum: float | None, maximum: float | None) -> None:
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name}: must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{name}: must be <= {maximum}, got {value}")


@dataclass(frozen=True, kw_only=True)
class CommonSettings:
    """Settings every service shares (DESIGN.md §2 names)."""

    service_name: str
    grpc_port: int
    admin_port: int
    bind_host: str
    log_level: str
    log_format: str
    config_path: str | None
    clock_start: datetime | None
    shutdown_grace_seconds: float
    # Transport security and caller authentication (service_runtime.tls / .auth); the
    # defaults are plaintext and anonymous.
    server_tls: ServerTls | None = None
    auth: AuthSettings | None = None
    outbound: ChannelSecurity | None = None
    # "uvloop" (default: ~15% more warm GetQuotes per core, decision 0022) or "asyncio".
    event_loop: str = "uvloop"


def load_common(
    environ: Mapping[str, str],
    *,
    service_name: str,
    default_grpc_port: int,
    default_admin_port: int,
) -> CommonSettings:
    """Read the shared variables; raise ConfigError naming the first bad one."""
    clock_raw = env_str(environ, "ARGO_CLOCK_START")
    try:
        clock_start = parse_clock_start(clock_raw) if clock_raw else None
    except ValueError as e:
        raise ConfigError(f"ARGO_CLOCK_START: {e}, got {clock_raw!r}") from None
    # tls/auth/channels import this module's ConfigError, so they are imported here.
    from service_runtime.auth import load_auth
    from service_runtime.channels import load_channel_security
    from service_runtime.tls import load_server_tls

    server_tls = load_server_tls(environ)
    auth = load_auth(environ, mutual_tls=server_tls is not None and server_tls.mutual)
    outbound = load_channel_security(environ)
    default_format = "json" if "KUBERNETES_SERVICE_HOST" in environ else "console"
    return CommonSettings(
        service_name=env_str(environ, "OTEL_SERVICE_NAME", service_name),
        grpc_port=env_int(environ, "GRPC_PORT", default_grpc_port, minimum=0, maximum=65535),
        admin_port=env_int(environ, "ADMIN_PORT", default_admin_port, minimum=0, maximum=65535),
        bind_host=env_str(environ, "BIND_HOST", "0.0.0.0"),
        log_level=env_choice(
            environ, "LOG_LEVEL", "info", ("debug", "info", "warning", "error", "critical")
        ),
        log_format=env_choice(environ, "LOG_FORMAT", default_format, ("json", "console")),
        config_path=env_str(environ, "ARGO_CONFIG") or None,
        clock_start=clock_start,
        shutdown_grace_seconds=env_float(
            environ, "SHUTDOWN_GRACE_SECONDS", 10.0, minimum=0.0, maximum=300.0
        ),
        server_tls=server_tls,
        auth=auth,
        outbound=outbound,
        event_loop=env_choice(environ, "ARGO_EVENT_LOOP", "uvloop", ("uvloop", "asyncio")),
    )
