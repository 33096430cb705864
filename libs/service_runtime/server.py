"""The process lifecycle every service shares.

bootstrap -> grpc.aio server (handler wrappers, health, reflection) -> admin port -> readiness
loop -> wait for SIGTERM/SIGINT -> health NOT_SERVING -> stop background loops -> drain
in-flight RPCs within the grace period -> close adapters.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable

import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from observability.grpc_server import ServerTelemetry
from service_runtime.admin import AdminServer
from service_runtime.caller_auth import CallerAuth
from service_runtime.cancellation import cancel_and_wait
from service_runtime.reloader import ConfigReloader
from service_runtime.settings import CommonSettings
from service_runtime.undecodable import refuse_undecodable
from service_runtime.wiring import Wiring
from service_runtime.wrapping_server import MethodWrapper, WrappingServer

log = structlog.get_logger(__name__)
_SERVING = health_pb2.HealthCheckResponse.SERVING
_NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
READINESS_INTERVAL_SECONDS = 2.0
# Recycle client connections every few minutes so clients re-resolve DNS and spread over
# replicas that joined after they connected (headless Services + round_robin).
_SERVER_OPTIONS = [
    ("grpc.max_connection_age_ms", 300_000),
    ("grpc.max_connection_age_grace_ms", 30_000),
]


class Lifecycle:
    """Holds the running server's state so tests can drive it without signals."""

    def __init__(self, common: CommonSettings, wiring: Wiring) -> None:
        self.common = common
        self.wiring = wiring
        self.state = "starting"
        self.health = health.aio.HealthServicer()
        wrappers: list[MethodWrapper] = [ServerTelemetry()]  # outermost first
        if common.auth is not None and common.auth.enabled:
            # Inside telemetry, so refused calls are still traced and counted by status.
            wrappers.append(CallerAuth(common.auth, wiring.caller_quotas))
        wrappers.append(refuse_undecodable)  # innermost: see its docstring
        self.server = WrappingServer(wrappers, options=_SERVER_OPTIONS)
        self.grpc_port = 0
        self.admin = AdminServer(
            service=common.service_name,
            host=common.bind_host,
            port=common.admin_port,
            state=lambda: self.state,
            performance=wiring.performance,
        )
        self._tasks: list[asyncio.Task[None]] = []
        self.stop_event = asyncio.Event()

    async def start(self) -> None:
        w = self.wiring
        if w.apply_config is not None and self.common.config_path:
            reloader = ConfigReloader(self.common.config_path, w.apply_config)
            reloader.load_initial()
            self._spawn(reloader.run(), "config_reloader")
        w.register(self.server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        names = [*w.service_names, health.SERVICE_NAME, reflection.SERVICE_NAME]
        reflection.enable_server_reflection(names, self.server)
        # "" is liveness: SERVING while the process runs, NOT_SERVING only during shutdown.
        # Each service name is readiness: SERVING only while its dependencies answer, so a
        # database outage takes the pod out of rotation without restarting it.
        await self.health.set("", _SERVING)
        await self._set_health(_NOT_SERVING)
        address = f"{self.common.bind_host}:{self.common.grpc_port}"
        tls = self.common.server_tls
        if tls is None:
            self.grpc_port = self.server.add_insecure_port(address)
        else:
            self.grpc_port = self.server.add_secure_port(address, tls.credentials())
        await self.server.start()
        await self.admin.start()
        log.info(
            "grpc_server_started",
            port=self.grpc_port,
            services=list(w.service_names),
            tls="mutual" if tls is not None and tls.mutual else ("on" if tls else "off"),
            auth=self.common.auth.mode if self.common.auth is not None else "off",
            event_loop=type(asyncio.get_running_loop()).__module__.partition(".")[0],
        )
        self._spawn(self._watch_readiness(), "readiness")
        for loop_factory in w.background:
            self._spawn(loop_factory(), getattr(loop_factory, "__qualname__", "background"))

    def _spawn(self, coro: Awaitable[None], name: str) -> None:
        async def guarded() -> None:
            try:
                await coro
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background_task_crashed", task=name)
                self.stop_event.set()  # a dead loop is not a healthy service: stop, let k8s restart

        self._tasks.append(asyncio.create_task(guarded(), name=name))

    async def _set_health(self, status: int) -> None:
        for name in self.wiring.service_names:
            await self.health.set(name, status)

    async def _watch_readiness(self) -> None:
        ready = self.wiring.ready
        while self.state in ("starting", "serving", "degraded"):
            ok = True
            if ready is not None:
                try:
                    ok = await asyncio.wait_for(ready(), timeout=READINESS_INTERVAL_SECONDS)
                except Exception as e:
                    log.warning("readiness_check_failed", error=repr(e))
                    ok = False
            if ok:
                new_state = "serving"
            else:
                new_state = "starting" if self.state == "starting" else "degraded"
            if new_state != self.state:
                log.info("service_state_changed", old=self.state, new=new_state)
                self.state = new_state
                await self._set_health(_SERVING if ok else _NOT_SERVING)
            await asyncio.sleep(READINESS_INTERVAL_SECONDS if ok else 0.25)

    async def stop(self) -> None:
        grace = self.common.shutdown_grace_seconds
        log.info("shutdown_started", grace_seconds=grace)
        self.state = "stopping"
        await self.health.enter_graceful_shutdown()
        if self.wiring.on_shutdown is not None:
            try:
                await self.wiring.on_shutdown()
            except Exception:
                log.exception("on_shutdown_failed")
        await cancel_and_wait(self._tasks)
        await self.server.stop(grace)
        await self.admin.stop()
        await self.wiring.exit_stack.aclose()
        log.info("shutdown_complete")


async def serve(common: CommonSettings, build: Callable[[], Awaitable[Wiring]]) -> None:
    """Run one service until SIGTERM or SIGINT, then shut down gracefully."""
    loop = asyncio.get_running_loop()
    wiring = await build()
    lifecycle = Lifecycle(common, wiring)
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lifecycle.stop_event.set)
    try:
        await lifecycle.start()
        await lifecycle.stop_event.wait()
    finally:
        with contextlib.suppress(NotImplementedError):
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
        await lifecycle.stop()
