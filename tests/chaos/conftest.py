"""Shared fixtures of the chaos tests: one provider simulator process per session.

`sim` is healed (faults and stream settings back to the base config, counters reset)
before every test that uses it, so a test sees only its own faults and calls.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from tests.chaos.sim_process import SimProcess, clock_anchor


@pytest.fixture(scope="session")
def chaos_anchor() -> str:
    """The clock anchor every process of the session starts with (bench/clocked.py)."""
    return clock_anchor()


@pytest.fixture(scope="session")
def sim_process(
    tmp_path_factory: pytest.TempPathFactory, chaos_anchor: str
) -> Iterator[SimProcess]:
    sim = SimProcess.start(tmp_path_factory.mktemp("provider-sim"), chaos_anchor)
    yield sim
    sim.stop()


@pytest_asyncio.fixture
async def sim(sim_process: SimProcess) -> AsyncIterator[SimProcess]:
    """The session's simulator with no faults and fresh counters."""
    await sim_process.heal()
    yield sim_process
    await sim_process.heal()
