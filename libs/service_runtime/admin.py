"""The admin HTTP port: /metrics, /livez, /healthz and /api/v1/health.

/livez is liveness (200 while the event loop answers, 503 once shutdown starts); /healthz
and /api/v1/health are readiness (200 only while `serving`, 503 while a dependency is down).

aiohttp serves it on the service's event loop, so handlers read live state without locks.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import structlog
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

log = structlog.get_logger(__name__)


class AdminServer:
    """Serves health and metrics; `state` is read on every request."""

    def __init__(
        self,
        *,
        service: str,
        host: str,
        port: int,
        state: Callable[[], str],
        performance: Callable[[], Mapping[str, Any]],
    ) -> None:
        self._service = service
        self._host = host
        self._port = port
        self._state = state
        self._performance = performance
        self._started = time.monotonic()
        self._runner: web.AppRunner | None = None
        self.port = port

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/livez", self._livez)
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/api/v1/health", self._health)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        log.info("admin_server_started", port=self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _metrics(self, _: web.Request) -> web.Response:
        body = generate_latest(REGISTRY)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _livez(self, _: web.Request) -> web.Response:
        state = self._state()
        return web.json_response({"status": state}, status=503 if state == "stopping" else 200)

    async def _healthz(self, _: web.Request) -> web.Response:
        state = self._state()
        status = 200 if state == "serving" else 503
        return web.json_response({"status": state}, status=status)

    async def _health(self, _: web.Request) -> web.Response:
        state = self._state()
        try:
            performance = dict(self._performance())
        except Exception as e:  # a broken stats getter must not take the endpoint down
            log.exception("health_performance_failed")
            performance = {"error": type(e).__name__}
        performance["uptime_seconds"] = round(time.monotonic() - self._started, 3)
        body = {
            "status": "healthy" if state == "serving" else state,
            "service": self._service,
            "services": {"performance": performance},
        }
        return web.json_response(body, status=200 if state == "serving" else 503)
