"""Request limits and the parsing every use case starts with."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import lru_cache

from market_gateway.domain import (
    MAX_SYMBOL_LENGTH,
    InvalidRequest,
    InvalidSymbol,
    Symbol,
    parse_symbol,
)

MAX_SYMBOLS = 1000
# Per-list caches keep only lists this short, of strings no longer than a symbol can be:
# what a client sends is kept only if it is small (the hot path's lists are).
MAX_CACHED_LIST = 100
_parse_cached = lru_cache(maxsize=8192)(parse_symbol)  # pure; the same symbols every cycle
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


def parse_symbol_cached(raw: str) -> Symbol:
    """`parse_symbol`, cached for strings no longer than a symbol (padded or oversize
    strings are parsed each time, never kept)."""
    return parse_symbol(raw) if len(raw) > MAX_SYMBOL_LENGTH else _parse_cached(raw)


def cacheable(symbols: Sequence[str]) -> bool:
    """Whether a per-list cache may keep this list (see MAX_CACHED_LIST)."""
    return len(symbols) <= MAX_CACHED_LIST and max(map(len, symbols), default=0) <= (
        MAX_SYMBOL_LENGTH
    )


def distinct_request(symbols: Sequence[str]) -> Mapping[str, tuple[Symbol, str]]:
    """`distinct`, cached per list when the list is cacheable: the same lists come every
    cycle. The mapping may be shared between calls: read it, never change it."""
    return _distinct_cached(tuple(symbols)) if cacheable(symbols) else distinct(symbols)


@lru_cache(maxsize=256)
def _distinct_cached(symbols: tuple[str, ...]) -> Mapping[str, tuple[Symbol, str]]:
    return distinct(symbols)  # an invalid list raises: lru_cache keeps no exceptions


def check_bars_request(limit: int, start: datetime | None, end: datetime | None) -> None:
    if limit < 0:
        raise InvalidRequest("limit", "must be >= 0")
    if limit > MAX_BARS:
        raise InvalidRequest("limit", f"must be at most {MAX_BARS}")
    if start is not None and end is not None and start >= end:
        raise InvalidRequest("end_time", "must be after start_time")


def age_ms(now: datetime, then: datetime) -> int:
    return max(int((now - then).total_seconds() * 1000), 0)
