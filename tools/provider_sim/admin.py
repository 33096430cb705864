"""Admin endpoints under `/_sim/` (never counted, never faulted, never rate limited).

GET  /_sim/counters  calls by provider, endpoint, status and outcome; WebSocket tallies
POST /_sim/reset     counters, quota windows and random streams start over (config stays)
GET  /_sim/config    the effective configuration
POST /_sim/config    JSON patch deep-merged into the user layer (null = back to default);
                     400 with {"error": ...} naming the bad key; outages act at once
GET  /_sim/env       the <PROVIDER>_BASE_URL / _WS_URL / key variables for the gateway
GET  /_sim/health    {"status": "ok", "warm": true once the universe's history is computed}
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from tools.provider_sim.app import ProviderSimulator


def add_routes(app: web.Application, sim: ProviderSimulator) -> None:
    async def counters(request: web.Request) -> web.Response:
        return web.json_response(sim.counters.snapshot())

    async def reset(request: web.Request) -> web.Response:
        sim.reset()
        return web.json_response({"status": "reset", "since": sim.clock.now().isoformat()})

    async def get_config(request: web.Request) -> web.Response:
        return web.json_response(sim.config.to_dict())

    async def post_config(request: web.Request) -> web.Response:
        try:
            patch: Any = await request.json()
        except json.JSONDecodeError as e:
            return web.json_response({"error": f"body is not JSON: {e}"}, status=400)
        if not isinstance(patch, dict):
            return web.json_response({"error": "body must be a JSON object"}, status=400)
        try:
            config = await sim.configure(patch)
        except ValueError as e:
            return web.json_response({"error": str(e)}, status=400)
        return web.json_response(config.to_dict())

    async def env(request: web.Request) -> web.Response:
        return web.json_response(sim.env())

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "warm": sim.warm})

    app.router.add_get("/_sim/counters", counters)
    app.router.add_post("/_sim/reset", reset)
    app.router.add_get("/_sim/config", get_config)
    app.router.add_post("/_sim/config", post_config)
    app.router.add_get("/_sim/env", env)
    app.router.add_get("/_sim/health", health)
