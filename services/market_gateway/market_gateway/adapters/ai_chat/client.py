"""One OpenAI-compatible chat provider as a `SentimentSource`."""

from __future__ import annotations

import httpx
from opentelemetry import trace

from market_gateway.adapters.ai_chat import parsing, schemas
from market_gateway.adapters.ai_chat.errors import check
from market_gateway.adapters.ai_chat.ledger import CostLedger, priced
from market_gateway.adapters.common.http import fetch
from market_gateway.domain import Sentiment, Symbol
from market_gateway.ports import Clock

tracer = trace.get_tracer(__name__)


def auth_headers(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"}


class ChatSentimentClient:
    """Asks one model for a JSON verdict; records tokens and cost of every answered call."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        config: schemas.ChatProviderConfig,
        clock: Clock,
        ledger: CostLedger | None = None,
    ) -> None:
        self._http = http
        self._config = config
        self._clock = clock
        self.ledger = ledger or CostLedger()

    @property
    def name(self) -> str:
        return self._config.name

    async def get_sentiment(self, symbol: Symbol) -> Sentiment:
        config = self._config
        body = schemas.chat_request(config, symbol, self._clock.now().date())
        attributes = {"gen_ai.system": config.name, "gen_ai.request.model": config.model}
        with tracer.start_as_current_span(f"{config.name}.chat", attributes=attributes) as span:
            raw = await fetch(self._http, schemas.CHAT_PATH, provider=config.name, json_body=body)
            data = check(
                raw, provider=config.name, now=self._clock.now(), secrets=(config.api_key,)
            )
            reply = parsing.parse_completion(data, config.name)
            cost = reply.reported_cost_usd
            if cost is None:
                cost = priced(reply.usage, config.input_price_per_1k, config.output_price_per_1k)
            self.ledger.record(config.name, reply.usage, cost)
            span.set_attribute("gen_ai.usage.input_tokens", reply.usage.prompt_tokens)
            span.set_attribute("gen_ai.usage.output_tokens", reply.usage.completion_tokens)
            span.set_attribute("argo.cost_usd", cost)
            verdict = parsing.parse_verdict(reply.content, config.name)
        return Sentiment(
            symbol=symbol.canonical,
            score=verdict.score,
            confidence=verdict.confidence,
            rationale=verdict.rationale,
            provider=config.name,
            model=reply.model or config.model,
            time=self._clock.now(),
            citations=reply.citations,
            usage=reply.usage,
            cost_usd=cost,
        )
