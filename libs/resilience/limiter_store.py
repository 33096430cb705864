"""Where limiter state lives: the `LimiterStore` Protocol and the in-process store.

Hand-written: the stores only hold state for `quota.admit` (the one admission rule), so an
in-process store and the Redis store (`limiter_redis.py`) decide identically. The in-process
store is exact for one process; with `scale` (e.g. 1/replicas) it doubles as the fallback a
Redis store uses while Redis is unreachable, so replicas then stay within the quota together
as long as `scale` is at most 1/replicas.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol

from resilience.quota import Decision, LimitKey, Window, WindowState, admit


class LimiterStore(Protocol):
    """State of the rate limiter; times are epoch seconds (shared with other replicas)."""

    name: str

    async def reserve(
        self, key: LimitKey, windows: Sequence[Window], cost: float, now: float, max_wait: float
    ) -> Decision:
        """Reserve `cost` on every window at the earliest instant within `max_wait`."""
        ...

    async def pause(self, key: LimitKey, until: float, now: float) -> float:
        """Pause `key.pause_scope` until `until` (never shortens a pause); the pause in force."""
        ...

    async def paused_until(self, key: LimitKey, now: float) -> float:
        """End of the pause in force for `key.pause_scope` (<= now when there is none)."""
        ...


class InMemoryLimiterStore:
    """Exact limiter state for one process (plain dicts; asyncio needs no locks here)."""

    name = "memory"

    def __init__(self, *, scale: float = 1.0) -> None:
        if not 0 < scale <= 1:
            raise ValueError("scale must be in (0, 1]")
        self._scale = scale
        self._states: dict[LimitKey, WindowState] = {}
        self._pauses: dict[str, float] = {}
        self._scaled: dict[tuple[Window, ...], tuple[Window, ...]] = {}

    async def reserve(
        self, key: LimitKey, windows: Sequence[Window], cost: float, now: float, max_wait: float
    ) -> Decision:
        state = self._states.get(key)
        if state is None:
            state = self._states[key] = WindowState()
        if self._scale != 1.0:
            windows = self._scaled_windows(tuple(windows))
        return admit(windows, state, now, cost, max_wait, self._pauses.get(key.pause_scope, 0.0))

    async def pause(self, key: LimitKey, until: float, now: float) -> float:
        scope = key.pause_scope
        current = self._pauses.get(scope, 0.0)
        if until > current and until > now:
            self._pauses[scope] = current = until
        return current

    async def paused_until(self, key: LimitKey, now: float) -> float:
        return self._pauses.get(key.pause_scope, 0.0)

    def _scaled_windows(self, windows: tuple[Window, ...]) -> tuple[Window, ...]:
        scaled = self._scaled.get(windows)
        if scaled is None:
            scaled = tuple(
                replace(w, limit=w.limit * self._scale, burst=max(1.0, w.burst * self._scale))
                if w.kind == "gcra"
                else replace(w, limit=max(1.0, w.limit * self._scale))
                for w in windows
            )
            self._scaled[windows] = scaled
        return scaled
