"""Per-symbol parameters of the synthetic market: starting price, volatility, liquidity.

Well-known symbols get realistic figures; any other valid symbol gets figures derived from
a stable hash of its canonical text, so every replica agrees without coordination.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from market_gateway.domain import AssetClass, Symbol

# ticker: (start price USD, annual volatility, shares per day, spread in basis points)
_STOCKS: dict[str, tuple[float, float, float, float]] = {
    "AAPL": (230.0, 0.26, 55e6, 1.0),
    "MSFT": (420.0, 0.24, 20e6, 1.0),
    "NVDA": (140.0, 0.50, 250e6, 1.0),
    "TSLA": (250.0, 0.60, 90e6, 1.5),
    "AMZN": (200.0, 0.32, 40e6, 1.0),
    "GOOGL": (170.0, 0.30, 25e6, 1.0),
    "META": (560.0, 0.36, 15e6, 1.5),
    "AMD": (140.0, 0.50, 45e6, 1.5),
    "SPY": (590.0, 0.15, 50e6, 0.5),
    "QQQ": (510.0, 0.19, 35e6, 0.5),
}
# crypto base: (start price USD, annual volatility, coins per day, spread in basis points)
_CRYPTO: dict[str, tuple[float, float, float, float]] = {
    "BTC": (90_000.0, 0.55, 25_000.0, 1.0),
    "ETH": (3_200.0, 0.70, 350_000.0, 1.5),
    "SOL": (190.0, 0.90, 3e6, 3.0),
    "XRP": (2.3, 0.95, 1e9, 4.0),
    "DOGE": (0.38, 1.0, 3e9, 5.0),
    "ADA": (0.9, 0.95, 8e8, 5.0),
}
_STABLE_QUOTES = {"USD": 1.0, "USDT": 1.0, "USDC": 1.0, "EUR": 0.95}
_TRADE_NOTIONAL_USD = 15_000.0


@dataclass(frozen=True, slots=True)
class SymbolProfile:
    symbol: Symbol
    start_price: float
    annual_volatility: float
    daily_volume: float
    spread_bps: float

    @property
    def typical_trade_size(self) -> float:
        return _TRADE_NOTIONAL_USD / self.start_price


def stable_hash(text: str) -> int:
    """A 32-bit hash that is the same in every process (unlike hash())."""
    return zlib.crc32(text.encode("utf-8"))


def profile_for(symbol: Symbol) -> SymbolProfile:
    if symbol.asset_class is AssetClass.STOCK:
        figures = _STOCKS.get(symbol.canonical) or _derived_stock(stable_hash(symbol.canonical))
        return SymbolProfile(symbol, *figures)
    base, _, quote = symbol.canonical.partition("-")
    price, volatility, volume, spread = _CRYPTO.get(base) or _derived_crypto(stable_hash(base))
    return SymbolProfile(symbol, price * _STABLE_QUOTES.get(quote, 1.0), volatility, volume, spread)


def _fraction(hashed: int, salt: int) -> float:
    """A number in [0, 1) from one hash, different for each salt."""
    mixed = (hashed * 2654435761 + salt * 40503) & 0xFFFFFFFF
    return zlib.crc32(mixed.to_bytes(4, "big")) / 2**32


def _derived_stock(hashed: int) -> tuple[float, float, float, float]:
    price = round(15.0 + 485.0 * _fraction(hashed, 1), 2)
    volatility = 0.20 + 0.40 * _fraction(hashed, 2)
    volume = 10 ** (6.0 + 1.5 * _fraction(hashed, 3))
    spread = 1.0 + 9.0 * _fraction(hashed, 4)
    return price, volatility, volume, spread


def _derived_crypto(hashed: int) -> tuple[float, float, float, float]:
    price = 10 ** (-2.0 + 5.0 * _fraction(hashed, 1))
    volatility = 0.70 + 0.60 * _fraction(hashed, 2)
    volume = 5e6 / price * (1.0 + 9.0 * _fraction(hashed, 3))
    spread = 2.0 + 18.0 * _fraction(hashed, 4)
    return price, volatility, volume, spread
