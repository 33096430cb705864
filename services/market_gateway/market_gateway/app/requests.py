"""Request limits and the parsing every use case starts with."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import lru_cache

from market_gateway.domain import InvalidRequest, InvalidSymbol, Symbol, parse_symbol

MAX_SYMBOLS = 1000
# pure, and the same symbols come every cycle
parse_symbol_cached = lru_cache(maxsize=8192)(parse_symbol)
MAX_BARS = 5000
DEFAULT_BARS = 100


def distinct(symbols: Sequence[str]) -> dict[str, tuple[Symbol, str]]:
    """Canonical symbol -> (parsed, first spelling), in order of first mention."""
    if not symbols:
        raise InvalidRequest("symbols", "at least one symbol is required")
    if len(symbols) > MAX_SYMBOLS:
        raise InvalidRequest("symbols", f"at most {MAX_SYMBOLS} symbols per request")
    wanted: dict[str, tuple[Symbol, str]] = {}
    for index, raw in enumerate(symbols):
        try:
            symbol = parse_symbol_cached(raw)
        except InvalidSymbol as e:
            raise InvalidSymbol(raw, e.reason, field=f"symbols[{index}]") from None
        wanted.setdefault(symbol.canonical, (symbol, raw))
    return wanted


@lru_cache(maxsize=256)
def distinct_cached(symbols: tuple[str, ...]) -> Mapping[str, tuple[Symbol, str]]:
    """`distinct`, cached for the hot paths: the same symbol lists come every cycle. The
    mapping is shared between calls: read it, never change it."""
    return distinct(symbols)


def check_bars_request(limit: int, start: datetime | None, end: datetime | None) -> None:
    if limit < 0:
        raise InvalidRequest("limit", "must be >= 0")
    if limit > MAX_BARS:
        raise InvalidRequest("limit", f"must be at most {MAX_BARS}")
    if start is not None and end is not None and start >= end:
        raise InvalidRequest("end_time", "must be after start_time")


def age_ms(now: datetime, then: datetime) -> int:
    return max(int((now - then).total_seconds() * 1000), 0)
