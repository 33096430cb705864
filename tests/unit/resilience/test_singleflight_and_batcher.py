"""Single-flight and micro-batching: one upstream call for many callers, own errors each."""

from __future__ import annotations

import asyncio

import pytest

from resilience.batcher import MicroBatcher
from resilience.errors import MissingBatchResult
from resilience.singleflight import SingleFlight

from .conftest import START
from .fakes import VirtualClock, settle


class Upstream:
    def __init__(self) -> None:
        self.calls = 0
        self.release = asyncio.Event()

    async def fetch(self) -> str:
        self.calls += 1
        await self.release.wait()
        return f"value#{self.calls}"


@pytest.mark.asyncio
async def test_concurrent_identical_requests_share_one_call() -> None:
    flight, upstream = SingleFlight("sf-share"), Upstream()
    callers = [asyncio.create_task(flight.do("AAPL", upstream.fetch)) for _ in range(10)]
    await settle()
    upstream.release.set()
    assert await asyncio.gather(*callers) == ["value#1"] * 10
    assert upstream.calls == 1
    assert not flight.in_flight("AAPL")
    assert await flight.do("AAPL", upstream.fetch) == "value#2"  # finished flights are not cached


@pytest.mark.asyncio
async def test_every_waiter_gets_the_shared_error() -> None:
    flight = SingleFlight("sf-error")
    gate = asyncio.Event()

    async def failing() -> str:
        await gate.wait()
        raise TimeoutError("upstream")

    callers = [asyncio.create_task(flight.do("k", failing)) for _ in range(3)]
    await settle()
    gate.set()
    results = await asyncio.gather(*callers, return_exceptions=True)
    assert all(isinstance(r, TimeoutError) for r in results)


@pytest.mark.asyncio
async def test_one_cancelled_waiter_leaves_the_others_their_result() -> None:
    flight, upstream = SingleFlight("sf-cancel"), Upstream()
    first = asyncio.create_task(flight.do("k", upstream.fetch))
    second = asyncio.create_task(flight.do("k", upstream.fetch))
    await settle()
    first.cancel()
    await settle()
    upstream.release.set()
    assert await second == "value#1"
    assert first.cancelled()


@pytest.mark.asyncio
async def test_the_call_is_cancelled_when_its_last_waiter_leaves() -> None:
    flight = SingleFlight("sf-abandon")
    cancelled = asyncio.Event()

    async def slow() -> str:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "never"

    caller = asyncio.create_task(flight.do("k", slow))
    await settle()
    caller.cancel()
    await settle()
    assert cancelled.is_set() and not flight.in_flight("k")


@pytest.mark.asyncio
async def test_a_caller_arriving_while_a_cancelled_call_winds_down_gets_a_new_call() -> None:
    """Lost if it failed: a caller that was never cancelled would get CancelledError from
    a call abandoned by others that was still cleaning up (RedisSingleFlight releases its
    lease then), and that error slips past every `except Exception`."""
    flight = SingleFlight("sf-winding-down")
    cleaning, done_cleaning = asyncio.Event(), asyncio.Event()

    async def slow_to_cancel() -> str:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cleaning.set()
            await done_cleaning.wait()  # e.g. a round trip to release a lease
            raise
        return "never"

    async def fresh() -> str:
        return "fresh"

    caller = asyncio.create_task(flight.do("k", slow_to_cancel))
    await settle()
    caller.cancel()
    await cleaning.wait()
    async with asyncio.timeout(5):  # joining the dying call would wait on its cleanup
        assert await flight.do("k", fresh) == "fresh"
    done_cleaning.set()
    with pytest.raises(asyncio.CancelledError):
        await caller
    await settle()
    assert not flight.in_flight("k")


def batcher(clock: VirtualClock, answer, **options) -> tuple[MicroBatcher, list[list[str]]]:
    seen: list[list[str]] = []

    async def fetch_many(keys: list[str]):
        seen.append(sorted(keys))
        return answer(keys)

    return MicroBatcher(fetch_many, clock=clock, **options), seen


