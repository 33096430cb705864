"""Cancellation that sticks, on Python 3.11.

On 3.11 `asyncio.wait_for` returns the inner result instead of raising when a cancel
arrives just as the inner awaitable finishes (fixed in 3.12). redis-py sends every command
through `wait_for` when a socket timeout is set, so about one cancel in a hundred of a task
busy with Redis is swallowed: the task is left "cancelling" but runs on. A background loop
then never ends and a shutdown that waits for it hangs. Two defences, written by hand
because asyncio has neither:

- `raise_if_cancelling()`: a loop calls it once per round; it re-raises a cancel that a
  library swallowed (the task's `cancelling()` count is still up).
- `cancel_and_wait()`: cancels tasks and re-cancels the ones still running every
  `patience` seconds, so a shutdown ends even for a loop without the check.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from typing import Any

import structlog

log = structlog.get_logger(__name__)


def raise_if_cancelling() -> None:
    """Raise CancelledError if the current task was cancelled and something swallowed it."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def cancel_and_wait(
    tasks: Collection[asyncio.Task[Any]], *, patience: float = 0.5, rounds: int = 20
) -> None:
    """Cancel `tasks` and wait until all have ended, re-cancelling the ones that run on.

    Gives up after `rounds` re-cancels (logged with the tasks' names) rather than hang.
    """
    pending = {t for t in tasks if not t.done()}
    try:
        for attempt in range(rounds + 1):
            if not pending:
                return
            for task in pending:
                task.cancel()
            if attempt:
                log.warning(
                    "task_cancel_repeated",
                    attempt=attempt,
                    tasks=sorted(t.get_name() for t in pending),
                )
            _, pending = await asyncio.wait(pending, timeout=patience)
        if pending:
            log.error("task_cancel_abandoned", tasks=sorted(t.get_name() for t in pending))
    finally:
        for task in tasks:  # like gather(return_exceptions=True): nothing left unretrieved
            if task.done() and not task.cancelled():
                task.exception()
