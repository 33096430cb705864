"""Symbol spelling: tickers ("AAPL", "BRK.B") and crypto pairs in their usual spellings
("BTC-USD", "btc/usd", "X:BTCUSD", "BTCUSD"), canonicalised the way the gateway answers
("AAPL", "BTC-USD")."""

from __future__ import annotations

import re
from collections.abc import Iterable

from signal_engine.domain.errors import InvalidSymbol

MAX_SYMBOL_LENGTH = 32
_QUOTE_CURRENCIES = ("USDT", "USDC", "USD", "EUR", "GBP", "BTC", "ETH")
# Bases recognised when a pair is written without a separator ("BTCUSD"); with a
# separator any base is accepted.
_KNOWN_CRYPTO_BASES = frozenset(
    "BTC ETH SOL DOGE LTC XRP ADA AVAX DOT LINK BCH UNI SHIB MATIC XLM ATOM".split()
)
_TICKER = re.compile(r"[A-Z][A-Z0-9]{0,9}(?:[.\-][A-Z0-9]{1,5})?")
_PAIR = re.compile(r"([A-Z0-9]{2,10})[-/]([A-Z]{3,4})")


def _split_joined_pair(text: str) -> tuple[str, str] | None:
    for quote in _QUOTE_CURRENCIES:
        base = text.removesuffix(quote)
        if base != text and 2 <= len(base) <= 10 and base.isalnum():
            return base, quote
    return None


def canonical_symbol(raw: str) -> str:
    """The canonical spelling of `raw`; raise InvalidSymbol when it is neither form."""
    text = raw.strip().upper()
    if not 1 <= len(text) <= MAX_SYMBOL_LENGTH:
        raise InvalidSymbol(f"must be 1..{MAX_SYMBOL_LENGTH} characters")
    if text.startswith("X:"):
        pair = _split_joined_pair(text[2:])
        if pair is None:
            raise InvalidSymbol("a Polygon crypto symbol looks like X:BTCUSD")
        return f"{pair[0]}-{pair[1]}"
    if (match := _PAIR.fullmatch(text)) and match.group(2) in _QUOTE_CURRENCIES:
        return f"{match.group(1)}-{match.group(2)}"
    pair = _split_joined_pair(text)
    if pair is not None and pair[0] in _KNOWN_CRYPTO_BASES:
        return f"{pair[0]}-{pair[1]}"
    if _TICKER.fullmatch(text):
        return text
    raise InvalidSymbol("must be a ticker like AAPL or BRK.B, or a crypto pair like BTC-USD")


def canonical_symbols(raw: Iterable[str]) -> list[str]:
    """Canonical spellings, first mention kept, duplicates dropped."""
    seen: dict[str, None] = {}
    for symbol in raw:
        seen.setdefault(canonical_symbol(symbol), None)
    return list(seen)


def is_crypto(symbol: str) -> bool:
    """True for a canonical crypto pair ("BTC-USD"); crypto markets never close."""
    base, dash, quote = symbol.rpartition("-")
    return bool(dash and base) and quote in _QUOTE_CURRENCIES
