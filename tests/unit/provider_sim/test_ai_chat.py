"""The AI providers answer OpenAI-compatible bodies with a JSON verdict and token usage."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.unit.provider_sim.shapes import recorded, shape_errors
from tools.provider_sim import ProviderSimulator

PROMPT = [
    {"role": "system", "content": "You are a markets analyst. Answer only JSON."},
    {"role": "user", "content": "Give a verdict for symbol: NVDA over the next trading day."},
]
CASES = [
    ("xai", "xai/chat-completion-tool-call-grok-3-mini.json"),
    ("perplexity", "perplexity/chat-completion-sonar-citations.json"),
    ("perplexity", "perplexity/chat-completion-sonar-usage-cost-sanitized-id.json"),
    ("deepseek", "deepseek/chat-completion-deepseek-chat.json"),
    ("qwen", "qwen/chat-completion-dashscope-compatible-text.json"),
]


async def chat(
    client: httpx.AsyncClient, sim: ProviderSimulator, provider: str, messages: Any = PROMPT
) -> httpx.Response:
    return await client.post(
        sim.base_url(provider) + "/chat/completions",
        headers={"Authorization": f"Bearer {sim.api_key(provider)}"},
        json={"model": "some-model", "messages": messages},
    )


@pytest.mark.asyncio
@pytest.mark.parametrize(("provider", "fixture"), CASES)
async def test_answers_have_the_recorded_shape(
    sim: ProviderSimulator, client: httpx.AsyncClient, provider: str, fixture: str
) -> None:
    response = await chat(client, sim, provider)
    assert response.status_code == 200
    theirs = recorded(fixture)
    optional = frozenset({"tool_calls"})
    assert shape_errors(response.json(), theirs, optional=optional) == []


@pytest.mark.asyncio
@pytest.mark.parametrize("provider", ["xai", "perplexity", "deepseek", "qwen", "glm"])
async def test_content_is_a_json_verdict_with_usage(
    sim: ProviderSimulator, client: httpx.AsyncClient, provider: str
) -> None:
    body = (await chat(client, sim, provider)).json()
    verdict = json.loads(body["choices"][0]["message"]["content"])
    assert set(verdict) == {"score", "confidence", "rationale"}
    assert -1 <= verdict["score"] <= 1 and 0 < verdict["confidence"] < 1
    assert verdict["rationale"].startswith("NVDA is ")
    usage = body["usage"]
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0
    assert usage["total_tokens"] >= usage["prompt_tokens"] + usage["completion_tokens"]
    assert body["model"] == "some-model"


@pytest.mark.asyncio
async def test_perplexity_cites_sources_and_xai_counts_reasoning(
    sim: ProviderSimulator, client: httpx.AsyncClient
) -> None:
    sonar = (await chat(client, sim, "perplexity")).json()
    grok = (await chat(client, sim, "xai")).json()
    assert len(sonar["citations"]) == 3 and "[1][2]" in sonar["choices"][0]["message"]["content"]
    usage = grok["usage"]
    reasoning = usage["completion_tokens_details"]["reasoning_tokens"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] + reasoning


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("text", "symbol"),
    [("What about $TSLA today?", "TSLA"), ("Outlook for BTC/USD", "BTC-USD"),
     ('{"symbol": "msft"}', "MSFT"), ("Rate AMD as JSON", "AMD")],
)  # fmt: skip
async def test_the_symbol_is_found_in_the_prompt(
    sim: ProviderSimulator, client: httpx.AsyncClient, text: str, symbol: str
) -> None:
    body = (await chat(client, sim, "deepseek", [{"role": "user", "content": text}])).json()
    assert json.loads(body["choices"][0]["message"]["content"])["rationale"].startswith(symbol)


@pytest.mark.asyncio
async def test_same_question_same_answer_and_no_symbol_is_neutral(
    sim: ProviderSimulator, client: httpx.AsyncClient
) -> None:
    first, second = [(await chat(client, sim, "qwen")).json() for _ in range(2)]
    assert first["choices"] == second["choices"] and first["id"] != second["id"]
    none = (await chat(client, sim, "qwen", [{"role": "user", "content": "hello there"}])).json()
    assert json.loads(none["choices"][0]["message"]["content"])["score"] == 0.0
