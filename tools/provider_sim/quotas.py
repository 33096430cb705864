"""Per-provider quotas: fixed windows aligned to the epoch, and a concurrency cap.

A call is admitted only when every window has room; it then counts in all of them. A
refused call counts in none (as the real providers do not bill a 429). Decisions carry what
the `X-RateLimit-*` and `Retry-After` headers report: the limit, the remaining calls and the
reset instant of the binding window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tools.provider_sim.config import QuotaWindow


@dataclass(frozen=True, slots=True)
class QuotaDecision:
    allowed: bool
    window: QuotaWindow | None  # the window that refused, or the tightest one; None: no quota
    limit: int = 0
    remaining: int = 0
    reset_epoch: float = 0.0  # when the binding window starts over (epoch seconds)
    retry_after: float = 0.0  # seconds until a refused call may succeed

    def headers(self) -> dict[str, str]:
        """X-RateLimit-Limit / -Remaining / -Reset (epoch seconds), plus Retry-After."""
        if self.window is None:
            return {}
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(math.ceil(self.reset_epoch)),
        }
        if not self.allowed:
            headers["Retry-After"] = str(max(1, math.ceil(self.retry_after)))
        return headers


UNLIMITED = QuotaDecision(allowed=True, window=None)


class QuotaBook:
    """Call counts per provider and window; time comes from the caller (the sim clock)."""

    def __init__(self) -> None:
        self._used: dict[tuple[str, QuotaWindow], tuple[float, int]] = {}
        self._in_flight: dict[str, int] = {}

    def take(self, provider: str, windows: tuple[QuotaWindow, ...], now: float) -> QuotaDecision:
        """Admit one call at epoch second `now`, or say which window refuses it."""
        if not windows:
            return UNLIMITED
        states = [(window, *self._state(provider, window, now)) for window in windows]
        full = [(w, start) for w, start, used in states if used >= w.limit]
        if full:
            window, start = max(full, key=lambda item: item[1] + item[0].seconds)
            reset = start + window.seconds
            return QuotaDecision(False, window, window.limit, 0, reset, reset - now)
        for window, start, used in states:
            self._used[(provider, window)] = (start, used + 1)
        window, start, used = min(states, key=lambda s: (s[0].limit - s[2] - 1) / s[0].limit)
        remaining = window.limit - used - 1
        return QuotaDecision(True, window, window.limit, remaining, start + window.seconds)

    def enter(self, provider: str, limit: int | None) -> bool:
        """Start one call under a concurrency cap; False when the cap is reached."""
        current = self._in_flight.get(provider, 0)
        if limit is not None and current >= limit:
            return False
        self._in_flight[provider] = current + 1
        return True

    def leave(self, provider: str) -> None:
        self._in_flight[provider] = max(0, self._in_flight.get(provider, 0) - 1)

    def reset(self) -> None:
        self._used.clear()

    def _state(self, provider: str, window: QuotaWindow, now: float) -> tuple[float, int]:
        start = math.floor(now / window.seconds) * window.seconds
        known_start, used = self._used.get((provider, window), (start, 0))
        return (start, used) if known_start == start else (start, 0)
