"""Group commit for generation passes: callers waiting on a running pass share the next one.

Passes run one at a time (they advance the same indicator state and outbox). Without
grouping, N concurrent GenerateSignals calls queue for N passes, so the last caller waits N
pass times. Here every caller that arrives while a pass runs joins one pending batch (per
`force` flag): when the running pass ends, one pass covers the union of their symbols and
each caller receives its own symbols' part. A caller that gives up (deadline) leaves the
batch running for the others. Cycles use `exclusive`, which takes turns with the batches
without joining them, so a cycle's cost and statistics stay its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from signal_engine.app.generation import GenerationPass, GenerationResult

RunPass = Callable[[list[str], bool], Awaitable[GenerationPass]]


@dataclass
class _Batch:
    symbols: dict[str, None] = field(default_factory=dict)  # insertion-ordered set
    callers: int = 0
    task: asyncio.Future[GenerationPass] | None = None


class PassQueue:
    def __init__(self, run: RunPass) -> None:
        self._run = run
        self._turn = asyncio.Lock()
        self._pending: dict[bool, _Batch] = {}

    async def submit(self, wanted: list[str], force: bool) -> GenerationPass:
        """The pass that covered `wanted`, narrowed to those symbols."""
        batch = self._pending.get(force)
        if batch is None:
            batch = self._pending[force] = _Batch()
            batch.task = asyncio.ensure_future(self._drive(batch, force))
            batch.task.add_done_callback(_retrieve)  # every caller may have given up
        batch.symbols.update(dict.fromkeys(wanted))
        batch.callers += 1
        assert batch.task is not None
        done = await asyncio.shield(batch.task)
        return done if batch.callers == 1 else narrowed(done, wanted)

    async def exclusive(self, wanted: list[str], force: bool) -> GenerationPass:
        """A pass of its own (a cycle), taking turns with the batches."""
        async with self._turn:
            return await self._run(wanted, force)

    @property
    def waiting_batches(self) -> int:
        return len(self._pending)

    async def _drive(self, batch: _Batch, force: bool) -> GenerationPass:
        async with self._turn:
            if self._pending.get(force) is batch:
                del self._pending[force]  # closed: later callers start the next batch
            return await self._run(list(batch.symbols), force)


def narrowed(done: GenerationPass, wanted: list[str]) -> GenerationPass:
    """One caller's view of a shared pass: its symbols' signals and failures. The counts
    (new, skipped, upstream calls) stay the pass's; they feed statistics once, not per
    caller."""
    keep = set(wanted)
    result = GenerationResult(
        [s for s in done.result.signals if s.symbol in keep],
        [f for f in done.result.failures if f.symbol in keep],
    )
    return GenerationPass(
        result,
        new_signals=done.new_signals,
        skipped=done.skipped,
        deduplicated=done.deduplicated,
        upstream_calls=done.upstream_calls,
        gateway_error=done.gateway_error,
    )


def _retrieve(task: asyncio.Future[GenerationPass]) -> None:
    if not task.cancelled():
        task.exception()
