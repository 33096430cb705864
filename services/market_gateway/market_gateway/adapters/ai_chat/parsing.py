"""Chat-completion JSON -> the reply, its usage and cost, and the model's verdict.

Verdict rules (the model's content is free text; only a JSON verdict counts):
- `<think>…</think>` blocks are dropped; candidates are the bodies of code fences
  (```json … ```) first, then every JSON object embedded in the text, in order;
- the first candidate that is an object with a `score` wins (keys case-insensitive;
  `sentiment` / `sentiment_score` accepted for score, `reason` for rationale);
- `score` must be a number in -1..1 and `confidence` a number in 0..1 (numeric strings
  accepted); a value within 1e-6 outside is clamped, anything else — including another
  scale such as 0..100 — is refused as BadProviderData, as is a missing confidence;
- `rationale` is optional: its first line, at most 200 characters.
Empty content (a tool call, a cut-off answer) and text without a verdict are BadProviderData.
Usage: `completion_tokens` counts reasoning tokens too (xAI reports them apart: its total =
prompt + completion + reasoning); the provider's own cost is used when reported (xAI
`cost_in_usd_ticks`, 1e-10 USD each; Perplexity `usage.cost.total_cost`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from market_gateway.adapters.common.values import Wire
from market_gateway.domain import BadProviderData, TokenUsage

USD_PER_XAI_TICK = 1e-10
MAX_RATIONALE = 200
MAX_CITATIONS = 10
_TOLERANCE = 1e-6
_THINK = re.compile(r"<think>.*?</think>", re.S | re.I)
_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.S)
_SCORE_KEYS = ("score", "sentiment", "sentiment_score")
_RATIONALE_KEYS = ("rationale", "reason", "reasoning")


@dataclass(frozen=True, slots=True)
class ChatReply:
    content: str
    model: str
    usage: TokenUsage
    citations: tuple[str, ...]
    reported_cost_usd: float | None
    finish_reason: str


@dataclass(frozen=True, slots=True)
class Verdict:
    score: float
    confidence: float
    rationale: str


def parse_completion(body: Mapping[str, Any], provider: str) -> ChatReply:
    wire = Wire(provider)
    choices = wire.items(body.get("choices"), "completion.choices")
    if not choices:
        wire.fail("completion has no choices")
    choice = wire.obj(choices[0], "choice")
    message = wire.obj(choice.get("message") or {}, "choice.message")
    content = message.get("content")
    return ChatReply(
        content=content if isinstance(content, str) else "",
        model=str(body.get("model") or ""),
        usage=parse_usage(body.get("usage")),
        citations=_citations(body),
        reported_cost_usd=_reported_cost(body.get("usage")),
        finish_reason=str(choice.get("finish_reason") or ""),
    )


def assemble_stream(chunks: Iterable[Mapping[str, Any]], provider: str) -> ChatReply:
    """Fold streamed chunks (SSE `data:` payloads) into one reply: content deltas joined,
    the last usage and citations seen (Perplexity repeats them; others send them last)."""
    wire = Wire(provider)
    content: list[str] = []
    model, finish, usage = "", "", TokenUsage()
    citations: tuple[str, ...] = ()
    cost: float | None = None
    for chunk in chunks:
        data = wire.obj(chunk, "chunk")
        model = str(data.get("model") or model)
        for choice in wire.items(data.get("choices") or [], "chunk.choices"):
            delta = wire.obj(wire.obj(choice, "choice").get("delta") or {}, "delta")
            if isinstance(delta.get("content"), str):
                content.append(delta["content"])
            finish = str(choice.get("finish_reason") or finish)
        if isinstance(data.get("usage"), Mapping):
            usage, cost = parse_usage(data["usage"]), _reported_cost(data["usage"])
        citations = _citations(data) or citations
    return ChatReply("".join(content), model, usage, citations, cost, finish)


def parse_usage(raw: object) -> TokenUsage:
    if not isinstance(raw, Mapping):
        return TokenUsage()
    prompt = _count(raw.get("prompt_tokens"))
    completion = _count(raw.get("completion_tokens"))
    total = _count(raw.get("total_tokens"))
    details = raw.get("completion_tokens_details")
    prompt_details = raw.get("prompt_tokens_details")
    reasoning = _count(details.get("reasoning_tokens")) if isinstance(details, Mapping) else 0
    cached = _count(raw.get("prompt_cache_hit_tokens"))
    if isinstance(prompt_details, Mapping):
        cached = max(cached, _count(prompt_details.get("cached_tokens")))
    return TokenUsage(
        prompt_tokens=prompt,
        completion_tokens=max(completion, total - prompt),
        reasoning_tokens=reasoning,
        cached_prompt_tokens=cached,
    )


def parse_verdict(content: str, provider: str) -> Verdict:
    wire = Wire(provider)
    text = _THINK.sub("", content).strip()
    if not text:
        wire.fail("reply has no content")
    for candidate in _candidates(text):
        fields = {str(k).lower(): v for k, v in candidate.items()}
        raw_score = next((fields[k] for k in _SCORE_KEYS if k in fields), None)
        if raw_score is None:
            continue
        if fields.get("confidence") is None:
            wire.fail("verdict has no confidence")
        score = _bounded(wire, raw_score, -1.0, 1.0, "score")
        confidence = _bounded(wire, fields["confidence"], 0.0, 1.0, "confidence")
        rationale = next((fields[k] for k in _RATIONALE_KEYS if isinstance(fields.get(k), str)), "")
        first_line = rationale.strip().splitlines()[0] if rationale.strip() else ""
        return Verdict(score, confidence, first_line.strip()[:MAX_RATIONALE])
    wire.fail(f"no JSON verdict in the reply ({text[:60]!r}...)")


def _candidates(text: str) -> Iterable[Mapping[str, Any]]:
    decoder = json.JSONDecoder()
    sources = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    for source in sources:
        position = source.find("{")
        while position != -1:
            try:
                value, _ = decoder.raw_decode(source, position)
            except ValueError:
                value = None
            if isinstance(value, Mapping):
                yield value
            position = source.find("{", position + 1)


def _bounded(wire: Wire, value: object, low: float, high: float, name: str) -> float:
    number = wire.number(value, f"verdict.{name}")
    if low - _TOLERANCE <= number <= high + _TOLERANCE:
        return min(max(number, low), high)
    raise BadProviderData(
        f"{wire.provider}: verdict {name} {number!r} is outside {low:g}..{high:g}",
        provider=wire.provider,
    )


def _count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return 0
    return max(int(value), 0)


def _reported_cost(usage: object) -> float | None:
    if not isinstance(usage, Mapping):
        return None
    ticks = usage.get("cost_in_usd_ticks")
    if isinstance(ticks, int | float) and not isinstance(ticks, bool) and ticks >= 0:
        return ticks * USD_PER_XAI_TICK
    cost = usage.get("cost")
    total = cost.get("total_cost") if isinstance(cost, Mapping) else None
    if isinstance(total, int | float) and not isinstance(total, bool) and total >= 0:
        return float(total)
    return None


def _citations(body: Mapping[str, Any]) -> tuple[str, ...]:
    urls: list[str] = [u for u in body.get("citations") or [] if isinstance(u, str)]
    for result in body.get("search_results") or []:
        if isinstance(result, Mapping) and isinstance(result.get("url"), str):
            urls.append(result["url"])
    return tuple(dict.fromkeys(urls))[:MAX_CITATIONS]
