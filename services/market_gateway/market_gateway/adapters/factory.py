"""Build the enabled provider adapters from settings (called by bootstrap).

Each provider gets its own pooled `httpx.AsyncClient` with explicit timeouts, closed by the
caller's exit stack. Nothing connects here: clients open connections on first use and the
WebSocket feeds only when their `events()` is iterated.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import dataclass, field, replace

import httpx

from market_gateway.adapters.ai_chat.aggregate import SentimentAggregator, SentimentMode
from market_gateway.adapters.ai_chat.client import ChatSentimentClient
from market_gateway.adapters.ai_chat.client import auth_headers as ai_auth_headers
from market_gateway.adapters.ai_chat.ledger import CostLedger
from market_gateway.adapters.ai_chat.schemas import ChatProviderConfig
from market_gateway.adapters.alpaca.client import AlpacaClient
from market_gateway.adapters.alpaca.client import auth_headers as alpaca_auth_headers
from market_gateway.adapters.alpaca.stream import AlpacaStream
from market_gateway.adapters.alphavantage.client import AlphaVantageClient
from market_gateway.adapters.common.http import HttpOptions, new_client
from market_gateway.adapters.polygon.client import PolygonClient
from market_gateway.adapters.polygon.client import auth_headers as polygon_auth_headers
from market_gateway.adapters.polygon.stream import PolygonStream
from market_gateway.adapters.yahoo.client import YahooClient
from market_gateway.ports import Clock, QuoteSource, QuoteStream, SentimentSource
from market_gateway.provider_settings import ProviderSettings

AI_READ_TIMEOUT_FLOOR = 30.0  # models think longer than market-data APIs answer


@dataclass
class Sources:
    """The enabled adapters, market-data sources in preference order."""

    quotes: list[QuoteSource] = field(default_factory=list)
    streams: list[QuoteStream] = field(default_factory=list)
    sentiment: SentimentSource | None = None
    ai_ledger: CostLedger = field(default_factory=CostLedger)

    @property
    def names(self) -> list[str]:
        names = [s.name for s in self.quotes] + [f"{s.name}-stream" for s in self.streams]
        if isinstance(self.sentiment, SentimentAggregator):
            names += self.sentiment.providers
        return names


def build_sources(
    settings: ProviderSettings,
    *,
    clock: Clock,
    exit_stack: AsyncExitStack,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Sources:
    """Adapters for every enabled provider; `transport` replaces the network in tests."""
    options = HttpOptions(read_timeout=settings.http_timeout_seconds)

    def client(
        base_url: str, headers: dict[str, str] | None = None, read_timeout: float | None = None
    ) -> httpx.AsyncClient:
        chosen = options if read_timeout is None else replace(options, read_timeout=read_timeout)
        http = new_client(base_url, headers=headers, options=chosen, transport=transport)
        exit_stack.push_async_callback(http.aclose)
        return http

    sources = Sources()
    for provider in settings.enabled_market:
        if provider.name == "polygon":
            rest = PolygonClient(
                client(provider.base_url, polygon_auth_headers(provider.api_key)),
                api_key=provider.api_key,
                clock=clock,
            )
            sources.quotes.append(rest)
            sources.streams.append(
                PolygonStream(
                    ws_url=provider.ws_url, api_key=provider.api_key, clock=clock, rest=rest
                )
            )
        elif provider.name == "alpaca":
            headers = alpaca_auth_headers(provider.api_key, provider.api_secret)
            alpaca = AlpacaClient(
                client(provider.base_url, headers),
                key_id=provider.api_key,
                secret_key=provider.api_secret,
                clock=clock,
                feed=settings.alpaca_feed,
            )
            sources.quotes.append(alpaca)
            sources.streams.append(
                AlpacaStream(
                    ws_url=provider.ws_url,
                    key_id=provider.api_key,
                    secret_key=provider.api_secret,
                    clock=clock,
                    feed=settings.alpaca_feed,
                    rest=alpaca,
                )
            )
        elif provider.name == "alphavantage":
            sources.quotes.append(
                AlphaVantageClient(client(provider.base_url), api_key=provider.api_key, clock=clock)
            )
        elif provider.name == "yahoo":
            sources.quotes.append(YahooClient(client(provider.base_url), clock=clock))
    chats: list[SentimentSource] = []
    read_timeout = max(settings.http_timeout_seconds, AI_READ_TIMEOUT_FLOOR)
    for ai in settings.enabled_ai:
        config = ChatProviderConfig(
            name=ai.name,
            base_url=ai.base_url,
            model=ai.model,
            api_key=ai.api_key,
            input_price_per_1k=ai.input_price_per_1k,
            output_price_per_1k=ai.output_price_per_1k,
        )
        http = client(ai.base_url, ai_auth_headers(ai.api_key), read_timeout=read_timeout)
        chats.append(
            ChatSentimentClient(http, config=config, clock=clock, ledger=sources.ai_ledger)
        )
    if chats:
        sources.sentiment = SentimentAggregator(
            chats,
            mode=SentimentMode(settings.sentiment_mode),
            timeout_seconds=settings.ai_timeout_seconds,
        )
    return sources
