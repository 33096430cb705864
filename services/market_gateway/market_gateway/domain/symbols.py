"""Symbols and their normalisation: done once, here, so every other layer sees canonical
text ("AAPL", "BRK.B", "BTC-USD")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from market_gateway.domain.errors import InvalidSymbol

MAX_SYMBOL_LENGTH = 32
# Longest first, so "BTCUSDT" splits as BTC + USDT rather than BTCUSD + T.
QUOTE_CURRENCIES = ("USDT", "USDC", "USD", "EUR")
_STOCK = re.compile(r"([A-Z]{1,5})(?:[.-]([A-Z]))?")
_CRYPTO_BASE = re.compile(r"[A-Z0-9]{2,10}")


class AssetClass(Enum):
    STOCK = "stock"
    CRYPTO = "crypto"


@dataclass(frozen=True, slots=True)
class Symbol:
    """A canonical symbol: "AAPL", "BRK.B" (stocks) or "BTC-USD" (crypto pairs)."""

    canonical: str
    asset_class: AssetClass

    def __str__(self) -> str:
        return self.canonical


def parse_symbol(raw: str) -> Symbol:
    """Normalise any accepted spelling; raise InvalidSymbol for anything else."""
    text = raw.strip().upper()
    if not text:
        raise InvalidSymbol(raw, "must not be empty")
    if len(text) > MAX_SYMBOL_LENGTH:
        raise InvalidSymbol(raw, f"must be at most {MAX_SYMBOL_LENGTH} characters")
    if text.startswith("X:"):  # Polygon's crypto prefix: X:BTCUSD
        pair = _crypto_pair(text[2:], allow_concatenated=True)
        if pair is None:
            raise InvalidSymbol(raw, "expected a crypto pair after 'X:', e.g. X:BTCUSD")
        return pair
    pair = _crypto_pair(text, allow_concatenated=False)
    if pair is not None:
        return pair
    stock = _STOCK.fullmatch(text)
    if stock is not None:
        ticker, share_class = stock.groups()
        canonical = f"{ticker}.{share_class}" if share_class else ticker
        return Symbol(canonical, AssetClass.STOCK)
    pair = _crypto_pair(text, allow_concatenated=True)  # "BTCUSD": too long for a ticker
    if pair is not None:
        return pair
    raise InvalidSymbol(raw, "expected a ticker like AAPL or a crypto pair like BTC-USD")


def _crypto_pair(text: str, *, allow_concatenated: bool) -> Symbol | None:
    for separator in ("-", "/"):
        if separator in text:
            base, _, quote = text.partition(separator)
            return _pair(base, quote)
    if allow_concatenated:
        for quote in QUOTE_CURRENCIES:
            if text.endswith(quote):
                return _pair(text[: -len(quote)], quote)
    return None


def _pair(base: str, quote: str) -> Symbol | None:
    if quote not in QUOTE_CURRENCIES or base == quote or not _CRYPTO_BASE.fullmatch(base):
        return None
    return Symbol(f"{base}-{quote}", AssetClass.CRYPTO)