@pytest.mark.asyncio
async def test_requests_within_the_window_become_one_call() -> None:
    clock = VirtualClock(START)
    batch, seen = batcher(clock, lambda keys: {k: k.lower() for k in keys}, window=0.005)
    callers = [asyncio.create_task(batch.load(s)) for s in ("AAPL", "MSFT", "AAPL", "NVDA")]
    await settle()
    assert seen == []
    await clock.advance(0.005)
    assert await asyncio.gather(*callers) == ["aapl", "msft", "aapl", "nvda"]
    assert seen == [["AAPL", "MSFT", "NVDA"]]
    late = asyncio.create_task(batch.load("TSLA"))
    await clock.advance(0.005)
    assert await late == "tsla" and seen[-1] == ["TSLA"]


@pytest.mark.asyncio
async def test_a_full_batch_goes_out_without_waiting_for_the_window() -> None:
    clock = VirtualClock(START)
    batch, seen = batcher(clock, lambda keys: {k: 1 for k in keys}, window=10.0, max_batch=3)
    callers = [asyncio.create_task(batch.load(k)) for k in ("a", "b", "c", "d")]
    await settle()
    assert seen == [["a", "b", "c"]]
    await clock.advance(10.0)
    await asyncio.gather(*callers)
    assert seen == [["a", "b", "c"], ["d"]]


@pytest.mark.asyncio
async def test_each_caller_gets_its_own_error_or_value() -> None:
    clock = VirtualClock(START)
    answer = {"AAPL": 1.0, "BAD": ValueError("unknown symbol")}  # MSFT is missing
    batch, seen = batcher(clock, lambda keys: answer, window=0.001)
    callers = [asyncio.create_task(batch.load(k)) for k in ("AAPL", "BAD", "MSFT")]
    await clock.advance(0.001)
    ok, bad, missing = await asyncio.gather(*callers, return_exceptions=True)
    assert ok == 1.0
    assert isinstance(bad, ValueError)
    assert isinstance(missing, MissingBatchResult) and missing.key == "MSFT"
    assert len(seen) == 1


@pytest.mark.asyncio
async def test_a_failed_upstream_call_fails_only_that_batch() -> None:
    clock = VirtualClock(START)
    calls = 0

    async def fetch_many(keys: list[str]):
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("provider down")
        return {k: k for k in keys}

    batch = MicroBatcher(fetch_many, clock=clock, window=0.001)
    first = [asyncio.create_task(batch.load(k)) for k in ("a", "b")]
    await clock.advance(0.001)
    assert all(
        isinstance(r, ConnectionError) for r in await asyncio.gather(*first, return_exceptions=True)
    )
    second = asyncio.create_task(batch.load("a"))
    await clock.advance(0.001)
    assert await second == "a"


@pytest.mark.asyncio
async def test_a_key_already_in_flight_joins_that_call() -> None:
    clock = VirtualClock(START)
    gate = asyncio.Event()
    seen: list[list[str]] = []

    async def fetch_many(keys: list[str]):
        seen.append(keys)
        await gate.wait()
        return {k: k for k in keys}

    batch = MicroBatcher(fetch_many, clock=clock, window=0.001)
    first = asyncio.create_task(batch.load("a"))
    await clock.advance(0.001)
    again = asyncio.create_task(batch.load("a"))
    await clock.advance(0.001)
    gate.set()
    assert await first == "a" and await again == "a"
    assert seen == [["a"]]


@pytest.mark.asyncio
async def test_a_cancelled_caller_does_not_cancel_the_batch_for_others() -> None:
    clock = VirtualClock(START)
    batch, _ = batcher(clock, lambda keys: {k: k for k in keys}, window=0.001)
    leaving = asyncio.create_task(batch.load("a"))
    staying = asyncio.create_task(batch.load("a"))
    await settle()
    leaving.cancel()
    await clock.advance(0.001)
    assert await staying == "a"


@pytest.mark.asyncio
async def test_aclose_cancels_pending_callers() -> None:
    clock = VirtualClock(START)
    batch, seen = batcher(clock, lambda keys: {}, window=1.0)
    caller = asyncio.create_task(batch.load("a"))
    await settle()
    await batch.aclose()
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert seen == []
