"""Pending deliveries to the tracker: bounded, retried with exponential backoff."""

from __future__ import annotations

from dataclasses import replace

import pytest

from service_runtime.clock import FakeClock
from signal_engine.app import PendingDeliveries

from .conftest import START
from .fakes import FakeSignalSink
from .test_broadcast import BASE

pytestmark = pytest.mark.asyncio


def _signals(count: int):
    return [replace(BASE, signal_id=f"00000000-0000-4000-8000-{n:012d}") for n in range(count)]


async def test_overflow_drops_the_oldest() -> None:
    sink = FakeSignalSink()
    pending = PendingDeliveries(sink, FakeClock(START), capacity=3)
    pending.add(_signals(5))
    assert pending.depth == 3 and pending.dropped_total == 2
    assert await pending.deliver() == 3
    assert [s.signal_id[-1] for s in sink.recorded] == ["2", "3", "4"]


async def test_backoff_doubles_and_resets_after_success() -> None:
    sink, clock = FakeSignalSink(), FakeClock(START)
    pending = PendingDeliveries(sink, clock, base_backoff_seconds=0.5)
    pending.add(_signals(2))
    sink.failures_left = 2
    assert await pending.deliver() == 0  # fails; next attempt after 0.5 s
    clock.advance(0.4)
    assert await pending.deliver() == 0 and sink.calls == 1  # still backing off
    clock.advance(0.1)
    assert await pending.deliver() == 0 and sink.calls == 2  # fails; next after 1.0 s
    clock.advance(0.9)
    assert await pending.deliver() == 0 and sink.calls == 2
    clock.advance(0.1)
    assert await pending.deliver() == 2 and pending.depth == 0
    assert len(sink.recorded) == 2 and pending.delivered_total == 2


async def test_batches_are_bounded() -> None:
    sink = FakeSignalSink()
    pending = PendingDeliveries(sink, FakeClock(START), batch_size=2)
    pending.add(_signals(5))
    assert await pending.deliver() == 5
    assert sink.calls == 3
