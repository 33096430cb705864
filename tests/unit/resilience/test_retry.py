"""Retry: full-jitter backoff, classification, retry_after, deadline, budget (fake time)."""

from __future__ import annotations

import random

import pytest
from prometheus_client import REGISTRY
from tenacity import stop_after_delay
from tenacity.wait import wait_fixed

from resilience.clock import deadline_after
from resilience.errors import CircuitOpen, RateLimited
from resilience.presets import seed_retry
from resilience.retry import Retry, default_is_retryable
from resilience.retry_budget import RetryBudget
from service_runtime.clock import FakeClock


class Flaky:
    """Fails with `errors` in turn, then answers."""

    def __init__(self, clock: FakeClock, *errors: Exception) -> None:
        self.clock = clock
        self.errors = list(errors)
        self.calls: list[float] = []

    async def __call__(self) -> str:
        self.calls.append(self.clock.monotonic())
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def gave_up(policy: str, outcome: str) -> float:
    value = REGISTRY.get_sample_value(
        "argo_resilience_retries_total", {"policy": policy, "outcome": outcome}
    )
    return value or 0.0


@pytest.mark.asyncio
async def test_retries_transient_errors_with_full_jitter_backoff(clock: FakeClock) -> None:
    random.seed(7)
    flaky = Flaky(clock, TimeoutError(), ConnectionError())
    assert await seed_retry("jitter", clock=clock).execute(flaky) == "ok"
    first, second = flaky.calls[1] - flaky.calls[0], flaky.calls[2] - flaky.calls[1]
    assert 0 <= first <= 0.1 and 0 <= second <= 0.2  # uniform(0, 0.1 * 2**n)
    assert len(flaky.calls) == 3


@pytest.mark.asyncio
async def test_full_jitter_spreads_over_the_whole_interval(clock: FakeClock) -> None:
    random.seed(11)
    delays = []
    for _ in range(200):
        flaky = Flaky(clock, TimeoutError())
        await Retry("spread", clock=clock).execute(flaky)
        delays.append(flaky.calls[1] - flaky.calls[0])
    assert min(delays) < 0.01 and max(delays) > 0.09 and max(delays) <= 0.1


@pytest.mark.asyncio
async def test_errors_the_classifier_rejects_are_not_retried(clock: FakeClock) -> None:
    flaky = Flaky(clock, ValueError("bad request"))
    with pytest.raises(ValueError, match="bad request"):
        await Retry("classify", clock=clock).execute(flaky)
    assert len(flaky.calls) == 1
    assert gave_up("classify", "not_retryable") == 1


def test_default_classification() -> None:
    class Explicit(Exception):
        retryable = True

    assert default_is_retryable(Explicit())
    assert default_is_retryable(RateLimited("k", 1.0))
    assert not default_is_retryable(CircuitOpen("b", 5.0))
    assert not default_is_retryable(KeyError())


@pytest.mark.asyncio
async def test_gives_up_after_max_attempts_with_the_original_error(clock: FakeClock) -> None:
    flaky = Flaky(clock, TimeoutError("1"), TimeoutError("2"), TimeoutError("3"))
    with pytest.raises(TimeoutError, match="3"):
        await Retry("attempts", max_attempts=3, clock=clock).execute(flaky)
    assert len(flaky.calls) == 3
    assert gave_up("attempts", "gave_up_attempts") == 1


@pytest.mark.asyncio
async def test_server_retry_after_is_a_floor_for_the_sleep(clock: FakeClock) -> None:
    flaky = Flaky(clock, RateLimited("polygon", 2.5))
    await Retry("hint", clock=clock).execute(flaky)
    assert flaky.calls[1] - flaky.calls[0] == pytest.approx(2.5)


@pytest.mark.asyncio
async def test_a_retry_after_beyond_the_bound_is_not_waited_for(clock: FakeClock) -> None:
    flaky = Flaky(clock, RateLimited("polygon", 120.0))
    with pytest.raises(RateLimited):
        await Retry("toolong", max_retry_after=30.0, clock=clock).execute(flaky)
    assert gave_up("toolong", "gave_up_retry_after") == 1


@pytest.mark.asyncio
async def test_never_sleeps_past_the_deadline(clock: FakeClock) -> None:
    flaky = Flaky(clock, TimeoutError(), TimeoutError())
    policy = Retry("deadline", wait=wait_fixed(1.0), max_attempts=5, clock=clock)
    deadline = deadline_after(clock, 1.5)
    with pytest.raises(TimeoutError):
        await policy.execute(flaky, deadline=deadline)
    assert len(flaky.calls) == 2
    assert clock.monotonic() == pytest.approx(1.0)  # slept once, then gave up instead
    assert gave_up("deadline", "gave_up_deadline") == 1


@pytest.mark.asyncio
async def test_tenacity_stop_strategies_run_on_the_injected_clock(clock: FakeClock) -> None:
    errors = [TimeoutError() for _ in range(10)]
    flaky = Flaky(clock, *errors)
    policy = Retry(
        "stop", wait=wait_fixed(1.0), max_attempts=10, stop=stop_after_delay(2.5), clock=clock
    )
    with pytest.raises(TimeoutError):
        await policy.execute(flaky)
    assert len(flaky.calls) == 4  # attempts at t=0,1,2,3; 3 s since start >= 2.5 s


@pytest.mark.asyncio
async def test_budget_caps_retries_at_a_fraction_of_calls(clock: FakeClock) -> None:
    budget = RetryBudget(budget_percent=20.0, min_retries_per_second=0.0, ttl=10, clock=clock)
    policy = Retry("budget", wait=wait_fixed(0.0), max_attempts=2, budget=budget, clock=clock)
    failures = 0
    for _ in range(50):
        try:
            await policy.execute(Flaky(clock, TimeoutError(), TimeoutError()))
        except TimeoutError:
            failures += 1
    assert failures == 50
    assert budget.calls == 50 and budget.retries == 10
    assert gave_up("budget", "gave_up_budget") == 40


def test_budget_floor_allows_retries_when_traffic_is_low(clock: FakeClock) -> None:
    budget = RetryBudget(budget_percent=20.0, min_retries_per_second=0.5, ttl=10, clock=clock)
    budget.record_call()
    spent = sum(budget.try_spend() for _ in range(10))
    assert spent == 5  # the floor: 0.5/s over 10 s
    clock.advance(10)
    assert budget.allowance() == 5 and budget.retries == 0  # the window forgot them


@pytest.mark.asyncio
async def test_each_attempt_is_numbered_for_inner_policies(clock: FakeClock) -> None:
    from resilience.pipeline import CallContext

    ctx = CallContext()
    seen: list[int] = []
    flaky = Flaky(clock, TimeoutError(), TimeoutError())

    async def call() -> str:
        seen.append(ctx.attempt)
        return await flaky()

    await Retry("numbered", wait=wait_fixed(0.0), clock=clock).run(call, ctx)
    assert seen == [1, 2, 3]
