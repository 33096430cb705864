"""Everything between a client's request and a provider's handler, in the real order:

outage (connection reset or HTML 503) -> auth (the provider's own error body) -> concurrency
cap -> quota (429 with Retry-After and X-RateLimit-*, or Alpha Vantage's HTTP-200 note) ->
drawn fault and latency (a 5xx, an HTML page, a malformed or a truncated body, a slow
answer) -> the handler. Every call is counted once, whatever happened to it.
"""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from tools.provider_sim.faults import Fault, FaultInjector, html_page, malformed, outage_mode
from tools.provider_sim.providers.base import SYMBOLS_KEY, Handler, ProviderBase, Route
from tools.provider_sim.quotas import QuotaBook, QuotaDecision


class Gate:
    def __init__(self, quotas: QuotaBook, faults: FaultInjector, started_at: datetime) -> None:
        self.quotas = quotas
        self.faults = faults
        self.started_at = started_at

    def outage(self, provider: ProviderBase) -> str | None:
        """The outage mode of `provider` now, or None while it is up."""
        return outage_mode(provider.config.faults, provider.ctx.clock.now(), self.started_at)

    def wrap(self, provider: ProviderBase, route: Route) -> Handler:
        async def gated(request: web.Request) -> web.StreamResponse:
            return await self._call(provider, route, request)

        return gated

    def wrap_stream(self, provider: ProviderBase, route: Route) -> Handler:
        """WebSocket upgrades see outages only; auth and limits are in the protocol."""

        async def gated(request: web.Request) -> web.StreamResponse:
            mode = self.outage(provider)
            if mode == "503":
                return provider.unavailable()
            if mode is not None:
                return _reset(request)
            return await route.handler(request)

        return gated

    async def _call(
        self, provider: ProviderBase, route: Route, request: web.Request
    ) -> web.StreamResponse:
        name, cfg = provider.name, provider.config
        endpoint = provider.endpoint(request, route)
        counters = provider.ctx.counters
        mode = self.outage(provider)
        if mode is not None:
            counters.record(name, endpoint, 503 if mode == "503" else 0, "outage")
            return provider.unavailable() if mode == "503" else _reset(request)
        denied = provider.authenticate(request)
        if denied is not None:
            counters.record(name, endpoint, denied.status, "auth_error")
            return denied
        if not self.quotas.enter(name, cfg.max_concurrency):
            refused = provider.over_concurrency()
            counters.record(name, endpoint, refused.status, "rate_limited")
            return refused
        try:
            now = provider.ctx.clock.now().timestamp()
            decision = self.quotas.take(name, cfg.quotas, now)
            if not decision.allowed:
                refused = provider.rate_limited(decision)
                if refused.status == 429:
                    refused.headers.update(decision.headers())
                counters.record(name, endpoint, refused.status, "rate_limited")
                return refused
            return await self._answer(provider, route, request, endpoint, decision)
        finally:
            self.quotas.leave(name)

    async def _answer(
        self,
        provider: ProviderBase,
        route: Route,
        request: web.Request,
        endpoint: str,
        decision: QuotaDecision,
    ) -> web.StreamResponse:
        name, cfg, counters = provider.name, provider.config, provider.ctx.counters
        draw = self.faults.draw(name, cfg.faults)
        delay = self.faults.latency(name, cfg.latency) + draw.extra_delay
        if delay > 0:
            await provider.ctx.clock.sleep(delay)
        extra = decision.headers() if provider.rate_limit_headers_always else {}
        extra.pop("Retry-After", None)
        if draw.fault is Fault.ERROR:
            counters.record(name, endpoint, draw.status, "fault")
            return provider.server_error(draw.status)
        if draw.fault is Fault.HTML:
            counters.record(name, endpoint, draw.status, "fault")
            return web.Response(
                status=draw.status, text=html_page(draw.status), content_type="text/html"
            )
        response = await route.handler(request)
        symbols = request.get(SYMBOLS_KEY, 0)
        if not isinstance(response, web.Response) or not isinstance(response.body, bytes):
            counters.record(name, endpoint, response.status, _outcome(response.status), symbols)
            return response
        response.headers.update(extra)
        if draw.fault is Fault.MALFORMED:
            counters.record(name, endpoint, 200, "fault", symbols)
            return web.Response(
                status=200, body=malformed(response.body), content_type="application/json"
            )
        if draw.fault is Fault.TRUNCATED:
            counters.record(name, endpoint, 200, "fault", symbols)
            return await _truncated(request, response)
        counters.record(name, endpoint, response.status, _outcome(response.status), symbols)
        return response


def _outcome(status: int) -> str:
    if status < 400:
        return "ok"
    if status in (401, 403):
        return "auth_error"
    return "rate_limited" if status == 429 else "client_error"


def _reset(request: web.Request) -> web.StreamResponse:
    """Close the connection without an answer (what a client of a dead host sees)."""
    if request.transport is not None:
        request.transport.close()
    return web.Response(status=503)  # never reaches the client


async def _truncated(request: web.Request, response: web.Response) -> web.StreamResponse:
    """Promise the whole body, send half, close the connection."""
    body = response.body
    assert isinstance(body, bytes)
    stream = web.StreamResponse(status=response.status, headers=response.headers)
    stream.content_length = len(body)
    await stream.prepare(request)
    await stream.write(body[: len(body) // 2])
    if request.transport is not None:
        request.transport.close()
    return stream
