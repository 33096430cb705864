"""Errors raised by the resilience policies (hand-written: they are this library's contract).

Every error that tells the caller *when* to come back carries `retry_after` in seconds, so a
gRPC layer can turn it into UNAVAILABLE with retry pushback and `Retry` can honour it.
`retry_after_of(exc)` reads that hint from any exception (ours, or a provider adapter's own
error that sets a `retry_after` attribute).
"""

from __future__ import annotations

import math


class ResilienceError(Exception):
    """Base of every error this library raises on its own behalf."""


class RateLimited(ResilienceError):
    """No permit within the allowed wait: the quota (or a provider pause) says come back later."""

    def __init__(self, key: str, retry_after: float, *, paused: bool = False) -> None:
        reason = "paused by the provider" if paused else "quota exhausted"
        super().__init__(f"rate limited on {key} ({reason}); retry after {retry_after:.3f}s")
        self.key = key
        self.retry_after = max(0.0, retry_after)
        self.paused = paused


class CircuitOpen(ResilienceError):
    """The circuit breaker does not permit the call (resilience4j's CallNotPermittedException)."""

    def __init__(self, name: str, retry_after: float | None, *, shared: bool = False) -> None:
        where = "open on a quorum of replicas" if shared else "open"
        hint = "" if retry_after is None else f"; retry after {retry_after:.3f}s"
        super().__init__(f"circuit {name} is {where}{hint}")
        self.name = name
        self.retry_after = retry_after
        self.shared = shared


class DeadlineExceeded(ResilienceError):
    """The caller's deadline passed before the call could start."""

    def __init__(self, what: str) -> None:
        super().__init__(f"deadline exceeded before {what}")


class MissingBatchResult(ResilienceError, LookupError):
    """A micro-batched upstream answer had no entry for this caller's key."""

    def __init__(self, key: object) -> None:
        super().__init__(f"upstream batch returned no result for {key!r}")
        self.key = key


class RemoteFlightFailed(ResilienceError):
    """Another replica led this single flight and its call failed; this is its error, retold."""

    def __init__(self, kind: str, message: str, retry_after: float | None) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.retry_after = retry_after


class NoGoodAnswer(ResilienceError):
    """Every raced attempt failed or returned an answer the caller rejected."""

    def __init__(self, errors: list[BaseException]) -> None:
        kinds = ", ".join(type(e).__name__ for e in errors) or "only rejected answers"
        super().__init__(f"no attempt gave a good answer ({kinds})")
        self.errors = errors


def retry_after_of(exc: BaseException) -> float | None:
    """The server's or policy's `retry_after` hint in seconds, when the exception carries one."""
    value = getattr(exc, "retry_after", None)
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return max(0.0, float(value))
    return None
