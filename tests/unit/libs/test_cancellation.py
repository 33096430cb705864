"""Cancellation that sticks: a cancel a library swallowed (as redis-py's use of
`asyncio.wait_for` does on Python 3.11) still ends background loops and shutdowns.

If these failed, a service's shutdown could wait forever on a loop that ran on after its
cancel, and a pod would hold its gRPC port until Kubernetes killed it."""

from __future__ import annotations

import asyncio

import pytest
import structlog

from service_runtime.cancellation import cancel_and_wait, raise_if_cancelling

pytestmark = pytest.mark.asyncio


async def _swallowing_call() -> str:
    """Like 3.11's wait_for when the inner result is ready as the cancel arrives."""
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        return "result"
    return "never"


async def _stubborn_loop(rounds: list[int], *, checked: bool, until: int = 1000) -> None:
    while len(rounds) < until:
        rounds.append(1)
        await _swallowing_call()
        if checked:
            raise_if_cancelling()


async def test_a_loop_that_checks_ends_on_the_cancel_a_call_swallowed() -> None:
    rounds: list[int] = []
    task = asyncio.create_task(_stubborn_loop(rounds, checked=True))
    await asyncio.sleep(0)
    task.cancel()
    done, _ = await asyncio.wait([task], timeout=1.0)
    assert done == {task} and task.cancelled()
    assert len(rounds) == 1  # no second round after the cancel


async def test_raise_if_cancelling_is_quiet_when_no_cancel_is_pending() -> None:
    async def uncancelled_timeout() -> str:
        try:
            async with asyncio.timeout(0.01):  # cancels, then uncancels: not pending
                await asyncio.sleep(1)
        except TimeoutError:
            pass
        raise_if_cancelling()
        return "ran on"

    assert await asyncio.create_task(uncancelled_timeout()) == "ran on"


async def test_cancel_and_wait_recancels_a_loop_that_ran_on() -> None:
    rounds: list[int] = []
    loop = _stubborn_loop(rounds, checked=False, until=5)  # its fifth round is its last
    task = asyncio.create_task(loop, name="stubborn")
    await asyncio.sleep(0)
    with structlog.testing.capture_logs() as logs:
        await cancel_and_wait([task], patience=0.05, rounds=3)
    assert not task.done()  # every cancel is swallowed: it gives up instead of hanging
    assert [e["event"] for e in logs].count("task_cancel_repeated") == 3
    assert logs[-1] == {
        "event": "task_cancel_abandoned",
        "tasks": ["stubborn"],
        "log_level": "error",
    }
    assert len(rounds) == 5  # one round before the cancel, one more per cancel
    task.cancel()  # swallowed too, but that was the last round
    await asyncio.wait([task], timeout=1.0)
    assert task.done()


async def test_cancel_and_wait_ends_a_loop_that_swallows_once() -> None:
    swallowed: list[int] = []

    async def swallows_first_cancel() -> None:
        await _swallowing_call()
        swallowed.append(1)
        await asyncio.sleep(3600)  # the repeat cancel lands here

    task = asyncio.create_task(swallows_first_cancel(), name="once")
    await asyncio.sleep(0)
    with structlog.testing.capture_logs() as logs:
        await cancel_and_wait([task], patience=0.05)
    assert task.cancelled() and swallowed == [1]
    assert [e["event"] for e in logs] == ["task_cancel_repeated"]  # not "abandoned"


async def test_a_loop_ending_on_the_last_repeat_is_not_reported_abandoned() -> None:
    async def swallows_first_cancel() -> None:
        await _swallowing_call()
        await asyncio.sleep(3600)

    task = asyncio.create_task(swallows_first_cancel())
    await asyncio.sleep(0)
    with structlog.testing.capture_logs() as logs:
        await cancel_and_wait([task], patience=0.05, rounds=1)
    assert task.cancelled()
    assert [e["event"] for e in logs] == ["task_cancel_repeated"]


async def test_cancel_and_wait_retrieves_errors_like_gather() -> None:
    async def fails() -> None:
        raise RuntimeError("boom")

    task = asyncio.create_task(fails())
    await asyncio.sleep(0)
    await cancel_and_wait([task])
    assert isinstance(task.exception(), RuntimeError)
