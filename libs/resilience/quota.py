"""Quota model and the admission rule shared by every limiter store (hand-written).

No Python library combines GCRA, several windows, weighted cost, *reservations* (wait for a
permit with one state update) and a provider pause in one atomic decision, and the Redis
store must run the same rule in Lua; so the rule lives here once, as a pure function
(`admit`), and `limiter_redis.py`'s script is a line-by-line transcription of it.

Windows (vocabulary of `limits` / PyrateLimiter / resilience4j):
- `Window.rate(rate, per, burst)`: GCRA, a smooth rate with a burst. Contract: over ANY
  interval of length t, admitted cost < burst + rate*t/per.
- `Window.fixed(limit, period, offset)`: at most `limit` cost units per aligned period
  (e.g. per UTC day, as Alpha Vantage counts its 25 requests a day). Contract: per period
  window, admitted cost <= limit.
A permit is *reserved* at the earliest instant every window and the pause allow; callers
whose `max_wait` covers that instant get it (and sleep until then), others are rejected
with that instant as `retry_after`, leaving the state untouched.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

MAX_FIXED_STEPS = 64
EPSILON = 1e-6  # 1 µs: epoch seconds carry ~0.25 µs of float rounding


@dataclass(frozen=True, slots=True)
class LimitKey:
    """Who is limited: provider x credential x endpoint. `credential` is a label, never a secret."""

    provider: str
    credential: str = "default"
    endpoint: str = "default"

    @property
    def pause_scope(self) -> str:
        """Pushback applies per provider x credential (every endpoint of that credential)."""
        return f"{self.provider}:{self.credential}"

    def __str__(self) -> str:
        return f"{self.provider}:{self.credential}:{self.endpoint}"


@dataclass(frozen=True, slots=True)
class Window:
    """One limit on a key; build with `Window.rate` or `Window.fixed`."""

    kind: Literal["gcra", "fixed"]
    limit: float
    period: float
    burst: float = 0.0
    offset: float = 0.0
    #: GCRA emission interval: seconds of capacity one cost unit uses (period / limit).
    interval: float = field(init=False, repr=False, compare=False)
    #: State key of this window: kind, period and offset (not the rate, see WindowState).
    label: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.limit <= 0 or self.period <= 0:
            raise ValueError(f"window limit and period must be > 0 (got {self})")
        if self.kind == "gcra" and self.burst < 1:
            raise ValueError(f"a GCRA window needs burst >= 1 (got {self.burst})")
        object.__setattr__(self, "interval", self.period / self.limit)
        object.__setattr__(self, "label", f"{self.kind}{self.period:g}s{self.offset:g}")

    @classmethod
    def rate(cls, rate: float, per: float = 1.0, burst: float | None = None) -> Window:
        """`rate` cost units per `per` seconds, up to `burst` at once (default: max(rate, 1))."""
        return cls("gcra", rate, per, burst if burst is not None else max(rate, 1.0))

    @classmethod
    def fixed(cls, limit: float, period: float, offset: float = 0.0) -> Window:
        """At most `limit` per period; periods start at epoch + offset + k*period."""
        return cls("fixed", limit, period, 0.0, offset % period)

    @property
    def capacity(self) -> float:
        """The largest single cost this window can ever admit."""
        return self.burst if self.kind == "gcra" else self.limit


@dataclass(frozen=True, slots=True)
class Quota:
    """All windows that apply to one key at once (e.g. 0.2/s burst 5 AND 25 per day)."""

    windows: tuple[Window, ...] = ()
    #: The largest single cost any permit can have (the smallest window capacity).
    max_cost: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        labels = [w.label for w in self.windows]
        if len(set(labels)) != len(labels):
            raise ValueError(f"two windows of one quota share kind, period and offset: {labels}")
        object.__setattr__(
            self, "max_cost", min((w.capacity for w in self.windows), default=math.inf)
        )

    @classmethod
    def of(cls, *windows: Window) -> Quota:
        return cls(tuple(windows))


@dataclass(slots=True)
class WindowState:
    """In-process state of one key, per window label: a GCRA TAT, or used cost per period.

    State is keyed by `Window.label` (kind, period, offset), so a hot-reloaded quota that
    only changes a rate keeps its history.
    """

    tat: dict[str, float] = field(default_factory=dict)
    used: dict[str, dict[int, float]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Decision:
    """`granted`: a permit is reserved `wait` seconds from now; else `wait` is the retry-after.

    `paused` says a provider pause (not the quota) was what held the permit back.
    """

    granted: bool
    wait: float
    paused: bool = False


def admit(
    windows: Sequence[Window],
    state: WindowState,
    now: float,
    cost: float,
    max_wait: float,
    paused_until: float,
) -> Decision:
    """Reserve `cost` at the earliest allowed instant within `max_wait`, mutating `state`."""
    at = max(now, paused_until)
    for w in windows:
        if w.kind == "gcra":
            at = max(at, state.tat.get(w.label, -math.inf) + (cost - w.burst) * w.interval)
    for _ in range(MAX_FIXED_STEPS):
        moved = False
        for w in windows:
            if w.kind == "fixed":
                idx = math.floor((at - w.offset) / w.period)
                if state.used.get(w.label, {}).get(idx, 0.0) + cost > w.limit + EPSILON:
                    at = w.offset + (idx + 1) * w.period
                    moved = True
        if not moved:
            break
    else:
        return Decision(False, at - now, paused_until > now)
    wait = at - now if at - now > EPSILON else 0.0
    if wait > max_wait + EPSILON:
        return Decision(False, wait, paused_until > now)
    for w in windows:
        if w.kind == "gcra":
            state.tat[w.label] = max(state.tat.get(w.label, -math.inf), at) + cost * w.interval
        else:
            idx = math.floor((at - w.offset) / w.period)
            used = state.used.setdefault(w.label, {})
            used[idx] = used.get(idx, 0.0) + cost
            current = math.floor((now - w.offset) / w.period)
            for old in [k for k in used if k < current]:
                del used[old]
    return Decision(True, wait, paused_until > now)
