"""Market-data value objects: quotes, bars, indicators, sentiment, provider status."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from market_gateway.domain.errors import BadProviderData


class CacheStatus(Enum):
    MISS = "miss"
    HIT_LOCAL = "hit_local"
    HIT_SHARED = "hit_shared"
    STALE = "stale"  # served while a refresh runs (stale-while-revalidate)
    STREAM = "stream"
    STALE_ON_ERROR = "stale_on_error"  # served because no provider answered

    # Members are singletons compared by identity, so identity's C-level hash is consistent;
    # Enum's own (a Python-level hash of the name) showed in GetQuotes' warm-path profile,
    # which looks statuses up in dicts several times per quote.
    __hash__ = object.__hash__


class Timeframe(Enum):
    """Bar width; the value is the width in seconds."""

    ONE_MINUTE = 60
    FIVE_MINUTES = 300
    FIFTEEN_MINUTES = 900
    ONE_HOUR = 3600
    ONE_DAY = 86400

    @property
    def width(self) -> timedelta:
        return timedelta(seconds=self.value)


class ErrorReason(Enum):
    UNKNOWN_SYMBOL = "unknown_symbol"
    PROVIDER_UNAVAILABLE = "provider_unavailable"
    RATE_LIMITED = "rate_limited"
    BAD_DATA = "bad_data"


class BreakerState(Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"
    DISABLED = "disabled"


@dataclass(frozen=True, slots=True)
class Quote:
    """The latest known price of one symbol; prices in the quote currency (USD)."""

    symbol: str
    price: float
    bid: float
    ask: float
    volume: float
    time: datetime
    provider: str
    cache_status: CacheStatus = CacheStatus.MISS
    age_ms: int = 0


@dataclass(frozen=True, slots=True)
class Bar:
    start_time: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float
    vwap: float = 0.0
    trade_count: int = 0


@dataclass(frozen=True, slots=True)
class BarSeries:
    symbol: str
    bars: list[Bar]
    provider: str
    cache_status: CacheStatus
    age_ms: int


@dataclass(frozen=True, slots=True)
class Trade:
    """One executed trade (last sale) of a symbol."""

    symbol: str
    price: float
    size: float
    time: datetime
    provider: str


class QuoteBatch(dict[str, Quote]):
    """`QuoteSource.get_quotes`' answer: quotes by canonical symbol. Symbols whose data
    failed validation are not among the quotes but in `rejected` (canonical -> error);
    symbols the provider does not know are in neither."""

    def __init__(
        self,
        quotes: Mapping[str, Quote] | None = None,
        rejected: Mapping[str, BadProviderData] | None = None,
    ) -> None:
        super().__init__(quotes or {})
        self.rejected: dict[str, BadProviderData] = dict(rejected or {})


@dataclass(frozen=True, slots=True)
class IndicatorPoint:
    """One value of a technical indicator; MACD also has its signal line and histogram."""

    time: datetime
    value: float
    signal: float | None = None
    histogram: float | None = None


@dataclass(frozen=True, slots=True)
class IndicatorSeries:
    """A provider-computed indicator ("rsi", "macd", "sma", ...), oldest point first."""

    symbol: str
    name: str
    points: tuple[IndicatorPoint, ...]
    provider: str


@dataclass(frozen=True, slots=True)
class TokenUsage:
    """Tokens one AI call used; `completion_tokens` includes reasoning tokens."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0
    cached_prompt_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class Sentiment:
    """An AI provider's verdict on a symbol: score -1 (bearish) .. 1 (bullish)."""

    symbol: str
    score: float
    confidence: float  # 0..1
    rationale: str
    provider: str
    model: str
    time: datetime
    citations: tuple[str, ...] = ()
    usage: TokenUsage = TokenUsage()
    cost_usd: float = 0.0
    cache_status: CacheStatus = CacheStatus.MISS
    age_ms: int = 0


@dataclass(frozen=True, slots=True)
class SymbolError:
    """Why one symbol of a batch could not be served; `symbol` as the caller spelled it."""

    symbol: str
    reason: ErrorReason
    message: str
    retry_after_ms: int = 0

    @property
    def retryable(self) -> bool:
        return self.reason is not ErrorReason.UNKNOWN_SYMBOL


@dataclass(frozen=True, slots=True)
class TradingSession:
    """One regular session [open, close) of an exchange, in UTC."""

    open: datetime
    close: datetime


@dataclass(frozen=True, slots=True)
class ProviderStatus:
    name: str
    enabled: bool
    breaker_state: BreakerState
    limiter_remaining: float  # -1 when unlimited
    latency_p50_ms: float
    latency_p99_ms: float
    calls_total: int
    errors_total: int
    cost_usd_total: float
    last_error: str = ""
    paused_until: datetime | None = None
    demoted_until: datetime | None = None


def validate_quote(quote: Quote, now: datetime, *, max_skew: timedelta) -> Quote:
    """Return the quote if it is usable; raise BadProviderData naming what is wrong."""
    where = f"{quote.provider} quote for {quote.symbol}"
    if not (math.isfinite(quote.price) and quote.price > 0):
        raise BadProviderData(f"{where}: price must be finite and > 0, got {quote.price!r}")
    for name, value in (("bid", quote.bid), ("ask", quote.ask), ("volume", quote.volume)):
        if not (math.isfinite(value) and value >= 0):
            raise BadProviderData(f"{where}: {name} must be finite and >= 0, got {value!r}")
    if quote.time.tzinfo is None:
        raise BadProviderData(f"{where}: time has no UTC offset")
    if quote.time > now + max_skew:
        raise BadProviderData(f"{where}: time {quote.time.isoformat()} is in the future")
    return quote
