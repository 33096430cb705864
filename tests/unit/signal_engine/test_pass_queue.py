"""Group commit of generation passes: concurrent callers share the next pass."""

from __future__ import annotations

import asyncio

import pytest

from signal_engine.app.generation import GenerationPass, GenerationResult
from signal_engine.app.pass_queue import PassQueue
from signal_engine.domain import SymbolFailure

pytestmark = pytest.mark.asyncio


class Passes:
    """A pass runner that records each pass and holds it until released."""

    def __init__(self) -> None:
        self.runs: list[tuple[list[str], bool]] = []
        self.gates: list[asyncio.Event] = []
        self.started = asyncio.Condition()

    async def __call__(self, wanted: list[str], force: bool) -> GenerationPass:
        gate = asyncio.Event()
        async with self.started:
            self.runs.append((wanted, force))
            self.gates.append(gate)
            self.started.notify_all()
        await gate.wait()
        failures = [SymbolFailure(s, "held") for s in wanted]
        return GenerationPass(GenerationResult([], failures), upstream_calls=1)

    async def wait_runs(self, n: int) -> None:
        async with self.started:
            await asyncio.wait_for(self.started.wait_for(lambda: len(self.runs) >= n), 5)


def symbols(done: GenerationPass) -> list[str]:
    return [f.symbol for f in done.result.failures]


async def test_callers_arriving_during_a_pass_share_one_next_pass() -> None:
    """Without it, 64 callers wait 64 pass times (p99 of seconds under load)."""
    passes = Passes()
    queue = PassQueue(passes)
    first = asyncio.create_task(queue.submit(["AAPL"], False))
    await passes.wait_runs(1)
    joiners = [asyncio.create_task(queue.submit(w, False)) for w in (["NVDA"], ["TSLA", "AAPL"])]
    await asyncio.sleep(0)
    passes.gates[0].set()
    await passes.wait_runs(2)
    assert passes.runs[1] == (["NVDA", "TSLA", "AAPL"], False)  # one pass for both joiners
    passes.gates[1].set()
    assert symbols(await first) == ["AAPL"]
    nvda, tsla_aapl = await asyncio.gather(*joiners)
    assert symbols(nvda) == ["NVDA"]  # each caller sees only its own symbols
    assert symbols(tsla_aapl) == ["TSLA", "AAPL"]
    assert len(passes.runs) == 2


async def test_a_caller_giving_up_leaves_the_shared_pass_to_the_others() -> None:
    """Else one caller's deadline would cancel the pass another caller waits for."""
    passes = Passes()
    queue = PassQueue(passes)
    quitter = asyncio.create_task(queue.submit(["AAPL"], False))
    stayer = asyncio.create_task(queue.submit(["MSFT"], False))
    await passes.wait_runs(1)
    quitter.cancel()
    passes.gates[0].set()
    assert symbols(await stayer) == ["MSFT"]
    assert quitter.cancelled()


async def test_forced_and_unforced_callers_and_cycles_get_passes_of_their_own() -> None:
    """A forced pass must not be folded into a skip-unchanged one (or the reverse), and a
    cycle's cost must stay its own."""
    passes = Passes()
    queue = PassQueue(passes)
    cycle = asyncio.create_task(queue.exclusive(["AAPL"], False))
    await passes.wait_runs(1)
    forced = asyncio.create_task(queue.submit(["NVDA"], True))
    plain = asyncio.create_task(queue.submit(["TSLA"], False))
    await asyncio.sleep(0)
    for n in (1, 2, 3):
        passes.gates[n - 1].set()
        if n < 3:
            await passes.wait_runs(n + 1)
    await asyncio.gather(cycle, forced, plain)
    assert sorted(passes.runs[1:]) == [(["NVDA"], True), (["TSLA"], False)]
    assert queue.waiting_batches == 0


async def test_a_failed_pass_fails_every_caller_that_shared_it() -> None:
    async def broken(wanted: list[str], force: bool) -> GenerationPass:
        raise RuntimeError("generator bug")

    queue = PassQueue(broken)
    results = await asyncio.gather(
        queue.submit(["AAPL"], False), queue.submit(["NVDA"], False), return_exceptions=True
    )
    assert [type(r) for r in results] == [RuntimeError, RuntimeError]
