"""Builders of valid domain signals for the tracker's tests."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from tracker.domain import Action, CacheStatus, Regime, Signal, SourceContribution

T0 = datetime(2026, 11, 17, 15, 0, tzinfo=UTC)


def make_signal(**overrides: Any) -> Signal:
    """A valid BUY signal; keyword arguments replace fields."""
    create_time = overrides.pop("create_time", T0)
    base = Signal(
        signal_id=str(uuid.uuid4()),
        symbol="AAPL",
        action=Action.BUY,
        confidence=82.5,
        raw_confidence=78.25,
        entry_price=190.12,
        target_price=195.5,
        stop_price=187.0,
        create_time=create_time,
        expire_time=create_time + timedelta(hours=4),
        regime=Regime.TRENDING,
        lineage=(
            SourceContribution(
                source="sma_crossover",
                direction=0.8,
                confidence=0.7,
                weight=0.6,
                data_age_ms=1200,
                provider="synthetic",
                cache_status=CacheStatus.HIT_LOCAL,
            ),
            SourceContribution(
                source="sentiment:xai",
                direction=0.4,
                confidence=0.9,
                weight=0.4,
                data_age_ms=45_000,
                provider="xai",
                cache_status=CacheStatus.MISS,
            ),
        ),
        trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
    )
    return replace(base, **overrides)


def make_sell(**overrides: Any) -> Signal:
    values: dict[str, Any] = {
        "action": Action.SELL,
        "target_price": 180.0,
        "stop_price": 195.0,
        "symbol": "TSLA",
    }
    values.update(overrides)
    return make_signal(**values)


def make_series(
    count: int, *, start: datetime = T0, ties: int = 1, **overrides: Any
) -> list[Signal]:
    """`count` signals one second apart, `ties` of them sharing each create_time."""
    return [
        make_signal(create_time=start + timedelta(seconds=i // ties), **overrides)
        for i in range(count)
    ]
