"""Ports: what the engine needs from the outside world, as typing.Protocols.

Adapters (gRPC clients of the market gateway and the tracker) and the tests' fakes
implement them structurally.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from signal_engine.domain import BarSeries, Quote, Signal, Timeframe


class Clock(Protocol):
    def now(self) -> datetime:
        """Current time, timezone-aware UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin, for durations."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class MarketData(Protocol):
    async def get_quotes(self, symbols: Sequence[str]) -> tuple[dict[str, Quote], dict[str, str]]:
        """One batched call: quotes and per-symbol error messages, both keyed by the
        symbol as requested. Raises GatewayUnavailable / GatewayError when the call fails."""
        ...

    async def get_bars(self, symbol: str, timeframe: Timeframe, limit: int) -> BarSeries:
        """The most recent `limit` bars, oldest first. Raises GatewayError subclasses."""
        ...

    async def check_ready(self) -> bool:
        """True when the gateway is reachable now; returns promptly."""
        ...


class SignalSink(Protocol):
    async def record(self, signals: Sequence[Signal]) -> tuple[int, int]:
        """Store signals idempotently; return (accepted, duplicate).
        Raises SinkUnavailable (retry later) or SinkRejected (the batch is invalid)."""
        ...


class IdGenerator(Protocol):
    def new_id(self) -> str:
        """A new globally unique signal id (lowercase UUID)."""
        ...
