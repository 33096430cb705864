"""The symbols the load uses: many distinct ones, so per-symbol caches fill and must hold
their bounds, and a picker that spreads calls over them deterministically."""

from __future__ import annotations

import itertools
import string

STOCKS = ["".join(t) for t in itertools.product("KLMN", string.ascii_uppercase, "AEIOU")][:160]
CRYPTO = [f"{base}-USD" for base in ("BTC", "ETH", "SOL", "ADA", "DOGE", "XRP", "LTC", "DOT")]
UNIVERSE = STOCKS + CRYPTO
SEEDED = ["AAPL", "MSFT", "NVDA", "TSLA", "BTC-USD", "ETH-USD"]  # the tracker's seeded rows
ENGINE_SYMBOLS = ["AAPL", "MSFT", "BTC-USD", "ETH-USD"]  # the engine's own background cycle


def pick(i: int, count: int, pool: list[str] = UNIVERSE) -> list[str]:
    """`count` distinct symbols for call `i`, walking the pool with a stride coprime to it."""
    return [pool[(i * 11 + k * 37) % len(pool)] for k in range(count)]
