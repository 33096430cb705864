"""The caller's deadline, carried to every upstream call of a request.

The servicer passes `context.time_remaining()`; `deadline_scope` turns it into an absolute
instant on the app clock's monotonic scale (what the resilience pipeline takes as
`deadline`) and keeps it in a context variable, so it reaches provider calls without being
threaded through every signature. Tasks copy the context when they are created, so a
micro-batch or single flight started by a request runs under that request's deadline (the
first caller's, when several share one flight). Without a caller deadline, one upstream call
is bounded by `resilience.upstream_timeout_seconds`.
"""

from __future__ import annotations

import contextvars
import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from opentelemetry import context as otel_context

from market_gateway.ports import Clock

_DEADLINE: ContextVar[float | None] = ContextVar("market_gateway_deadline", default=None)


class deadline_scope:  # noqa: N801 - used like contextlib's lowercase context managers
    """Within the block, upstream calls end by `timeout_seconds` from now (None: no bound
    besides an outer scope's). Enter each instance once. A class, not @contextmanager: it
    runs on every request, and the generator version cost three times as much."""

    __slots__ = ("_deadline", "_token")

    def __init__(self, clock: Clock, timeout_seconds: float | None) -> None:
        deadline = None if timeout_seconds is None else clock.monotonic() + max(timeout_seconds, 0)
        outer = _DEADLINE.get()
        if outer is not None and (deadline is None or outer < deadline):
            deadline = outer
        self._deadline = deadline

    def __enter__(self) -> float | None:
        self._token = _DEADLINE.set(self._deadline)
        return self._deadline

    def __exit__(self, *_: object) -> None:
        _DEADLINE.reset(self._token)


@contextmanager
def detached() -> Iterator[None]:
    """Background work (a stale-while-revalidate refresh) outlives the request that started
    it: within the block no request deadline applies."""
    token = _DEADLINE.set(None)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def background_context() -> contextvars.Context:
    """A copy of the current context (log bindings included) without the request's deadline
    and trace: for tasks that outlive the request that started them (feeds, samples)."""
    context = contextvars.copy_context()
    context.run(_DEADLINE.set, None)
    context.run(otel_context.attach, otel_context.Context())
    return context


def current_deadline() -> float | None:
    """The absolute monotonic deadline of the request being served, if it has one."""
    return _DEADLINE.get()


def call_deadline(clock: Clock, upstream_timeout: float) -> float:
    """The deadline of one upstream call: the request's, never later than the timeout."""
    bound = clock.monotonic() + upstream_timeout
    deadline = _DEADLINE.get()
    return bound if deadline is None else min(deadline, bound)


def seconds_left(clock: Clock, deadline: float | None) -> float:
    """Seconds until `deadline` (>= 0); infinity without one."""
    if deadline is None:
        return math.inf
    return max(deadline - clock.monotonic(), 0.0)
