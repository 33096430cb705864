"""OpenAI-compatible chat completions, one provider per class, each with its own quirks.

`POST <BASE_URL>/chat/completions` with `Authorization: Bearer <key>` answers a JSON
verdict in `choices[0].message.content` (see ai_verdict) and token `usage`:
- xai: `reasoning_content`, total = prompt + completion + reasoning, `cost_in_usd_ticks`;
  errors as `{"code": "<status text>", "error": "<message>"}`.
- perplexity: top-level `citations` ([n] markers in the rationale), `usage.cost`.
- deepseek: `prompt_cache_hit_tokens` / `prompt_cache_miss_tokens`, `system_fingerprint`.
- qwen (DashScope compatible mode): `chatcmpl-` ids, `system_fingerprint: null`.
- glm (Zhipu): `request_id`; errors `{"error": {"code": "1302", "message": ...}}`.
Streaming (`stream: true`) is not simulated: the answer is always one JSON body.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, ClassVar

from aiohttp import web

from tools.provider_sim.providers.ai_verdict import (
    Verdict,
    citations_for,
    prompt_text,
    tokens,
    verdict,
)
from tools.provider_sim.providers.base import (
    ProviderBase,
    Route,
    bearer_token,
    count_symbols,
    json_response,
)
from tools.provider_sim.quotas import QuotaDecision
from tools.provider_sim.timefmt import epoch_s
from tools.provider_sim.urls import BASE_PATHS


class ChatProvider(ProviderBase):
    citations: ClassVar[int] = 0

    def routes(self) -> list[Route]:
        return [Route("POST", "/chat/completions", self.complete)]

    def authenticate(self, request: web.Request) -> web.Response | None:
        key = bearer_token(request)
        return None if key == self.config.api_key else self.bad_key(key)

    def bad_key(self, key: str | None) -> web.Response:
        return self.openai_error(
            401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key"
        )

    def rate_limited(self, decision: QuotaDecision) -> web.Response:
        return self.openai_error(
            429, "Rate limit reached for requests", "requests", "rate_limit_exceeded"
        )

    def over_concurrency(self) -> web.Response:
        return self.rate_limited(QuotaDecision(False, None))

    def server_error(self, status: int) -> web.Response:
        return self.openai_error(
            status, "The server had an error while processing your request.", "server_error", None
        )

    def openai_error(self, status: int, message: str, kind: str, code: str | None) -> web.Response:
        body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
        return json_response(body, status)

    def new_id(self) -> str:
        return str(uuid.UUID(self.request_id()))

    async def complete(self, request: web.Request) -> web.Response:
        try:
            body: Any = json.loads(await request.read())
            messages = body["messages"]
        except (ValueError, KeyError, TypeError):
            return self.openai_error(
                400, "Invalid request: 'messages' is required.", "invalid_request_error", None
            )
        text = prompt_text(messages)
        found = await verdict(self.market, self.name, text, self.citations)
        count_symbols(request, 1 if found.symbol is not None else 0)
        model = body.get("model") if isinstance(body.get("model"), str) else self.config.model
        content = found.content()
        prompt, completion = tokens(text), tokens(content)
        answer = {
            "id": self.new_id(),
            "object": "chat.completion",
            "created": epoch_s(self.market.now()),
            "model": model or self.config.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            },
        }
        return json_response(self.decorate(answer, found, prompt, completion))

    def decorate(
        self, answer: dict[str, Any], found: Verdict, prompt: int, completion: int
    ) -> dict[str, Any]:
        """Add this provider's own fields."""
        return answer


class XAi(ChatProvider):
    name = "xai"
    base_path: ClassVar[str] = BASE_PATHS["xai"]

    def xai_error(self, status: int, code: str, message: str) -> web.Response:
        return json_response({"code": code, "error": message}, status)

    def bad_key(self, key: str | None) -> web.Response:
        shown = f"{key[:4]}***" if key else "***"
        text = f"Incorrect API key provided: {shown}. You can obtain an API key from https://console.x.ai."
        return self.xai_error(400, "Client specified an invalid argument", text)

    def rate_limited(self, decision: QuotaDecision) -> web.Response:
        window = f"{decision.limit} per {decision.window.seconds:g}s" if decision.window else "—"
        text = (
            f"Too many requests for team sim-team and model {self.config.model}. "
            f"Your team's rate limit is {window}."
        )
        return self.xai_error(429, "Some resource has been exhausted", text)

    def server_error(self, status: int) -> web.Response:
        return self.xai_error(
            status, "Internal error", "The service encountered an internal error."
        )

    def decorate(
        self, answer: dict[str, Any], found: Verdict, prompt: int, completion: int
    ) -> dict[str, Any]:
        reasoning = 3 * completion
        message = answer["choices"][0]["message"]
        message["reasoning_content"] = (
            f"Weighing the day's move of the named instrument. {found.rationale}"
        )
        message["refusal"] = None
        answer["usage"] = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion + reasoning,
            "prompt_tokens_details": {
                "text_tokens": prompt, "audio_tokens": 0, "image_tokens": 0, "cached_tokens": 0,
            },
            "completion_tokens_details": {
                "reasoning_tokens": reasoning, "audio_tokens": 0,
                "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0,
            },
            "num_sources_used": 0,
            "cost_in_usd_ticks": round((prompt * 0.30 + (completion + reasoning) * 0.50) * 1e4),
        }  # fmt: skip
        answer["system_fingerprint"] = "fp_sim_" + self.name
        return answer


class Perplexity(ChatProvider):
    name = "perplexity"
    base_path: ClassVar[str] = BASE_PATHS["perplexity"]
    citations: ClassVar[int] = 2

    def bad_key(self, key: str | None) -> web.Response:
        return json_response(
            {
                "error": {
                    "message": "Invalid API key provided.",
                    "type": "invalid_api_key",
                    "code": 401,
                }
            },
            401,
        )

    def rate_limited(self, decision: QuotaDecision) -> web.Response:
        error = {
            "message": "Rate limit exceeded. Please try again later.",
            "type": "rate_limit_exceeded",
            "code": 429,
        }
        return json_response({"error": error}, 429)

    def decorate(
        self, answer: dict[str, Any], found: Verdict, prompt: int, completion: int
    ) -> dict[str, Any]:
        usage = answer["usage"]
        usage["search_context_size"] = "low"
        input_cost, output_cost = round(prompt * 1e-6, 6), round(completion * 1e-6, 6)
        usage["cost"] = {
            "input_tokens_cost": input_cost,
            "output_tokens_cost": output_cost,
            "request_cost": 0.005,
            "total_cost": round(input_cost + output_cost + 0.005, 6),
        }
        answer["citations"] = citations_for(found.symbol)
        return answer
