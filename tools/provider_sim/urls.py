"""Where each provider lives on the simulator, and the variables that point the gateway at it.

`<PROVIDER>_BASE_URL` = `http://HOST:PORT` + the base path below; the path after it is the
real provider's (e.g. the real `https://api.x.ai/v1` -> `http://127.0.0.1:8905/xai/v1`, then
`/chat/completions`). `<PROVIDER>_WS_URL` = `ws://HOST:PORT/polygon` (then `/stocks`,
`/crypto`) or `ws://HOST:PORT/alpaca` (then `/v2/iex`, `/v2/sip`, `/v2/test`,
`/v1beta3/crypto/us`).
"""

from __future__ import annotations

from collections.abc import Callable

from tools.provider_sim.config import SimConfig

BASE_PATHS = {
    "polygon": "/polygon",  # https://api.polygon.io (api.massive.com)
    "alpaca": "/alpaca",  # https://data.alpaca.markets
    "alphavantage": "/alphavantage",  # https://www.alphavantage.co (then /query)
    "yahoo": "/yahoo",  # https://query2.finance.yahoo.com
    "xai": "/xai/v1",  # https://api.x.ai/v1
    "perplexity": "/perplexity",  # https://api.perplexity.ai
    "deepseek": "/deepseek",  # https://api.deepseek.com
    "qwen": "/qwen/compatible-mode/v1",  # https://dashscope.aliyuncs.com/compatible-mode/v1
    "glm": "/glm/api/paas/v4",  # https://open.bigmodel.cn/api/paas/v4
}
WS_PATHS = {
    "polygon": "/polygon",  # wss://socket.polygon.io (socket.massive.com)
    "alpaca": "/alpaca",  # wss://stream.data.alpaca.markets
}


def provider_url(host_port: str, provider: str, *, websocket: bool) -> str:
    if websocket:
        if provider not in WS_PATHS:
            raise KeyError(f"{provider} has no WebSocket endpoint")
        return f"ws://{host_port}{WS_PATHS[provider]}"
    return f"http://{host_port}{BASE_PATHS[provider]}"


def environment(config: SimConfig, host_port: Callable[[str], str]) -> dict[str, str]:
    """BASE_URL / WS_URL / API key variables for every provider, as the gateway reads them."""
    env: dict[str, str] = {}
    for provider in BASE_PATHS:
        prefix = provider.upper()
        env[f"{prefix}_BASE_URL"] = provider_url(host_port(provider), provider, websocket=False)
        if provider in WS_PATHS:
            env[f"{prefix}_WS_URL"] = provider_url(host_port(provider), provider, websocket=True)
        settings = config.provider(provider)
        if provider == "alpaca":
            env["ALPACA_API_KEY_ID"] = settings.api_key
            env["ALPACA_API_SECRET_KEY"] = settings.secret_key
        elif settings.api_key:
            env[f"{prefix}_API_KEY"] = settings.api_key
    return env
