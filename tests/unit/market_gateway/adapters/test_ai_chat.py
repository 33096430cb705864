"""AI chat sentiment: envelopes and streams of every recorded provider, verdict parsing,
error classification, the client over MockTransport, and the aggregate's two modes."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any

import httpx
import pytest

from market_gateway.adapters.ai_chat import parsing
from market_gateway.adapters.ai_chat.aggregate import SentimentAggregator, SentimentMode
from market_gateway.adapters.ai_chat.client import ChatSentimentClient, auth_headers
from market_gateway.adapters.ai_chat.errors import check
from market_gateway.adapters.ai_chat.schemas import SYSTEM_PROMPT, ChatProviderConfig
from market_gateway.adapters.common.http import RawResponse
from market_gateway.domain import (
    AuthFailed,
    BadProviderData,
    ProviderUnavailable,
    RateLimited,
    Sentiment,
    Symbol,
    TokenUsage,
    parse_symbol,
)
from service_runtime.clock import FakeClock

from .conftest import NOW
from .support import Router, load, load_lines

KEY = "sk-ai-secret-999"
AAPL = parse_symbol("AAPL")
VERDICT = '{"score": 0.4, "confidence": 0.7, "rationale": "Strong services growth."}'


def completion(content: str, **extra: Any) -> dict[str, Any]:
    return {
        "model": "test-model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150},
        **extra,
    }


def config(name: str = "deepseek", **overrides: Any) -> ChatProviderConfig:
    values: dict[str, Any] = {
        "name": name,
        "base_url": "https://ai.test/v1",
        "model": "m-1",
        "api_key": KEY,
        "input_price_per_1k": 0.001,
        "output_price_per_1k": 0.002,
    } | overrides
    return ChatProviderConfig(**values)


def client(router: Router, clock: FakeClock, **overrides: Any) -> ChatSentimentClient:
    cfg = config(**overrides)
    http = httpx.AsyncClient(
        base_url=cfg.base_url, headers=auth_headers(KEY), transport=router.transport()
    )
    return ChatSentimentClient(http, config=cfg, clock=clock)


# --- envelopes --------------------------------------------------------------------------


def test_xai_usage_counts_reasoning_as_output_and_cost_comes_from_ticks() -> None:
    body = load("xai", "chat-completion-tool-call-grok-3-mini.json")
    reply_ = parsing.parse_completion(body, "xai")
    assert reply_.usage == TokenUsage(
        prompt_tokens=291, completion_tokens=215, reasoning_tokens=189, cached_prompt_tokens=244
    )
    assert reply_.reported_cost_usd == pytest.approx(1.399e-4)
    assert reply_.content == "" and reply_.finish_reason == "tool_calls"


def test_perplexity_citations_and_reported_cost() -> None:
    cited = parsing.parse_completion(
        load("perplexity", "chat-completion-sonar-citations.json"), "p"
    )
    assert (
        len(cited.citations) == 7
        and cited.citations[1] == "https://en.wikipedia.org/wiki/San_Francisco"
    )
    costed = parsing.parse_completion(
        load("perplexity", "chat-completion-sonar-usage-cost-sanitized-id.json"), "p"
    )
    assert costed.reported_cost_usd == pytest.approx(0.00501) and costed.content == "OK"


def test_deepseek_reasoner_completion_already_includes_reasoning() -> None:
    body = load("deepseek", "chat-completion-deepseek-reasoner.json")
    usage = parsing.parse_completion(body, "deepseek").usage
    assert (usage.completion_tokens, usage.reasoning_tokens, usage.total_tokens) == (345, 315, 363)


@pytest.mark.parametrize(
    ("provider", "name", "tokens"),
    [
        ("xai", "chat-completion-stream-grok-3-mini.chunks.jsonl", (12, 291)),
        ("perplexity", "chat-completion-stream-sonar-citations.chunks.jsonl", (10, 336)),
        ("deepseek", "chat-completion-stream-deepseek-chat.chunks.jsonl", (13, 400)),
        ("qwen", "chat-completion-stream-dashscope-compatible.chunks.jsonl", (18, 779)),
    ],
)
def test_streams_assemble_into_one_reply(provider: str, name: str, tokens: tuple[int, int]) -> None:
    chunks = [json.loads(line) for line in load_lines(provider, name)]
    assembled = parsing.assemble_stream(chunks, provider)
    assert (assembled.usage.prompt_tokens, assembled.usage.completion_tokens) == tokens
    assert assembled.content and assembled.finish_reason in ("stop", "length")
    if provider == "perplexity":
        assert len(assembled.citations) == 7


# --- verdicts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        VERDICT,
        f"```json\n{VERDICT}\n```",
        f"Here is my view:\n```\n{VERDICT}\n```\nHope that helps.",
        f"<think>The user wants {{not json}} a verdict.</think>{VERDICT}",
        f"Verdict: {VERDICT} (as of today)",
        '{"Score": "0.4", "Confidence": "0.7", "reason": "Strong services growth.\\nMore."}',
    ],
)
def test_verdicts_are_found_in_fences_prose_and_think_blocks(content: str) -> None:
    verdict = parsing.parse_verdict(content, "x")
    assert (verdict.score, verdict.confidence, verdict.rationale) == (
        0.4,
        0.7,
        "Strong services growth.",
    )


def test_tiny_overshoot_is_clamped() -> None:
    verdict = parsing.parse_verdict('{"score": 1.0000001, "confidence": -0.0000001}', "x")
    assert (verdict.score, verdict.confidence, verdict.rationale) == (1.0, 0.0, "")


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ('{"score": 75, "confidence": 0.8}', "outside"),
        ('{"score": 0.2, "confidence": 80}', "outside"),
        ('{"score": 0.2}', "no confidence"),
        ('{"confidence": 0.9, "rationale": "x"}', "no JSON verdict"),
        ('{"score": "bullish", "confidence": 0.9}', "not a number"),
        ('{"score": NaN, "confidence": 0.9}', "not finite"),
        ("The stock looks great!", "no JSON verdict"),
        ("", "no content"),
        ('{"score": 0.3, "confidence": 0.', "no JSON verdict"),
    ],
)
def test_unusable_verdicts_are_bad_provider_data(content: str, why: str) -> None:
    with pytest.raises(BadProviderData, match=why):
        parsing.parse_verdict(content, "x")


@pytest.mark.parametrize(
    ("provider", "name"),
    [
        ("xai", "chat-completion-tool-call-grok-3-mini.json"),
        ("perplexity", "chat-completion-sonar-citations.json"),
        ("perplexity", "chat-completion-sonar-text.json"),
        ("perplexity", "chat-completion-sonar-usage-cost-sanitized-id.json"),
        ("deepseek", "chat-completion-deepseek-chat.json"),
        ("deepseek", "chat-completion-deepseek-reasoner.json"),
        ("qwen", "chat-completion-dashscope-compatible-text.json"),
        ("qwen", "chat-completion-dashscope-compatible-reasoning.json"),
    ],
)
def test_recorded_prose_answers_are_not_verdicts(provider: str, name: str) -> None:
    reply_ = parsing.parse_completion(load(provider, name), provider)
    with pytest.raises(BadProviderData):
        parsing.parse_verdict(reply_.content, provider)


# --- errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "error", "retryable"),
    [
        (
            403,
            load("xai", "error-403-out-of-credits-code-masked-sub2api-issue4069.json"),
            AuthFailed,
            False,
        ),
        (
            401,
            {"error": {"message": f"Incorrect API key {KEY}", "code": "invalid_api_key"}},
            AuthFailed,
            False,
        ),
        (402, {"error": {"message": "Insufficient Balance"}}, AuthFailed, False),
        (
            429,
            {"code": "x", "error": "Your team has used all available credits"},
            AuthFailed,
            False,
        ),
        (429, {"error": {"code": "1302", "message": "rate limit"}}, RateLimited, True),
        (400, {"error": {"message": "Allocated quota exceeded"}}, RateLimited, True),
        (503, {"error": {"message": "Server overloaded"}}, ProviderUnavailable, True),
        (400, {"error": {"message": "Model Not Exist"}}, ProviderUnavailable, False),
    ],
)
def test_error_answers_are_classified(
    status: int, body: object, error: type[ProviderUnavailable], retryable: bool
) -> None:
    with pytest.raises(error) as caught:
        check(RawResponse(status, {}, body, ""), provider="p", now=NOW, secrets=(KEY,))
    assert caught.value.retryable is retryable and KEY not in str(caught.value)


def test_429_with_retry_after() -> None:
    raw = RawResponse(429, {"retry-after": "7"}, {"error": {"message": "slow down"}}, "")
    with pytest.raises(RateLimited) as caught:
        check(raw, provider="xai", now=NOW, secrets=())
    assert caught.value.retry_after == 7


# --- client -----------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_client_sends_the_fixed_prompt_and_prices_the_call(
    router: Router, clock: FakeClock
) -> None:
    router.json("/v1/chat/completions", completion(f"```json\n{VERDICT}\n```"))
    ai = client(router, clock)
    sentiment = await ai.get_sentiment(AAPL)
    assert (sentiment.score, sentiment.confidence, sentiment.provider) == (0.4, 0.7, "deepseek")
    assert sentiment.cost_usd == pytest.approx(100 * 0.001 / 1000 + 50 * 0.002 / 1000)
    assert sentiment.usage.total_tokens == 150 and sentiment.time == NOW
    request = router.requests[0]
    sent = json.loads(request.content)
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert sent["model"] == "m-1" and sent["messages"][0]["content"] == SYSTEM_PROMPT
    assert "AAPL" in sent["messages"][1]["content"] and sent["stream"] is False
    assert ai.ledger.totals("deepseek").calls == 1


@pytest.mark.asyncio
async def test_garbage_content_is_bad_data_but_its_tokens_are_still_recorded(
    router: Router, clock: FakeClock
) -> None:
    router.json("/v1/chat/completions", completion("I cannot give financial advice."))
    ai = client(router, clock)
    with pytest.raises(BadProviderData):
        await ai.get_sentiment(AAPL)
    totals = ai.ledger.totals("deepseek")
    assert (totals.calls, totals.prompt_tokens, totals.completion_tokens) == (1, 100, 50)


@pytest.mark.asyncio
async def test_perplexity_citations_reach_the_sentiment(router: Router, clock: FakeClock) -> None:
    body = load("perplexity", "chat-completion-sonar-citations.json")
    body["choices"][0]["message"]["content"] = VERDICT + " [1][2]"
    router.json("/chat/completions", body)
    ai = client(router, clock, name="perplexity", base_url="https://ai.test")
    sentiment = await ai.get_sentiment(AAPL)
    assert len(sentiment.citations) == 7 and sentiment.model == "sonar"


# --- aggregate --------------------------------------------------------------------------


class FakeSentiment:
    def __init__(
        self, name: str, *, confidence: float = 0.5, error: Exception | None = None
    ) -> None:
        self._name = name
        self.confidence = confidence
        self.error = error
        self.release = asyncio.Event()
        self.release.set()
        self.cancelled = False

    @property
    def name(self) -> str:
        return self._name

    async def get_sentiment(self, symbol: Symbol) -> Sentiment:
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        if self.error is not None:
            raise self.error
        return Sentiment(
            symbol.canonical, 0.1, self.confidence, "r", self._name, "m", datetime.now()
        )


@pytest.mark.asyncio
async def test_first_good_takes_the_first_usable_answer_and_cancels_the_rest() -> None:
    slow = FakeSentiment("slow", confidence=0.99)
    slow.release.clear()
    bad = FakeSentiment("bad", error=BadProviderData("garbage"))
    fast = FakeSentiment("fast", confidence=0.3)
    aggregate = SentimentAggregator([slow, bad, fast], mode=SentimentMode.FIRST_GOOD)
    sentiment = await aggregate.get_sentiment(AAPL)
    assert sentiment.provider == "fast"
    await asyncio.sleep(0)
    assert slow.cancelled


@pytest.mark.asyncio
async def test_most_confident_waits_for_all_and_keeps_the_highest_confidence() -> None:
    sources = [
        FakeSentiment("a", confidence=0.6),
        FakeSentiment("b", confidence=0.9),
        FakeSentiment("c", error=RateLimited("quota", retry_after=3)),
        FakeSentiment("d", confidence=0.9),
    ]
    aggregate = SentimentAggregator(sources, mode=SentimentMode.MOST_CONFIDENT)
    assert (await aggregate.get_sentiment(AAPL)).provider == "b"


@pytest.mark.asyncio
async def test_most_confident_gives_up_on_a_hung_provider_after_the_timeout() -> None:
    hung = FakeSentiment("hung", confidence=1.0)
    hung.release.clear()
    aggregate = SentimentAggregator(
        [hung, FakeSentiment("ok", confidence=0.2)],
        mode=SentimentMode.MOST_CONFIDENT,
        timeout_seconds=0.01,
    )
    assert (await aggregate.get_sentiment(AAPL)).provider == "ok"


@pytest.mark.asyncio
@pytest.mark.parametrize("mode", list(SentimentMode))
async def test_when_all_are_rate_limited_the_soonest_retry_is_reported(mode: SentimentMode) -> None:
    sources = [
        FakeSentiment("a", error=RateLimited("a quota", retry_after=30)),
        FakeSentiment("b", error=RateLimited("b quota", retry_after=5)),
    ]
    with pytest.raises(RateLimited) as caught:
        await SentimentAggregator(sources, mode=mode).get_sentiment(AAPL)
    assert caught.value.retry_after == 5 and "a: a quota" in str(caught.value)


@pytest.mark.asyncio
async def test_mixed_failures_are_unavailable_naming_each_provider() -> None:
    sources = [
        FakeSentiment("a", error=AuthFailed("bad key")),
        FakeSentiment("b", error=BadProviderData("garbage")),
    ]
    with pytest.raises(ProviderUnavailable) as caught:
        await SentimentAggregator(sources).get_sentiment(AAPL)
    assert not isinstance(caught.value, RateLimited)
    assert "a: bad key" in str(caught.value) and "b: garbage" in str(caught.value)
    assert caught.value.retryable is False
