"""Composition root: builds the store and the app, and hands the runtime a Wiring."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

import grpc
import structlog

from service_runtime.clock import SystemClock
from service_runtime.settings import ConfigError
from service_runtime.wiring import Wiring
from tracker.adapters.store_factory import open_store
from tracker.app import TrackerApp
from tracker.config import Settings, Tunables, parse_tunables
from tracker.domain import StorageUnavailable
from tracker.grpc_api import servicer
from tracker.ports import Clock, SignalStore

log = structlog.get_logger(__name__)


async def bootstrap(
    settings: Settings,
    *,
    clock: Clock | None = None,
    store: SignalStore | None = None,
) -> Wiring:
    """Wire the tracker. A store passed in (a fake in tests) is the caller's to close.

    Migrations run here; when the database is unreachable at start the service still comes
    up, NOT_SERVING, and the readiness probe (`store.ping`, which connects and migrates on
    first success) turns it SERVING once the database answers.
    """
    stack = contextlib.AsyncExitStack()
    clock = clock or SystemClock(settings.common.clock_start)
    if store is None:
        try:
            store = open_store(
                settings.database_url,
                statement_timeout_ms=settings.db_statement_timeout_ms,
                pool_max=settings.db_pool_max,
                connect_timeout_seconds=settings.db_connect_timeout_seconds,
            )
        except ValueError as e:
            raise ConfigError(str(e)) from None
        stack.push_async_callback(store.aclose)
    try:
        await store.migrate()
    except StorageUnavailable as e:
        log.warning("database_unavailable_at_start", backend=store.backend, error=str(e))
    except BaseException:
        await stack.aclose()
        raise
    defaults = Tunables()
    app = TrackerApp(
        store,
        clock,
        default_page_size=defaults.query_default_page_size,
        slow_operation_seconds=defaults.slow_storage_seconds,
    )

    def register(server: grpc.aio.Server) -> None:
        servicer.register(server, app)

    def apply_config(raw: Mapping[str, Any]) -> None:
        tunables = parse_tunables(raw)
        app.configure(
            default_page_size=tunables.query_default_page_size,
            slow_operation_seconds=tunables.slow_storage_seconds,
        )
        log.info("tunables_applied", **vars(tunables))

    log.info("tracker_wired", backend=store.backend)
    return Wiring(
        service_names=[servicer.SERVICE_NAME],
        register=register,
        performance=app.performance,
        exit_stack=stack,
        apply_config=apply_config,
        ready=store.ping,
    )
