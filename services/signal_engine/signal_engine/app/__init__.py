"""Use cases of the signal engine (imports domain and ports only)."""

from __future__ import annotations

from signal_engine.app.broadcast import SignalBroadcaster, Subscription
from signal_engine.app.cycle_stats import EngineStats
from signal_engine.app.delivery import OutboxDelivery
from signal_engine.app.engine import EngineApp
from signal_engine.app.generation import GenerationResult
from signal_engine.app.ownership import AllSymbols

__all__ = [
    "AllSymbols",
    "EngineApp",
    "EngineStats",
    "GenerationResult",
    "OutboxDelivery",
    "SignalBroadcaster",
    "Subscription",
]
