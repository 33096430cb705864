"""Stream fan-out: bounded queues that drop the oldest for a slow subscriber."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from signal_engine.app import SignalBroadcaster
from signal_engine.domain import Action, Regime, Signal

NOW = datetime(2026, 11, 17, 15, 30, tzinfo=UTC)
BASE = Signal(
    signal_id="00000000-0000-4000-8000-000000000000",
    symbol="AAPL",
    action=Action.HOLD,
    confidence=60.0,
    raw_confidence=60.0,
    entry_price=100.0,
    target_price=100.0,
    stop_price=100.0,
    create_time=NOW,
    expire_time=NOW + timedelta(minutes=15),
    regime=Regime.RANGING,
)


def _signal(n: int, symbol: str = "AAPL") -> Signal:
    return replace(BASE, signal_id=f"00000000-0000-4000-8000-{n:012d}", symbol=symbol)


@pytest.mark.asyncio
async def test_slow_subscriber_loses_oldest_and_others_are_unaffected() -> None:
    hub = SignalBroadcaster(queue_size=2)
    slow, other = hub.subscribe(), hub.subscribe(["AAPL"])
    hub.publish([_signal(1), _signal(2), _signal(3)])
    assert [(await slow.__anext__()).signal_id[-1] for _ in range(2)] == ["2", "3"]
    assert slow.dropped == 1 and hub.dropped_total == 2  # both queues held only two
    assert (await other.__anext__()).signal_id.endswith("2")


@pytest.mark.asyncio
async def test_symbol_filter_and_close_ends_iteration() -> None:
    hub = SignalBroadcaster()
    subscription = hub.subscribe(["BTC-USD"])
    hub.publish([_signal(1, "AAPL"), _signal(2, "BTC-USD")])
    subscription.close()
    received = [s.symbol async for s in subscription]
    assert received == ["BTC-USD"]
    assert hub.subscriber_count == 0
