"""Compose policies into one call path: `Pipeline([retry, breaker, limiter]).execute(fn, ...)`.

Hand-written (Polly v8's ResiliencePipeline idea in a few lines; tenacity has no composition).
Each policy implements `Policy.run(call, ctx)` and is also usable alone through its own API.
The first policy is the outermost. The recommended order for an upstream provider call is
`[retry, breaker, limiter]` (optionally `hedge`/`single-flight` outside): every attempt is
checked by the breaker first (an open circuit spends no quota), then takes a permit.
`ctx.deadline` (monotonic, see `clock.deadline_after`) bounds limiter waits and retry sleeps.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from resilience.clock import Clock, check_deadline, system_clock
from resilience.quota import LimitKey

T = TypeVar("T")


@dataclass(slots=True)
class CallContext:
    """What the policies know about one call: limiter key, deadline, cost, attempt number."""

    key: LimitKey | None = None
    deadline: float | None = None
    cost: float = 1.0
    attempt: int = 1


class Policy(Protocol):
    """A resilience policy that can wrap a call inside a pipeline."""

    async def run(self, call: Callable[[], Awaitable[T]], ctx: CallContext) -> T:
        """Run `call` under this policy (calling it zero, one or several times)."""
        ...


class Pipeline:
    """Policies applied outermost-first around a call."""

    def __init__(self, policies: Sequence[Policy], *, clock: Clock | None = None) -> None:
        self._policies = tuple(policies)
        self._clock = clock or system_clock()

    async def execute(
        self,
        fn: Callable[[], Awaitable[T]],
        *,
        key: LimitKey | None = None,
        deadline: float | None = None,
        cost: float = 1.0,
    ) -> T:
        """Call `fn` through every policy; `deadline` is an absolute monotonic instant."""
        check_deadline(self._clock, deadline, "the call started")
        return await self._step(0, fn, CallContext(key, deadline, cost))

    def _step(self, index: int, fn: Callable[[], Awaitable[T]], ctx: CallContext) -> Awaitable[T]:
        if index == len(self._policies):
            return fn()
        return self._policies[index].run(lambda: self._step(index + 1, fn, ctx), ctx)
