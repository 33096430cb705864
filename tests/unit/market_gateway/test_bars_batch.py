"""Due 1-minute series of many symbols are refreshed in one multi-symbol call."""

from __future__ import annotations

import asyncio
import itertools
import string
from collections.abc import AsyncIterator, Sequence
from datetime import datetime

import pytest
import pytest_asyncio

from market_gateway.adapters.calendar import NyseCalendar
from market_gateway.app import MarketGatewayApp
from market_gateway.bootstrap import bootstrap
from market_gateway.config import Settings
from market_gateway.domain import Bar, CacheStatus, Symbol, Timeframe, UnknownSymbol
from service_runtime.clock import FakeClock

from .conftest import IN_SESSION, unit_tunables
from .fakes import FakeQuoteSource

pytestmark = pytest.mark.asyncio
MINUTE = Timeframe.ONE_MINUTE
NAMES = itertools.product(string.ascii_uppercase, repeat=3)
UNIVERSE = ["Q" + "".join(letters) for letters in itertools.islice(NAMES, 50)]


class FakeMultiBarSource(FakeQuoteSource):
    """Also answers many symbols' bars in one call (like Alpaca's `symbols=A,B,...`)."""

    def __init__(self, clock: FakeClock, prices: dict[str, float], *, name: str) -> None:
        super().__init__(clock, prices, name=name)
        self.multi_calls: list[list[str]] = []

    async def get_bars_multi(
        self,
        symbols: Sequence[Symbol],
        timeframe: Timeframe,
        start: datetime | None,
        end: datetime,
        limit: int,
    ) -> dict[str, list[Bar]]:
        self.multi_calls.append([s.canonical for s in symbols])
        answer: dict[str, list[Bar]] = {}
        for symbol in symbols:
            try:
                answer[symbol.canonical] = await self.get_bars(symbol, timeframe, start, end, limit)
            except UnknownSymbol:
                continue
            self.bar_calls.pop()  # counted as the one multi call
        return answer


class Rig:
    def __init__(
        self, app: MarketGatewayApp, polygon: FakeQuoteSource, alpaca: FakeMultiBarSource
    ) -> None:
        self.app, self.polygon, self.alpaca = app, polygon, alpaca

    async def warm(self) -> None:
        for symbol in UNIVERSE:  # a cold series each: one single-symbol call each
            await self.app.get_bars(symbol, MINUTE, limit=3)
        assert len(self.polygon.bar_calls) == len(UNIVERSE)

    def upstream_bar_calls(self) -> int:
        return (
            len(self.polygon.bar_calls) + len(self.alpaca.bar_calls) + len(self.alpaca.multi_calls)
        )


async def make_rig(
    settings: Settings, nyse: NyseCalendar, **switches: bool
) -> tuple[Rig, FakeClock, object]:
    clock = FakeClock(IN_SESSION)
    prices = {symbol: 10.0 + i for i, symbol in enumerate(UNIVERSE)}
    polygon = FakeQuoteSource(clock, prices, name="polygon")
    alpaca = FakeMultiBarSource(clock, prices, name="alpaca")
    wiring = await bootstrap(
        settings,
        clock=clock,
        sources=[polygon, alpaca],  # polygon first in the bar order, as by default
        streams=[],
        calendar=nyse,
        tunables=unit_tunables(optimizations={"agreement": False, **switches}),
    )
    return Rig(wiring.app, polygon, alpaca), clock, wiring


@pytest_asyncio.fixture
async def rig(settings: Settings, nyse: NyseCalendar) -> AsyncIterator[tuple[Rig, FakeClock]]:
    made, clock, wiring = await make_rig(settings, nyse)
    yield made, clock
    await wiring.exit_stack.aclose()


async def test_fifty_due_series_are_refreshed_by_one_multi_symbol_call(
    rig: tuple[Rig, FakeClock],
) -> None:
    made, clock = rig
    await made.warm()
    before = made.upstream_bar_calls()
    clock.advance(61)  # the 15:30 bar has completed for every symbol
    # an incremental client (the engine) asks for each symbol's bars since its last one
    answers = [await made.app.get_bars(s, MINUTE, limit=100, start=IN_SESSION) for s in UNIVERSE]
    assert made.upstream_bar_calls() - before == 1
    (batch,) = made.alpaca.multi_calls
    assert batch[0] == UNIVERSE[0] and sorted(batch) == sorted(UNIVERSE)
    assert all(len(a.bars) == 1 and a.bars[0].start_time == IN_SESSION for a in answers)
    assert answers[0].cache_status is CacheStatus.MISS  # the one that asked
    assert {a.cache_status for a in answers[1:]} == {CacheStatus.HIT_LOCAL}


async def test_concurrent_requests_wait_for_the_batch_in_flight(
    rig: tuple[Rig, FakeClock],
) -> None:
    made, clock = rig
    await made.warm()
    before = made.upstream_bar_calls()
    clock.advance(61)
    made.alpaca.latency_seconds = 0.1  # the batch takes a while: the others wait for it
    answers = await asyncio.gather(
        *(made.app.get_bars(s, MINUTE, limit=100, start=IN_SESSION) for s in UNIVERSE)
    )
    assert made.upstream_bar_calls() - before == 1
    assert all(a.bars[-1].start_time == IN_SESSION for a in answers)


async def test_without_batching_every_due_series_is_fetched_alone(
    settings: Settings, nyse: NyseCalendar
) -> None:
    made, clock, wiring = await make_rig(settings, nyse, batching=False)
    await made.warm()
    before = made.upstream_bar_calls()
    clock.advance(61)
    for symbol in UNIVERSE:
        await made.app.get_bars(symbol, MINUTE, limit=100, start=IN_SESSION)
    assert made.upstream_bar_calls() - before == len(UNIVERSE)
    assert made.alpaca.multi_calls == []
    await wiring.exit_stack.aclose()


async def test_a_failed_batch_falls_back_to_each_symbols_own_fetch(
    rig: tuple[Rig, FakeClock],
) -> None:
    made, clock = rig
    await made.warm()
    clock.advance(61)
    made.alpaca.failure = UnknownSymbol("everything")  # the multi call fails
    series = await made.app.get_bars(UNIVERSE[0], MINUTE, limit=100, start=IN_SESSION)
    assert series.bars[-1].start_time == IN_SESSION and series.provider == "polygon"
    assert len(made.alpaca.multi_calls) == 1
