"""What the AI calls cost: tokens and USD per provider, in memory and as Prometheus counters.

Every completed call is recorded — also when its content is not a usable verdict, since
the tokens were spent either way. Listeners (the gateway's own cost ledger, which counts
`argo_market_gateway_cost_usd_total` for every provider) hear of each spend.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client import Counter

from market_gateway.domain import TokenUsage

AI_TOKENS = Counter(
    "argo_market_gateway_ai_tokens_total",
    "Tokens used by AI sentiment calls, by provider and kind (prompt, completion, reasoning).",
    ["provider", "kind"],
)
AI_COST = Counter(
    "argo_market_gateway_ai_cost_usd_total",
    "Cost of AI sentiment calls in USD (provider-reported, else configured price per token).",
    ["provider"],
)


@dataclass
class CostTotals:
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0


class CostLedger:
    def __init__(self) -> None:
        self._totals: dict[str, CostTotals] = {}
        self._listeners: list[Callable[[str, float], None]] = []

    def add_listener(self, listener: Callable[[str, float], None]) -> None:
        """`listener(provider, cost_usd)` is called for every recorded call."""
        self._listeners.append(listener)

    def record(self, provider: str, usage: TokenUsage, cost_usd: float) -> None:
        totals = self._totals.setdefault(provider, CostTotals())
        totals.calls += 1
        totals.prompt_tokens += usage.prompt_tokens
        totals.completion_tokens += usage.completion_tokens
        totals.cost_usd += cost_usd
        AI_TOKENS.labels(provider, "prompt").inc(usage.prompt_tokens)
        AI_TOKENS.labels(provider, "completion").inc(usage.completion_tokens)
        AI_TOKENS.labels(provider, "reasoning").inc(usage.reasoning_tokens)
        AI_COST.labels(provider).inc(cost_usd)
        for listener in self._listeners:
            listener(provider, cost_usd)

    def totals(self, provider: str) -> CostTotals:
        """A copy of one provider's totals (zeros before its first call)."""
        found = self._totals.get(provider, CostTotals())
        return CostTotals(found.calls, found.prompt_tokens, found.completion_tokens, found.cost_usd)


def priced(usage: TokenUsage, input_per_1k: float, output_per_1k: float) -> float:
    """Cost from configured prices per 1 000 tokens (reasoning tokens bill as output)."""
    return (usage.prompt_tokens * input_per_1k + usage.completion_tokens * output_per_1k) / 1000
