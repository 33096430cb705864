"""Market-data value objects, symbol normalisation and the gateway's error tree.

Pure: standard library only, no I/O, no logging. Symbols are normalised once, here, so
every other layer sees canonical text ("AAPL", "BRK.B", "BTC-USD").
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

MAX_SYMBOL_LENGTH = 32
# Longest first, so "BTCUSDT" splits as BTC + USDT rather than BTCUSD + T.
QUOTE_CURRENCIES = ("USDT", "USDC", "USD", "EUR")
_STOCK = re.compile(r"([A-Z]{1,5})(?:[.-]([A-Z]))?")
_CRYPTO_BASE = re.compile(r"[A-Z0-9]{2,10}")


class DomainError(Exception):
    """Base of every error the gateway's use cases raise on purpose."""


class InvalidSymbol(DomainError):
    """The text is not a ticker or crypto pair in any accepted spelling."""

    def __init__(self, symbol: str, reason: str, *, field: str = "symbol") -> None:
        super().__init__(f"invalid symbol {symbol!r}: {reason}")
        self.symbol = symbol
        self.reason = reason
        self.field = field


class InvalidRequest(DomainError):
    """A request argument is out of range; `field` names it (e.g. "limit")."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class InvalidResumeToken(InvalidRequest):
    """A stream resume token is not one this gateway issued."""

    def __init__(self, reason: str) -> None:
        super().__init__("resume_token", reason)


class UnknownSymbol(DomainError):
    """The symbol is well formed but no provider knows it."""

    def __init__(self, symbol: str) -> None:
        super().__init__(f"no provider knows {symbol!r}")
        self.symbol = symbol


class ProviderUnavailable(DomainError):
    """No provider could answer; `retry_after` (seconds) is set when a quota is the cause.

    Adapters raise it (or a subclass) once per failed call, classified: `provider` names
    the provider, `retryable` says whether trying the same call again may succeed (read by
    `resilience.Retry`). Messages never contain credentials or request URLs.
    """

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        provider: str = "",
        retryable: bool = True,
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.provider = provider
        self.retryable = retryable

    @property
    def is_retryable(self) -> bool:
        return self.retryable


class RateLimited(ProviderUnavailable):
    """The provider's quota is spent: come back after `retry_after` seconds."""

    def __init__(self, message: str, *, retry_after: float, provider: str = "") -> None:
        super().__init__(
            message, retry_after=max(retry_after, 0.001), provider=provider, retryable=True
        )
        self.retry_after: float = max(retry_after, 0.001)


class AuthFailed(ProviderUnavailable):
    """The provider rejected the credentials or the plan does not cover the request."""

    def __init__(self, message: str, *, provider: str = "") -> None:
        super().__init__(message, provider=provider, retryable=False)


class BadProviderData(ProviderUnavailable):
    """A provider answered with data that failed validation (a body that is not data, a
    non-finite or non-positive price, a time in the future...). Retryable only when the
    body was cut short or unreadable, not when its content is wrong."""

    def __init__(self, message: str, *, provider: str = "", retryable: bool = False) -> None:
        super().__init__(message, provider=provider, retryable=retryable)


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


class CacheStatus(Enum):
    MISS = "miss"
    HIT_LOCAL = "hit_local"
    HIT_SHARED = "hit_shared"
    STALE = "stale"
    STREAM = "stream"


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


class UpdateKind(Enum):
    TRADE = "trade"
    QUOTE = "quote"  # a change of the best bid/ask
    BAR = "bar"


@dataclass(frozen=True, slots=True)
class QuoteUpdate:
    """A streamed trade, best bid/ask change or bar, folded into the symbol's latest quote
    (price = last trade, else the bid/ask midpoint)."""

    kind: UpdateKind
    quote: Quote
    size: float = 0.0  # trade size for TRADE
    bar: Bar | None = None  # for BAR


@dataclass(frozen=True, slots=True)
class FeedGap:
    """A provider stream was down from `start` until it was subscribed again at `end`."""

    symbols: tuple[str, ...]
    start: datetime
    end: datetime
    reason: str
    provider: str


@dataclass(frozen=True, slots=True)
class Backfilled:
    """What REST returned for one symbol's gap: 1-minute bars from `start` (its last
    streamed event) to `end`, and its latest quote."""

    symbol: str
    start: datetime
    end: datetime
    bars: tuple[Bar, ...]
    quote: Quote | None
    provider: str


FeedEvent = QuoteUpdate | FeedGap | Backfilled


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
class Gap:
    """Events from_sequence..to_sequence were lost; the gap event carries to_sequence."""

    from_sequence: int
    to_sequence: int
    reason: str


@dataclass(frozen=True, slots=True)
class StreamEvent:
    symbol: str
    sequence: int
    resume_token: str
    quote: Quote | None = None
    gap: Gap | None = None


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


@dataclass(frozen=True, slots=True)
class Tunables:
    """Operator knobs, hot-reloaded from the config file (parsed in config.py)."""

    quote_ttl_seconds: float = 1.0
    off_hours_ttl_multiplier: float = 3.0
    stream_interval_seconds: float = 1.0
    synthetic_volatility_scale: float = 1.0
    disabled_providers: frozenset[str] = field(default_factory=frozenset)


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
