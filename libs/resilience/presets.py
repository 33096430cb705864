"""The seeds' defaults (seed-facts.md, DESIGN.md §4) expressed as configuration.

Hand-written data, no logic: services start from these and override them from the
hot-reloaded YAML. Quotas are keyed by provider name as `RateLimiter` looks them up
(`provider:endpoint`, then `provider`).
- massive/polygon: 5 req/s, burst 10.
- alpha_vantage: 0.2 req/s (5/min), burst 5, plus the free tier's 25 requests per UTC day.
- xai, sonar (Perplexity): 1 req/s, burst 5.
- breaker: open after 5 failures in a row, close after 2 successes in half-open, try again
  after 60 s.
- retry: 3 attempts, full-jitter backoff from 100 ms capped at 5 s, 20 % budget with a floor
  of 1 retry/s.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from tenacity.wait import wait_random_exponential

from resilience.breaker_config import BreakerConfig
from resilience.clock import Clock
from resilience.quota import Quota, Window
from resilience.retry import Retry
from resilience.retry_budget import RetryBudget

DAY = 86_400.0

SEED_QUOTAS: Mapping[str, Quota] = MappingProxyType(
    {
        "massive": Quota.of(Window.rate(5, burst=10)),
        "polygon": Quota.of(Window.rate(5, burst=10)),
        "alpha_vantage": Quota.of(Window.rate(0.2, burst=5), Window.fixed(25, DAY)),
        "xai": Quota.of(Window.rate(1, burst=5)),
        "sonar": Quota.of(Window.rate(1, burst=5)),
    }
)

SEED_BREAKER = BreakerConfig.consecutive(
    failure_threshold=5, success_threshold=2, wait_duration_in_open_state=60.0
)


def seed_retry(
    name: str, *, clock: Clock | None = None, budget: RetryBudget | None = None
) -> Retry:
    """The seeds' retry (exponential backoff with full jitter) plus a retry budget."""
    return Retry(
        name,
        max_attempts=3,
        wait=wait_random_exponential(multiplier=0.1, max=5.0),
        budget=budget or RetryBudget(budget_percent=20.0, min_retries_per_second=1.0, clock=clock),
        clock=clock,
    )
