"""The cycle on a fake gateway: one batched quote call, skip-unchanged, most volatile
first, only changed components recomputed, incremental bars, adaptive polling, ownership."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client import REGISTRY

from service_runtime.clock import FakeClock
from signal_engine.app.symbol_state import SymbolBook
from signal_engine.bootstrap import EngineWiring
from signal_engine.domain import indicator_values

from .conftest import SYMBOLS
from .fakes import FakeCalendar, FakeMarketData, FakeOwnership

pytestmark = pytest.mark.asyncio


def move(market: FakeMarketData, symbol: str, pct: float) -> None:
    market.prices[symbol] *= 1 + pct / 100


def recomputes(component: str) -> float:
    name = "argo_signal_engine_component_recomputes_total"
    return REGISTRY.get_sample_value(name, {"component": component}) or 0.0


async def test_one_batched_quote_call_per_cycle(
    wiring: EngineWiring, market: FakeMarketData, clock: FakeClock
):
    result = await wiring.app.run_cycle()
    clock.advance(5)
    await wiring.app.run_cycle()
    assert market.quote_calls == [list(SYMBOLS), list(SYMBOLS)]
    assert sorted(s.symbol for s in result.signals) == sorted(SYMBOLS)
    assert result.failures == []


async def test_unchanged_prices_are_skipped_and_reuse_the_signal(
    wiring: EngineWiring, market: FakeMarketData, clock: FakeClock
):
    first = await wiring.app.run_cycle()
    clock.advance(5)
    move(market, "AAPL", 0.3)  # below the 0.5% threshold
    second = await wiring.app.run_cycle()
    assert all(s.reused for s in second.signals)
    assert {s.signal_id for s in second.signals} == {s.signal_id for s in first.signals}
    assert len(market.bars_calls) == len(SYMBOLS)  # no bars fetched for skipped symbols
    stats = wiring.app.stats()
    assert (stats.symbols_processed_total, stats.symbols_skipped_total) == (12, 6)
    assert stats.skip_rate == pytest.approx(0.5)
    # cycle 1: quotes + 6 bars + 6 sentiment; cycle 2: quotes only (sentiment not yet due)
    assert stats.upstream_calls_per_cycle == pytest.approx((1 + 6 + 6 + 1) / 2)
    assert stats.cycles_total == 2 and stats.signals_published_total == 6


async def test_a_move_recomputes_only_that_symbol_and_only_its_changed_components(
    wiring: EngineWiring, market: FakeMarketData, clock: FakeClock
):
    first = await wiring.app.run_cycle()
    market.bars_calls.clear()
    technical, consensus = recomputes("technical"), recomputes("consensus")
    clock.advance(5)
    move(market, "TSLA", -0.6)
    second = await wiring.app.run_cycle()
    fresh = [s for s in second.signals if not s.reused]
    assert [s.symbol for s in fresh] == ["TSLA"]
    assert fresh[0].signal_id not in {s.signal_id for s in first.signals}
    assert fresh[0].entry_price == pytest.approx(market.prices["TSLA"])
    # no bar can have completed in 5 s: no GetBars, the technical view is reused
    assert market.bars_calls == []
    assert recomputes("technical") == technical and recomputes("consensus") == consensus + 1


async def test_new_bars_are_fetched_after_the_last_one_held_and_match_the_batch(
    wiring: EngineWiring, market: FakeMarketData, clock: FakeClock
):
    await wiring.app.generate(["NVDA"])
    tape = market.tapes["NVDA"]
    last_held = tape[-1].start_time
    market.extend("NVDA", [tape[-1].close * 1.01, tape[-1].close * 1.02])
    clock.advance(60)  # one new bar completed
    move(market, "NVDA", 2.0)
    technical = recomputes("technical")
    await wiring.app.generate(["NVDA"])
    assert market.bars_starts[-1] == last_held + timedelta(minutes=1)
    assert recomputes("technical") == technical + 1
    clock.advance(60)  # the second new bar completed
    move(market, "NVDA", 1.0)
    await wiring.app.generate(["NVDA"])
    assert market.bars_starts[-1] == last_held + timedelta(minutes=2)
    first_fetch = [b for b in tape if b.start_time <= last_held][-100:]
    assert wiring.app.indicators("NVDA") == indicator_values(first_fetch + tape[-2:])


async def test_a_gap_longer_than_one_window_rebuilds_from_the_latest_bars(
    wiring: EngineWiring, market: FakeMarketData, clock: FakeClock
):
    await wiring.app.generate(["AAPL"])
    market.extend("AAPL", [191.0 + i * 0.01 for i in range(150)])
    clock.advance(150 * 60)
    await wiring.app.generate(["AAPL"], force=True)
    assert market.bars_starts[-2:][1] is None  # the window came back full: rebuilt
    assert wiring.app.indicators("AAPL") == indicator_values(market.tapes["AAPL"][-100:])


async def test_most_volatile_symbol_is_processed_first(
    wiring: EngineWiring, market: FakeMarketData, clock: FakeClock
):
    await wiring.app.run_cycle()
    market.bars_calls.clear()
    for symbol in SYMBOLS:
        market.extend(symbol, [market.tapes[symbol][-1].close])
    clock.advance(60)
    for symbol, pct in {"MSFT": 0.8, "ETH-USD": -3.0, "AAPL": 1.5}.items():
        move(market, symbol, pct)
    result = await wiring.app.run_cycle()
    assert market.bars_calls == ["ETH-USD", "AAPL", "MSFT"]
    assert [s.symbol for s in result.signals][:3] == ["ETH-USD", "AAPL", "MSFT"]


async def test_expired_signals_and_force_and_new_tunables_recompute(
    wiring: EngineWiring, clock: FakeClock
):
    app = wiring.app
    await app.run_cycle()
    clock.advance(app.tunables.horizon_seconds)
    assert not any(s.reused for s in (await app.run_cycle()).signals)
    assert not any(s.reused for s in (await app.generate(["AAPL"], force=True)).signals)
    assert all(s.reused for s in (await app.generate(["AAPL"])).signals)
    assert wiring.apply_config is not None
    wiring.apply_config({"weights": {"rsi": 0.5}})
    assert not any(s.reused for s in (await app.generate(["AAPL"])).signals)


async def test_bars_are_fetched_with_bounded_concurrency(
    wiring: EngineWiring, market: FakeMarketData
):
    assert wiring.apply_config is not None
    wiring.apply_config({"max_concurrency": 2})
    await wiring.app.run_cycle()
    assert len(market.bars_calls) == 6 and market.max_bars_in_flight == 2


async def test_stocks_outside_the_session_are_polled_less_often_crypto_always(
    wiring: EngineWiring, market: FakeMarketData, clock: FakeClock, calendar: FakeCalendar
):
    calendar.open = False
    await wiring.app.run_cycle()
    for _ in range(11):
        clock.advance(5)
        await wiring.app.run_cycle()
    crypto = ["BTC-USD", "ETH-USD"]
    assert market.quote_calls[1:] == [crypto] * 11
    clock.advance(5)  # 60 s after the first cycle: the stocks' turn again
    await wiring.app.run_cycle()
    assert sorted(market.quote_calls[-1]) == sorted(SYMBOLS)
    assert wiring.app.stats().cycles_total == 13


async def test_quiet_symbols_are_polled_less_often(
    wiring: EngineWiring, market: FakeMarketData, clock: FakeClock
):
    assert wiring.apply_config is not None
    wiring.apply_config({"quiet_volatility_pct": 0.05, "quiet_poll_multiplier": 3})
    deferred = REGISTRY.get_sample_value("argo_signal_engine_polls_deferred_total") or 0.0
    for _ in range(5):  # at 0, 5, 10, 15 and 20 s
        move(market, "BTC-USD", 0.4)  # about 0.4% per 5 s: anything but quiet
        await wiring.app.run_cycle()
        clock.advance(5)
    # two quotes tell a quiet symbol (the others do not move): it waits 3 cycles' time
    everything, btc = list(SYMBOLS), ["BTC-USD"]
    assert market.quote_calls == [everything, everything, btc, btc, everything]
    assert REGISTRY.get_sample_value("argo_signal_engine_polls_deferred_total") == deferred + 10


async def test_a_cycle_that_starts_a_little_early_still_polls_every_symbol(
    wiring: EngineWiring, market: FakeMarketData, clock: FakeClock
):
    """The loop's next cycle starts one cycle after the previous loop iteration began,
    a hair before one cycle after the previous cycle's work began (the ownership claim
    and the schedule's clock read lie between): no symbol may be deferred for that."""
    await wiring.app.run_cycle()
    for _ in range(2):
        clock.advance(5 - 0.001)
        await wiring.app.run_cycle()
    assert market.quote_calls == [list(SYMBOLS)] * 3
    clock.advance(2.4)  # more than half a cycle before the symbols are due: not yet
    await wiring.app.run_cycle()
    assert len(market.quote_calls) == 3


