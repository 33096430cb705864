"""What the providers cost: USD per call (configured per provider) and per token (AI).

One ledger for every provider, behind GetProviderStatus's `cost_usd_total`, the
`argo.cost_usd` span attribute of each upstream call and the Prometheus counter
`argo_market_gateway_cost_usd_total{provider}`:
- market-data calls: `providers.<name>.price_per_call_usd` x upstream requests, recorded by
  the provider guard when a call went out;
- AI calls: the adapter prices tokens (provider-reported cost, else `<AI>_INPUT/OUTPUT_
  PRICE_PER_1K`) and also counts `argo_market_gateway_ai_cost_usd_total{provider}`; it
  reports each spend here through `record_spend`, so the total counter includes AI spend
  exactly once. `argo_market_gateway_cost_usd_total` is the whole bill; its breakdowns are
  `argo_market_gateway_call_cost_usd_total` (calls) and `..._ai_cost_usd_total` (tokens):
  sum the total or the breakdowns, never both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from market_gateway.telemetry import CALL_COST, PROVIDER_COST


@dataclass
class CostTotals:
    calls: int = 0  # upstream requests priced per call
    cost_usd: float = 0.0


class CostLedger:
    def __init__(self, price_per_call: Callable[[str], float]) -> None:
        self._price_per_call = price_per_call
        self._totals: dict[str, CostTotals] = {}

    def price_of_calls(self, provider: str, calls: float) -> float:
        """What `calls` upstream requests to `provider` cost at the configured price."""
        return max(self._price_per_call(provider), 0.0) * calls

    def record_calls(self, provider: str, calls: float) -> float:
        """Upstream requests that went out; returns their cost in USD."""
        cost = self.price_of_calls(provider, calls)
        totals = self._totals.setdefault(provider, CostTotals())
        totals.calls += int(calls)
        self._add(provider, totals, cost)
        if cost > 0:
            CALL_COST.labels(provider=provider).inc(cost)
        return cost

    def record_spend(self, provider: str, cost_usd: float) -> None:
        """A spend priced elsewhere (an AI call's tokens)."""
        self._add(provider, self._totals.setdefault(provider, CostTotals()), cost_usd)

    def totals(self, provider: str) -> CostTotals:
        found = self._totals.get(provider, CostTotals())
        return CostTotals(found.calls, found.cost_usd)

    def total_usd(self) -> float:
        return sum(t.cost_usd for t in self._totals.values())

    @staticmethod
    def _add(provider: str, totals: CostTotals, cost: float) -> None:
        if cost > 0:
            totals.cost_usd += cost
            PROVIDER_COST.labels(provider=provider).inc(cost)
