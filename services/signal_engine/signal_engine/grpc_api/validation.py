"""Request validation: every violation as (field path, description)."""

from __future__ import annotations

from collections.abc import Sequence

from service_runtime.grpc_errors import FieldViolation
from signal_engine.domain import InvalidSymbol, canonical_symbol

MAX_SYMBOLS = 500
_MAX_REPORTED = 50  # violations listed per request; the count check covers the rest


def symbols_violations(symbols: Sequence[str], field: str = "symbols") -> list[FieldViolation]:
    """0..500 symbols, each a ticker (AAPL, BRK.B) or a crypto pair (BTC-USD, BTC/USD)."""
    found: list[FieldViolation] = []
    if len(symbols) > MAX_SYMBOLS:
        found.append((field, f"must hold at most {MAX_SYMBOLS} symbols, got {len(symbols)}"))
    for i, symbol in enumerate(symbols):
        if len(found) >= _MAX_REPORTED:
            break
        if not symbol.isascii():  # "AıAPL".upper() would be the valid "AIAPL"
            found.append((f"{field}[{i}]", f"{symbol[:40]!r}: must be ASCII, e.g. AAPL"))
            continue
        try:
            canonical_symbol(symbol)
        except InvalidSymbol as e:
            found.append((f"{field}[{i}]", f"{symbol[:40]!r}: {e}"))
    return found