async def test_an_interval_between_cycles_is_rounded_up_to_whole_cycles(
    wiring: EngineWiring, market: FakeMarketData, clock: FakeClock
):
    """1.5 cycles' time lies halfway between two cycles: the quiet symbols are quoted every
    second cycle, always, never at the whim of microseconds either side of a cycle."""
    assert wiring.apply_config is not None
    wiring.apply_config({"quiet_volatility_pct": 0.05, "quiet_poll_multiplier": 1.5})
    for _ in range(7):  # cycles at 0, 5, ... 30 s, each started a hair late
        move(market, "BTC-USD", 0.4)
        await wiring.app.run_cycle()
        clock.advance(5 + 0.001)
    everything, btc = list(SYMBOLS), ["BTC-USD"]
    # quiet from the second quote on: every second cycle from then
    assert market.quote_calls == [everything, everything, btc, everything, btc, everything, btc]


async def test_only_owned_symbols_are_cycled_and_reported(
    wiring: EngineWiring, market: FakeMarketData, ownership: FakeOwnership
):
    ownership.symbols = frozenset({"AAPL", "BTC-USD"})
    await wiring.app.run_cycle()
    assert market.quote_calls == [["AAPL", "BTC-USD"]] and ownership.claims == 1
    stats = wiring.app.stats()
    assert stats.symbols == ("AAPL", "BTC-USD") and stats.configured_symbols == SYMBOLS
    assert stats.replica_id == "replica-a"
    default = await wiring.app.generate()  # empty request: the owned symbols
    assert sorted(s.symbol for s in default.signals) == ["AAPL", "BTC-USD"]
    named = await wiring.app.generate(["MSFT"])  # a named symbol is served regardless
    assert [s.symbol for s in named.signals] == ["MSFT"]
    ownership.symbols = frozenset()
    assert (await wiring.app.run_cycle()).signals == []
    assert len(market.quote_calls) == 3  # nothing owned: no call at all


async def test_the_symbol_book_forgets_the_least_recently_used_beyond_its_capacity() -> None:
    book = SymbolBook(capacity=2)
    book.state("AAPL")
    book.state("MSFT")
    book.state("AAPL")  # used again: MSFT is now the oldest
    book.state("NVDA")
    assert book.find("MSFT") is None
    assert book.find("AAPL") is not None and book.find("NVDA") is not None
