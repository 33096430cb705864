"""Delivery through the outbox: nothing lost while the tracker is away, each signal
recorded exactly once, retries with backoff, bounded batches, a full outbox refuses."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY

from service_runtime.clock import FakeClock
from signal_engine.app import OutboxDelivery
from signal_engine.bootstrap import EngineWiring, bootstrap
from signal_engine.config import Settings
from signal_engine.domain import Action, Regime, Signal, SinkUnavailable

from .conftest import START
from .fakes import FakeMarketData, FakeOutbox, FakeSignalSink

pytestmark = pytest.mark.asyncio


def signal(n: int) -> Signal:
    return Signal(
        signal_id=f"00000000-0000-4000-8000-{n:012d}",
        symbol="AAPL",
        action=Action.HOLD,
        confidence=60.0,
        raw_confidence=60.0,
        entry_price=190.0,
        target_price=190.0,
        stop_price=190.0,
        create_time=START,
        expire_time=START + timedelta(minutes=15),
        regime=Regime.RANGING,
    )


def outbox_gauge() -> float | None:
    return REGISTRY.get_sample_value("argo_signal_engine_outbox_depth")


def retries(outcome: str) -> float:
    labels = {"policy": "tracker_record_signals", "outcome": outcome}
    return REGISTRY.get_sample_value("argo_resilience_retries_total", labels) or 0.0


async def test_tracker_away_then_back_delivers_every_signal_exactly_once(
    wiring: EngineWiring,
    sink: FakeSignalSink,
    market: FakeMarketData,
    clock: FakeClock,
    outbox: FakeOutbox,
):
    sink.down = True
    first = await wiring.app.run_cycle()
    assert sink.recorded == [] and outbox.depth == 6 and outbox_gauge() == 6
    assert wiring.app.delivery.tracker_away and wiring.app.stats().outbox_depth == 6
    clock.advance(5)
    market.prices["NVDA"] *= 1.01
    calls = sink.calls
    second = await wiring.app.run_cycle()
    assert sink.calls == calls + 1  # one inline attempt with the new signal, no retries
    assert outbox.depth == 7
    sink.down = False
    assert await wiring.app.delivery.deliver_waiting() == 7
    new_ids = {s.signal_id for s in first.signals} | {s.signal_id for s in second.signals}
    assert sorted(s.signal_id for s in sink.recorded) == sorted(new_ids)
    assert outbox.depth == 0 and outbox_gauge() == 0 and not wiring.app.delivery.tracker_away
    assert wiring.app.stats().delivered_total == 7


async def test_background_round_retries_with_backoff_then_gives_up(
    clock: FakeClock, sink: FakeSignalSink
):
    outbox = FakeOutbox()
    await outbox.append([signal(1), signal(2)])
    delivery = OutboxDelivery(outbox, sink, clock)
    retried = retries("retried")
    sink.failures_left = 3
    assert await delivery.deliver_waiting() == 2
    assert retries("retried") == retried + 3 and clock.monotonic() > 0  # it slept between
    await outbox.append([signal(3)])
    sink.down = True
    gave_up = retries("gave_up_attempts")
    with pytest.raises(SinkUnavailable):
        await delivery.deliver_waiting()
    assert retries("gave_up_attempts") == gave_up + 1 and outbox.depth == 1


async def test_a_lost_acknowledgement_is_absorbed_as_a_duplicate(
    clock: FakeClock, sink: FakeSignalSink
):
    outbox = FakeOutbox()
    delivery = OutboxDelivery(outbox, sink, clock)
    sink.lose_ack_once = True  # stored, but the engine never hears so
    await delivery.publish([signal(1), signal(2)])
    assert outbox.depth == 2 and delivery.tracker_away
    await delivery.deliver_waiting()
    assert [s.signal_id for s in sink.recorded] == [signal(1).signal_id, signal(2).signal_id]
    assert sink.duplicates == 2 and outbox.depth == 0


async def test_signals_waiting_from_a_previous_run_are_delivered_after_a_restart(
    settings: Settings, fakes: dict[str, object], sink: FakeSignalSink, outbox: FakeOutbox
):
    await outbox.append([signal(1), signal(2)])  # left by the previous process
    wiring = await bootstrap(settings, **fakes)  # type: ignore[arg-type]
    assert wiring.app.stats().outbox_depth == 2
    assert await wiring.app.delivery.deliver_waiting() == 2
    assert len(sink.recorded) == 2
    await wiring.exit_stack.aclose()


async def test_a_rejected_signal_is_set_aside_and_the_rest_delivered(
    wiring: EngineWiring, sink: FakeSignalSink, outbox: FakeOutbox
):
    sink.rejected_ids = {"00000000-0000-4000-8000-000000000003"}
    await wiring.app.run_cycle()
    assert len(sink.recorded) == 5 and outbox.depth == 0
    assert [s.signal_id for s, _ in outbox.rejected.values()] == list(sink.rejected_ids)


async def test_signals_refused_one_by_one_are_set_aside_in_the_same_call(
    clock: FakeClock, sink: FakeSignalSink
):
    outbox = FakeOutbox()
    delivery = OutboxDelivery(outbox, sink, clock)
    sink.invalid_ids = {signal(2).signal_id}
    await delivery.publish([signal(1), signal(2), signal(3)])
    assert sink.calls == 1 and outbox.depth == 0
    assert [s.signal_id for s in sink.recorded] == [signal(1).signal_id, signal(3).signal_id]
    assert [(s.signal_id, why) for s, why in outbox.rejected.values()] == [
        (signal(2).signal_id, "confidence: must be within 0..100")
    ]
    assert delivery.rejected_total == 1 and delivery.delivered_total == 2


async def test_the_inline_call_carries_only_the_new_signals(clock: FakeClock, sink: FakeSignalSink):
    outbox = FakeOutbox()
    await outbox.append([signal(1), signal(2), signal(3)])  # a backlog
    delivery = OutboxDelivery(outbox, sink, clock)
    await delivery.publish([signal(9)])
    assert sink.batch_sizes == [1] and outbox.depth == 3  # the caller does not wait for it
    assert await delivery.deliver_waiting() == 3 and outbox.depth == 0


async def test_a_signal_in_flight_inline_is_not_sent_by_the_background_too(
    clock: FakeClock, sink: FakeSignalSink
):
    outbox = FakeOutbox()
    await outbox.append([signal(1)])
    delivery = OutboxDelivery(outbox, sink, clock)
    sink.block = asyncio.Event()
    inline = asyncio.create_task(delivery.publish([signal(2)]))
    for _ in range(5):
        await asyncio.sleep(0)
    background = asyncio.create_task(delivery.deliver_waiting())
    for _ in range(5):
        await asyncio.sleep(0)
    sink.block.set()
    await asyncio.gather(inline, background)
    assert sorted(sink.batch_sizes) == [1, 1] and sink.duplicates == 0
    assert {s.signal_id for s in sink.recorded} == {signal(1).signal_id, signal(2).signal_id}


async def test_batches_are_bounded_and_oldest_go_first(clock: FakeClock, sink: FakeSignalSink):
    outbox = FakeOutbox()
    delivery = OutboxDelivery(outbox, sink, clock, batch_size=2)
    await delivery.publish([signal(n) for n in range(1, 6)])
    assert sink.batch_sizes == [2, 2, 1]
    assert [s.signal_id for s in sink.recorded] == [signal(n).signal_id for n in range(1, 6)]


async def test_a_full_outbox_refuses_new_signals_and_keeps_the_waiting_ones(
    clock: FakeClock, sink: FakeSignalSink
):
    outbox = FakeOutbox(capacity=3)
    delivery = OutboxDelivery(outbox, sink, clock)
    sink.down = True
    refused = REGISTRY.get_sample_value("argo_signal_engine_outbox_refused_total") or 0.0
    await delivery.publish([signal(1), signal(2)])
    await delivery.publish([signal(3), signal(4), signal(5)])
    assert [s.signal_id for s in outbox.rows.values()] == [signal(n).signal_id for n in (1, 2, 3)]
    assert delivery.refused_total == 2
    assert REGISTRY.get_sample_value("argo_signal_engine_outbox_refused_total") == refused + 2
    sink.down = False
    await delivery.deliver_waiting()
    assert [s.signal_id for s in sink.recorded] == [signal(n).signal_id for n in (1, 2, 3)]


async def test_an_unwritable_outbox_refuses_but_the_cycle_still_serves(
    wiring: EngineWiring, outbox: FakeOutbox, sink: FakeSignalSink
):
    outbox.broken = True
    result = await wiring.app.run_cycle()
    assert len(result.signals) == 6 and sink.recorded == []
    assert wiring.app.stats().outbox_refused_total == 6


async def test_the_background_loop_drains_after_an_outage(clock: FakeClock, sink: FakeSignalSink):
    outbox = FakeOutbox()
    delivery = OutboxDelivery(outbox, sink, clock, max_backoff_seconds=5.0)
    sink.down = True
    await delivery.publish([signal(1)])
    loop = asyncio.create_task(delivery.run())
    for _ in range(50):
        await asyncio.sleep(0)
    assert outbox.depth == 1 and sink.calls > 2  # retrying, backing off, cooling down
    sink.down = False
    for _ in range(200):
        await asyncio.sleep(0)
        if outbox.depth == 0:
            break
    loop.cancel()
    assert [s.signal_id for s in sink.recorded] == [signal(1).signal_id]
    assert not delivery.tracker_away
