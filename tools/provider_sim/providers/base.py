"""What every simulated provider has: routes, auth, and its own error bodies.

A provider lists its routes relative to its base path (e.g. `/polygon`); the gate
(`tools.provider_sim.gate`) wraps each REST handler with outage, auth, quota, fault and
latency handling, so handlers only build the success body. Subclasses override the error
bodies so a client sees what the real provider sends.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from aiohttp import web

from market_gateway.ports import Clock
from tools.provider_sim.config import ProviderConfig, SimConfig
from tools.provider_sim.counters import Counters
from tools.provider_sim.faults import html_page
from tools.provider_sim.market import MarketView
from tools.provider_sim.quotas import QuotaDecision

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SYMBOLS_KEY = web.RequestKey("sim_symbols", int)  # how many symbols the call carried


@dataclass(frozen=True, slots=True)
class Route:
    method: str  # GET, POST, or WS for a WebSocket endpoint
    path: str  # relative to the provider's base path
    handler: Handler
    endpoint: str = ""  # counters label; default: the path template


@dataclass
class SimContext:
    """What providers share: the clock, the market, the counters and the live config."""

    clock: Clock
    market: MarketView
    counters: Counters
    current_config: Callable[[], SimConfig]


class ProviderBase:
    name: ClassVar[str]
    base_path: ClassVar[str]  # where BASE_URL points, e.g. /xai/v1 (urls.BASE_PATHS)
    stream_path: ClassVar[str] = ""  # where WS_URL points (urls.WS_PATHS)
    rate_limit_headers_always: ClassVar[bool] = False  # Alpaca sends X-RateLimit-* always

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self._ids = itertools.count(1)
        self._views: dict[float, MarketView] = {}

    @property
    def config(self) -> ProviderConfig:
        return self.ctx.current_config().provider(self.name)

    @property
    def market(self) -> MarketView:
        skew = self.config.skew_bps
        if skew == 0:
            return self.ctx.market
        view = self._views.get(skew)
        if view is None:
            view = self._views[skew] = self.ctx.market.with_skew(skew)
        return view

    def routes(self) -> list[Route]:
        raise NotImplementedError  # template hook: each provider's subclass overrides it

    def stream_routes(self, hub: Any, outage: Callable[[ProviderBase], str | None]) -> list[Route]:
        """WebSocket endpoints (method "WS"); `hub` is the shared StreamHub."""
        return []

    def endpoint(self, request: web.Request, route: Route) -> str:
        return route.endpoint or route.path

    def authenticate(self, request: web.Request) -> web.Response | None:
        """None when the call may proceed, else the provider's auth error response."""
        return None

    def rate_limited(self, decision: QuotaDecision) -> web.Response:
        return json_response({"error": "rate limit exceeded"}, 429)

    def over_concurrency(self) -> web.Response:
        return json_response({"error": "too many concurrent requests"}, 429)

    def server_error(self, status: int) -> web.Response:
        return json_response({"error": "internal error"}, status)

    def unavailable(self) -> web.Response:
        return web.Response(status=503, text=html_page(503), content_type="text/html")

    def request_id(self) -> str:
        """A 32-hex request id, deterministic per provider and call order."""
        return hashlib.md5(f"{self.name}/{next(self._ids)}".encode()).hexdigest()


def json_response(
    data: Any, status: int = 200, *, headers: dict[str, str] | None = None
) -> web.Response:
    """Compact JSON with a bytes body (the gate may cut or corrupt it)."""
    body = json.dumps(data, separators=(",", ":"), allow_nan=False, ensure_ascii=False).encode()
    return web.Response(status=status, body=body, content_type="application/json", headers=headers)


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def count_symbols(request: web.Request, count: int) -> None:
    request[SYMBOLS_KEY] = count


def split_symbols(raw: str | None) -> list[str]:
    return [part.strip() for part in (raw or "").split(",") if part.strip()]
