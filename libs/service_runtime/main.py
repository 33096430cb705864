"""The one `main()` the three services share: settings, logging, tracing, serve."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any, Protocol, TypeVar

import structlog

from observability.logging import configure_logging
from observability.redaction import Redactor, secrets_from_environ
from observability.tracing import configure_tracing
from service_runtime.server import serve
from service_runtime.settings import CommonSettings, ConfigError
from service_runtime.wiring import Wiring


class HasCommon(Protocol):
    @property
    def common(self) -> CommonSettings: ...


S = TypeVar("S", bound=HasCommon)


def run_service(
    load_settings: Callable[[Mapping[str, str]], S],
    bootstrap: Callable[[S], Awaitable[Wiring]],
) -> None:
    """Process entry point; exits 2 with the variable's name when configuration is bad."""
    environ = dict(os.environ)
    try:
        settings = load_settings(environ)
    except ConfigError as e:
        print(f"configuration error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    common = settings.common
    redactor = configure_logging(
        service=common.service_name,
        level=common.log_level,
        fmt=common.log_format,
        redactor=Redactor(secrets_from_environ(environ)),
    )
    log = structlog.get_logger(__name__)
    try:
        provider = configure_tracing(
            service=common.service_name, environ=environ, redactor=redactor
        )
    except ValueError as e:
        print(f"configuration error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    try:
        run_on_event_loop(serve(common, lambda: bootstrap(settings)), common.event_loop)
    except ConfigError as e:
        log.error("startup_failed", error=str(e))
        raise SystemExit(2) from None
    finally:
        provider.shutdown()


def run_on_event_loop(main: Coroutine[Any, Any, None], event_loop: str) -> None:
    """Run the service on uvloop (libuv: cheaper callbacks, futures and I/O per RPC) unless
    ARGO_EVENT_LOOP=asyncio asks for the standard loop."""
    if event_loop == "uvloop":
        import uvloop

        uvloop.run(main)
    else:
        asyncio.run(main)
