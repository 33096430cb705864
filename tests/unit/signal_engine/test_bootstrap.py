"""bootstrap() builds the real outbox and ownership from the settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from service_runtime.settings import ConfigError
from signal_engine.bootstrap import bootstrap
from signal_engine.config import load_settings

from .fakes import FakeCalendar, FakeCalibrations, FakeMarketData, FakeSignalSink

pytestmark = pytest.mark.asyncio


async def test_the_outbox_directory_belongs_to_one_engine(
    tmp_path: Path, market: FakeMarketData, sink: FakeSignalSink
) -> None:
    settings = load_settings({"ENGINE_OUTBOX_DIR": str(tmp_path / "outbox"), "SYMBOLS": "AAPL"})
    ports = {
        "market": market,
        "sink": sink,
        "calibrations": FakeCalibrations(),
        "calendar": FakeCalendar(),
    }
    first = await bootstrap(settings, **ports)  # type: ignore[arg-type]
    assert (tmp_path / "outbox" / "outbox.sqlite3").exists()
    sink.down = True
    await first.app.generate(["AAPL"])
    assert first.app.stats().outbox_depth == 1
    with pytest.raises(ConfigError, match="ENGINE_OUTBOX_DIR"):
        await bootstrap(settings, **ports)  # type: ignore[arg-type]
    await first.exit_stack.aclose()
    second = await bootstrap(settings, **ports)  # type: ignore[arg-type]
    assert second.app.stats().outbox_depth == 1  # restored from disk
    stats = second.app.stats()
    assert stats.symbols == ("AAPL",) and stats.replica_id  # no Redis: owns everything
    await second.exit_stack.aclose()


async def test_with_redis_the_replica_uses_leases(
    tmp_path: Path, market: FakeMarketData, sink: FakeSignalSink
) -> None:
    settings = load_settings(
        {
            "ENGINE_OUTBOX_DIR": str(tmp_path),
            "REDIS_URL": "redis://127.0.0.1:1/0",  # never reached: nothing connects here
            "ENGINE_REPLICA_ID": "engine-7",
        }
    )
    wiring = await bootstrap(
        settings, market=market, sink=sink, calibrations=FakeCalibrations(), calendar=FakeCalendar()
    )
    stats = wiring.app.stats()
    assert stats.replica_id == "engine-7" and stats.symbols == ()  # no lease held yet
    assert len(wiring.background) == 3  # cycles, delivery, lease keeper
    await wiring.exit_stack.aclose()
