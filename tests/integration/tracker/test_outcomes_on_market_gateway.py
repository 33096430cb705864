"""Outcome tracking against the real market-gateway (synthetic market) over gRPC.

Both services share one fake clock; the tracker polls only every ten minutes, so targets
and stops are touched between polls and must be found in the bars, at the first bar that
touched them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
import pytest_asyncio

from market_gateway.bootstrap import bootstrap as gateway_bootstrap
from market_gateway.config import load_settings as gateway_settings
from service_runtime.clock import FakeClock
from tests.unit.tracker.factories import make_signal
from tracker.adapters.market_gateway_prices import GatewayPriceSource
from tracker.bootstrap import Components, build_components
from tracker.config import load_settings
from tracker.domain import Action, Outcome, PriceBar, Signal, SignalFilter, TrackedSignal

pytestmark = pytest.mark.integration

START = datetime(2026, 11, 17, 15, 0, tzinfo=UTC)  # 10:00 in New York, a Tuesday session
HORIZON = timedelta(minutes=90)


@pytest_asyncio.fixture
async def wired(tmp_path: Path) -> AsyncIterator[tuple[Components, GatewayPriceSource, FakeClock]]:
    clock = FakeClock(START)
    gateway = await gateway_bootstrap(gateway_settings({}), clock=clock)
    server = grpc.aio.server()
    gateway.register(server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    prices = GatewayPriceSource(channel)
    settings = load_settings(
        {"DATABASE_URL": f"sqlite:///{tmp_path}/t.db", "ARCHIVE_URL": f"file://{tmp_path}/a"}
    )
    components = await build_components(settings, clock=clock, prices=prices)
    try:
        yield components, prices, clock
    finally:
        await components.exit_stack.aclose()
        await channel.close()
        await server.stop(None)
        await gateway.exit_stack.aclose()


def first_touch(signal: Signal, bars: list[PriceBar]) -> PriceBar | None:
    for bar in bars:
        if bar.start_time < signal.create_time or bar.end_time > signal.expire_time:
            continue
        up, down = (
            bar.high >= max(signal.target_price, signal.stop_price),
            bar.low <= min(signal.target_price, signal.stop_price),
        )
        if up or down:
            return bar
    return None


@pytest.mark.asyncio
async def test_every_signal_resolves_at_the_first_bar_that_touched_a_level(
    wired: tuple[Components, GatewayPriceSource, FakeClock],
) -> None:
    components, prices, clock = wired
    quotes = await prices.latest(["AAPL", "BTC-USD", "MSFT"])
    assert set(quotes) == {"AAPL", "BTC-USD", "MSFT"}
    signals: list[Signal] = []
    for symbol, tick in quotes.items():
        p = tick.price
        for action, target, stop in (
            (Action.BUY, p * 1.001, p * 0.9985),
            (Action.SELL, p * 0.999, p * 1.0015),
            (Action.HOLD, p, p),
        ):
            signals.append(
                make_signal(
                    symbol=symbol,
                    action=action,
                    entry_price=p,
                    target_price=target,
                    stop_price=stop,
                    create_time=clock.now(),
                    raw_confidence=70.0,
                    confidence=70.0,
                    expire_time=clock.now() + HORIZON,
                )
            )
    batch = await components.tracker.record_signals(signals)
    assert batch.accepted == len(signals)
    passes = 0
    while await components.store.count_open() and passes < 20:
        clock.advance(600)
        await components.outcomes.track_once()
        passes += 1
    assert await components.store.count_open() == 0  # 100% of signals reach an outcome
    rows, _ = await components.store.query(SignalFilter(), 100, None)
    outcomes = {t.outcome for t in rows if t.signal.action is not Action.HOLD}
    assert Outcome.WIN in outcomes and Outcome.LOSS in outcomes  # the path really moved
    for tracked in rows:
        await check_resolution(tracked, prices)


async def check_resolution(tracked: TrackedSignal, prices: GatewayPriceSource) -> None:
    s = tracked.signal
    assert tracked.exit_time is not None and tracked.exit_price is not None
    assert s.create_time <= tracked.exit_time <= s.expire_time
    bars = await prices.bars(s.symbol, s.create_time - timedelta(minutes=1), s.expire_time)
    if s.action is Action.HOLD:
        assert tracked.outcome in (Outcome.WIN, Outcome.LOSS) and tracked.pnl_percent == 0.0
        return
    touched = first_touch(s, bars)
    if touched is None:
        assert tracked.outcome is Outcome.EXPIRED
        closes = [b.close for b in bars if b.end_time <= s.expire_time]
        assert tracked.exit_price == (closes[-1] if closes else s.entry_price)
        return
    assert tracked.outcome in (Outcome.WIN, Outcome.LOSS), tracked
    assert tracked.exit_time in (touched.start_time, touched.end_time), (tracked, touched)
    assert tracked.exit_price in (s.target_price, s.stop_price, touched.open)
    assert (tracked.pnl_percent or 0) > 0 if tracked.outcome is Outcome.WIN else True
    assert (tracked.pnl_percent or 0) < 0 if tracked.outcome is Outcome.LOSS else True
