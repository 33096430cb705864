"""Composition root: builds the adapters and use cases, and hands the runtime a Wiring.

`build_components` is shared with the operational commands (`python -m tracker.commands`),
which need the same use cases without a gRPC server.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import grpc
import structlog

from service_runtime.channels import open_channel
from service_runtime.clock import SystemClock
from service_runtime.settings import ConfigError
from service_runtime.wiring import Wiring
from tracker.adapters.calibration_fitter import SklearnCalibrationFitter
from tracker.adapters.market_gateway_prices import GatewayPriceSource
from tracker.adapters.object_store.factory import open_object_store
from tracker.adapters.parquet_codec import ParquetArchiveCodec
from tracker.adapters.store_factory import open_store
from tracker.app import (
    AnalyticsService,
    ArchiveService,
    ArchiveSettings,
    CalibrationService,
    CalibrationSettings,
    OutcomeSettings,
    OutcomeTracker,
    TrackerApp,
)
from tracker.config import Settings, Tunables, parse_tunables
from tracker.domain import Compression, StorageUnavailable
from tracker.grpc_api import servicer
from tracker.ports import (
    ArchiveCodec,
    CalibrationFitter,
    Clock,
    ObjectStore,
    PriceSource,
    TrackerStore,
)

log = structlog.get_logger(__name__)


@dataclass
class Components:
    """Every use case of the tracker over one set of adapters."""

    store: TrackerStore
    clock: Clock
    tracker: TrackerApp
    outcomes: OutcomeTracker
    calibration: CalibrationService
    archive: ArchiveService
    analytics: AnalyticsService
    exit_stack: contextlib.AsyncExitStack

    def apply(self, tunables: Tunables) -> None:
        """Hot-reloaded tunables reach every use case (loops read them each turn)."""
        t = tunables
        self.tracker.configure(
            default_page_size=t.query_default_page_size,
            slow_operation_seconds=t.slow_storage_seconds,
        )
        self.outcomes.settings = OutcomeSettings(
            poll_seconds=t.outcome_poll_seconds,
            batch_size=t.outcome_batch_size,
            hold_band_pct=t.hold_band_pct,
        )
        old = self.calibration.settings
        self.calibration.settings = CalibrationSettings(
            min_samples=t.calibration_min_samples,
            window_days=t.calibration_window_days,
            held_out_fraction=old.held_out_fraction,
            refit_seconds=t.calibration_refit_seconds,
            cache_seconds=old.cache_seconds,
        )
        self.analytics.refresh_seconds = t.analytics_refresh_seconds


async def build_components(
    settings: Settings,
    *,
    clock: Clock | None = None,
    store: TrackerStore | None = None,
    prices: PriceSource | None = None,
    objects: ObjectStore | None = None,
    fitter: CalibrationFitter | None = None,
    codec: ArchiveCodec | None = None,
) -> Components:
    """Build the use cases; adapters passed in (fakes in tests) are the caller's to close.
    Nothing connects here: the store and channels connect on first use."""
    stack = contextlib.AsyncExitStack()
    clock = clock or SystemClock(settings.common.clock_start)
    try:
        if store is None:
            store = open_store(
                settings.database_url,
                statement_timeout_ms=settings.db_statement_timeout_ms,
                pool_max=settings.db_pool_max,
                connect_timeout_seconds=settings.db_connect_timeout_seconds,
                ingest_method=settings.db_ingest_method,
            )
            stack.push_async_callback(store.aclose)
        if objects is None:
            objects = open_object_store(
                settings.archive_url,
                s3_endpoint_url=settings.archive_s3_endpoint_url,
                region=settings.archive_s3_region,
            )
            stack.push_async_callback(objects.aclose)
    except ValueError as e:
        await stack.aclose()
        raise ConfigError(str(e)) from None
    if prices is None:
        channel = open_channel(settings.market_gateway_addr, settings.common.outbound)
        stack.push_async_callback(channel.close)
        prices = GatewayPriceSource(channel, deadline_seconds=settings.gateway_deadline_seconds)
    tunables = Tunables()
    archive = ArchiveService(
        store,
        store,
        objects,
        codec or ParquetArchiveCodec(),
        clock,
        ArchiveSettings(
            compression=Compression(settings.archive_compression),
            write_csv=settings.archive_csv,
            retention_days=settings.archive_retention_days,
            lifecycle=ArchiveSettings().lifecycle if settings.archive_lifecycle else (),
        ),
    )
    components = Components(
        store=store,
        clock=clock,
        tracker=TrackerApp(store, clock, archive=archive),
        outcomes=OutcomeTracker(store, store, prices, clock, OutcomeSettings()),
        calibration=CalibrationService(
            store, store, fitter or SklearnCalibrationFitter(), clock, CalibrationSettings()
        ),
        archive=archive,
        analytics=AnalyticsService(store, clock, tunables.analytics_refresh_seconds),
        exit_stack=stack,
    )
    components.apply(tunables)
    return components


async def bootstrap(
    settings: Settings,
    *,
    clock: Clock | None = None,
    store: TrackerStore | None = None,
    prices: PriceSource | None = None,
    objects: ObjectStore | None = None,
    fitter: CalibrationFitter | None = None,
    codec: ArchiveCodec | None = None,
) -> Wiring:
    """Wire the tracker. Adapters passed in (fakes in tests) are the caller's to close.

    Migrations run here; when the database is unreachable at start the service still comes
    up, NOT_SERVING, and the readiness probe (`store.ping`, which connects and migrates on
    first success) turns it SERVING once the database answers. Readiness does not depend
    on the gateway: signals are recorded while outcome tracking waits for prices.
    """
    c = await build_components(
        settings,
        clock=clock,
        store=store,
        prices=prices,
        objects=objects,
        fitter=fitter,
        codec=codec,
    )
    try:
        await c.store.migrate()
    except StorageUnavailable as e:
        log.warning("database_unavailable_at_start", backend=c.store.backend, error=str(e))
    except BaseException:
        await c.exit_stack.aclose()
        raise
    use_cases = servicer.TrackerUseCases(c.tracker, c.calibration, c.archive, c.analytics)

    def register(server: grpc.aio.Server) -> None:
        servicer.register(server, use_cases)

    def apply_config(raw: Mapping[str, Any]) -> None:
        tunables = parse_tunables(raw)
        c.apply(tunables)
        log.info("tunables_applied", **vars(tunables))

    loops: list[Callable[[], Awaitable[None]]] = [c.calibration.run]
    if settings.outcome_tracking:
        loops.append(c.outcomes.run)
    if c.store.backend == "postgresql":  # SQLite's views are always current
        loops.append(c.analytics.run)
    log.info("tracker_wired", backend=c.store.backend, outcome_tracking=settings.outcome_tracking)
    return Wiring(
        service_names=[servicer.SERVICE_NAME],
        register=register,
        performance=lambda: {**c.tracker.performance(), **c.outcomes.performance()},
        exit_stack=c.exit_stack,
        background=loops,
        apply_config=apply_config,
        ready=c.store.ping,
    )
