"""Provider configuration from the environment (part of `config.Settings`).

A market-data or AI provider is on only when its credentials are set:
  POLYGON_API_KEY                 POLYGON_BASE_URL, POLYGON_WS_URL
  ALPACA_API_KEY_ID + ALPACA_API_SECRET_KEY (both, or neither)
                                  ALPACA_BASE_URL, ALPACA_WS_URL, ALPACA_FEED (iex|sip|test)
  ALPHAVANTAGE_API_KEY            ALPHAVANTAGE_BASE_URL
  YAHOO needs no key but stays off (so the suite runs offline) unless YAHOO_ENABLED=true
  or YAHOO_BASE_URL is set; YAHOO_ENABLED=false wins.
  <AI>_API_KEY for AI in XAI, PERPLEXITY, DEEPSEEK, QWEN, GLM, with <AI>_BASE_URL,
  <AI>_MODEL, <AI>_INPUT_PRICE_PER_1K and <AI>_OUTPUT_PRICE_PER_1K (USD per 1 000 tokens,
  used when the provider does not report the call's cost; defaults are approximate list
  prices of the default models when this was written — set your own).
  AI_SENTIMENT_MODE (first_good | most_confident), AI_TIMEOUT_SECONDS (20),
  PROVIDER_HTTP_TIMEOUT_SECONDS (read timeout of provider calls, 10).
Base/WS URLs default to the real hosts; point them at tools/provider_sim in tests and
benchmarks. Keys never appear in repr() of these settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from service_runtime.settings import ConfigError, env_choice, env_float, env_str

MARKET_PROVIDERS = ("polygon", "alpaca", "alphavantage", "yahoo")
AI_PROVIDERS = ("xai", "perplexity", "deepseek", "qwen", "glm")
SENTIMENT_MODES = ("first_good", "most_confident")
ALPACA_FEEDS = ("iex", "sip", "test")

_MARKET_URLS = {
    "polygon": ("https://api.massive.com", "wss://socket.massive.com"),
    "alpaca": ("https://data.alpaca.markets", "wss://stream.data.alpaca.markets"),
    "alphavantage": ("https://www.alphavantage.co", ""),
    "yahoo": ("https://query2.finance.yahoo.com", ""),
}
# name -> (base URL, model, input USD/1k tokens, output USD/1k tokens)
_AI_DEFAULTS = {
    "xai": ("https://api.x.ai/v1", "grok-3-mini", 0.0003, 0.0005),
    "perplexity": ("https://api.perplexity.ai", "sonar", 0.001, 0.001),
    "deepseek": ("https://api.deepseek.com", "deepseek-chat", 0.00028, 0.00042),
    "qwen": ("https://dashscope-intl.aliyuncs.com/compatible-mode/v1", "qwen-plus", 0.0004, 0.0012),
    "glm": ("https://api.z.ai/api/paas/v4", "glm-4.5-air", 0.0002, 0.0011),
}


@dataclass(frozen=True, kw_only=True)
class MarketProvider:
    name: str
    enabled: bool
    base_url: str
    ws_url: str = ""
    api_key: str = field(default="", repr=False)
    api_secret: str = field(default="", repr=False)


@dataclass(frozen=True, kw_only=True)
class AiProvider:
    name: str
    enabled: bool
    base_url: str
    model: str
    api_key: str = field(default="", repr=False)
    input_price_per_1k: float = 0.0
    output_price_per_1k: float = 0.0


@dataclass(frozen=True, kw_only=True)
class ProviderSettings:
    market: tuple[MarketProvider, ...]  # preference order: polygon, alpaca, alphavantage, yahoo
    ai: tuple[AiProvider, ...]
    alpaca_feed: str = "iex"
    sentiment_mode: str = "first_good"
    ai_timeout_seconds: float = 20.0
    http_timeout_seconds: float = 10.0

    def get(self, name: str) -> MarketProvider:
        return next(p for p in self.market if p.name == name)

    @property
    def enabled_market(self) -> tuple[MarketProvider, ...]:
        return tuple(p for p in self.market if p.enabled)

    @property
    def enabled_ai(self) -> tuple[AiProvider, ...]:
        return tuple(p for p in self.ai if p.enabled)


def load_provider_settings(environ: Mapping[str, str]) -> ProviderSettings:
    """Read every provider's variables; raise ConfigError naming the first bad one."""
    market = tuple(_market(environ, name) for name in MARKET_PROVIDERS)
    ai = tuple(_ai(environ, name) for name in AI_PROVIDERS)
    return ProviderSettings(
        market=market,
        ai=ai,
        alpaca_feed=env_choice(environ, "ALPACA_FEED", "iex", ALPACA_FEEDS),
        sentiment_mode=env_choice(environ, "AI_SENTIMENT_MODE", "first_good", SENTIMENT_MODES),
        ai_timeout_seconds=env_float(environ, "AI_TIMEOUT_SECONDS", 20.0, minimum=0.1, maximum=600),
        http_timeout_seconds=env_float(
            environ, "PROVIDER_HTTP_TIMEOUT_SECONDS", 10.0, minimum=0.1, maximum=300
        ),
    )


def _market(environ: Mapping[str, str], name: str) -> MarketProvider:
    prefix = name.upper()
    base_default, ws_default = _MARKET_URLS[name]
    base_url = _url(environ, f"{prefix}_BASE_URL", base_default, ("http://", "https://"))
    ws_url = _url(environ, f"{prefix}_WS_URL", ws_default, ("ws://", "wss://"))
    if name == "alpaca":
        key = env_str(environ, "ALPACA_API_KEY_ID")
        secret = env_str(environ, "ALPACA_API_SECRET_KEY")
        if bool(key) != bool(secret):
            missing = "ALPACA_API_SECRET_KEY" if key else "ALPACA_API_KEY_ID"
            raise ConfigError(f"{missing}: must be set together with its pair")
        return MarketProvider(
            name=name,
            enabled=bool(key),
            base_url=base_url,
            ws_url=ws_url,
            api_key=key,
            api_secret=secret,
        )
    if name == "yahoo":
        flag = env_choice(environ, "YAHOO_ENABLED", "", ("", "true", "false"))
        enabled = flag == "true" or (flag == "" and bool(env_str(environ, "YAHOO_BASE_URL")))
        return MarketProvider(name=name, enabled=enabled, base_url=base_url)
    key = env_str(environ, f"{prefix}_API_KEY")
    return MarketProvider(
        name=name, enabled=bool(key), base_url=base_url, ws_url=ws_url, api_key=key
    )


def _ai(environ: Mapping[str, str], name: str) -> AiProvider:
    prefix = name.upper()
    base_default, model, input_price, output_price = _AI_DEFAULTS[name]
    key = env_str(environ, f"{prefix}_API_KEY")
    return AiProvider(
        name=name,
        enabled=bool(key),
        base_url=_url(environ, f"{prefix}_BASE_URL", base_default, ("http://", "https://")),
        model=env_str(environ, f"{prefix}_MODEL", model),
        api_key=key,
        input_price_per_1k=env_float(
            environ, f"{prefix}_INPUT_PRICE_PER_1K", input_price, minimum=0, maximum=10
        ),
        output_price_per_1k=env_float(
            environ, f"{prefix}_OUTPUT_PRICE_PER_1K", output_price, minimum=0, maximum=10
        ),
    )


def _url(environ: Mapping[str, str], name: str, default: str, schemes: tuple[str, ...]) -> str:
    value = env_str(environ, name, default).rstrip("/")
    if value and not value.startswith(schemes):
        raise ConfigError(f"{name}: must start with {' or '.join(schemes)}, got {value[:60]!r}")
    return value
