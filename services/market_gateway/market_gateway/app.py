"""The gateway's use cases: quotes (with a small TTL cache), bars, quote streams, status.

Callers pass symbols in any accepted spelling; answers use canonical symbols, say where
the data came from (provider, cache status) and how old it is (age_ms).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import structlog

from market_gateway.domain import (
    BarSeries,
    CacheStatus,
    DomainError,
    ErrorReason,
    InvalidRequest,
    InvalidSymbol,
    ProviderStatus,
    ProviderUnavailable,
    Quote,
    QuoteBatch,
    StreamEvent,
    Symbol,
    SymbolError,
    Timeframe,
    Tunables,
    UnknownSymbol,
    parse_symbol,
    validate_quote,
)
from market_gateway.ports import Clock, MarketCalendar, QuoteSource
from market_gateway.provider_stats import ProviderStats
from market_gateway.quote_cache import QuoteCache
from market_gateway.streaming import StreamLog, StreamRegistry, decode_resume_token, resume_events
from market_gateway.telemetry import ACTIVE_STREAMS, STREAM_EVENTS
from observability.metrics import CACHE_HITS, CACHE_MISSES

MAX_SYMBOLS = 500
MAX_BARS = 5000
DEFAULT_BARS = 100
MAX_QUOTE_SKEW = timedelta(seconds=2)

log = structlog.get_logger(__name__)


class MarketGatewayApp:
    def __init__(
        self,
        source: QuoteSource,
        clock: Clock,
        calendar: MarketCalendar,
        tunables: Tunables,
        *,
        new_stream_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._source = source
        self._clock = clock
        self._calendar = calendar
        self._tunables = tunables
        self._new_stream_id = new_stream_id
        self._cache = QuoteCache()
        self._stats = ProviderStats(source.name, clock)
        self._streams = StreamRegistry()
        self._cache_hits = 0
        self._cache_misses = 0
        self.active_streams = 0
        self._shutting_down = False
        self.apply_tunables(tunables)

    @property
    def tunables(self) -> Tunables:
        return self._tunables

    def apply_tunables(self, tunables: Tunables) -> None:
        self._tunables = tunables
        self._stats.set_usable(self._source_enabled)

    def begin_shutdown(self) -> None:
        """Let open streams finish at their next tick."""
        self._shutting_down = True

    async def get_quotes(
        self, symbols: Sequence[str], max_age_ms: int = 0
    ) -> tuple[list[Quote], list[SymbolError]]:
        """One quote or one error per distinct symbol, in order of first mention."""
        if max_age_ms < 0:
            raise InvalidRequest("max_age_ms", "must be >= 0")
        wanted = _distinct(symbols)
        now, clock_now = self._clock.monotonic(), self._clock.now()
        served: dict[str, Quote] = {}
        misses: list[Symbol] = []
        for symbol, _ in wanted.values():
            cached = self._cache.get(symbol.canonical)
            if cached and self._fresh(now - cached[1], symbol, clock_now, max_age_ms):
                served[symbol.canonical] = replace(cached[0], cache_status=CacheStatus.HIT_LOCAL)
            else:
                misses.append(symbol)
        self._count_cache(hits=len(served), misses=len(misses))
        failed: dict[str, SymbolError] = {}
        if misses:
            fetched, failed = await self._fetch(misses, wanted)
            served.update(fetched)
        quotes: list[Quote] = []
        errors: list[SymbolError] = []
        for canonical in wanted:
            if canonical in served:
                quote = served[canonical]
                age_ms = max(int((clock_now - quote.time).total_seconds() * 1000), 0)
                quotes.append(replace(quote, age_ms=age_ms))
            else:
                errors.append(failed[canonical])
        return quotes, errors

    async def get_bars(
        self,
        symbol: str,
        timeframe: Timeframe,
        *,
        limit: int = 0,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> BarSeries:
        """Completed bars oldest first: the latest `limit` (default 100), or a window."""
        parsed = parse_symbol(symbol)
        if not 0 <= limit <= MAX_BARS:
            raise InvalidRequest("limit", f"must be 0..{MAX_BARS}")
        if start is not None and end is not None and start >= end:
            raise InvalidRequest("end_time", "must be after start_time")
        now = self._clock.now()
        until = min(end, now) if end is not None else now
        count = limit or (DEFAULT_BARS if start is None else MAX_BARS)
        self._require_source()
        bars = await self._stats.call(
            "get_bars", self._source.get_bars(parsed, timeframe, start, until, count)
        )
        age_ms = 0
        if bars:
            newest_end = bars[-1].start_time + timeframe.width
            age_ms = max(int((now - newest_end).total_seconds() * 1000), 0)
        return BarSeries(parsed.canonical, bars, self._source.name, CacheStatus.MISS, age_ms)

    async def stream_quotes(
        self, symbols: Sequence[str], resume_token: str = ""
    ) -> AsyncGenerator[StreamEvent, None]:
        """Quote events per symbol whenever its price changes, until cancelled or shutdown."""
        wanted = _distinct(symbols)
        point = decode_resume_token(resume_token) if resume_token else None
        stream = StreamLog(self._new_stream_id(), wanted)
        backlog = resume_events(stream, self._streams.get(point.stream_id), point) if point else []
        self._streams.add(stream)
        self.active_streams += 1
        ACTIVE_STREAMS.inc()
        log.info("quote_stream_opened", stream=stream.stream_id, symbols=len(wanted))
        try:
            for event in backlog:
                STREAM_EVENTS.labels(kind="gap" if event.gap else "replayed").inc()
                yield event
            first_poll = True
            while not self._shutting_down:
                if not first_poll:
                    await self._clock.sleep(self._tunables.stream_interval_seconds)
                    if self._shutting_down:
                        break
                quotes, errors = await self.get_quotes(list(wanted))
                unknown = [e for e in errors if e.reason is ErrorReason.UNKNOWN_SYMBOL]
                if first_poll and unknown:
                    raise UnknownSymbol(unknown[0].symbol)
                first_poll = False
                for quote in quotes:
                    if stream.changed(quote):
                        STREAM_EVENTS.labels(kind="quote").inc()
                        yield stream.quote_event(quote)
        finally:
            self.active_streams -= 1
            ACTIVE_STREAMS.dec()
            log.info("quote_stream_closed", stream=stream.stream_id)

    def provider_status(self) -> list[ProviderStatus]:
        return [self._stats.status(enabled=self._source_enabled)]

    def performance(self) -> dict[str, Any]:
        """The health endpoint's "performance" object (latencies in milliseconds)."""
        lookups = self._cache_hits + self._cache_misses
        mean_ms = self._stats.mean_latency_ms()
        return {
            "cache_hit_rate": self._cache_hits / lookups if lookups else 0.0,
            "total_cache_hits": self._cache_hits,
            "total_cache_misses": self._cache_misses,
            "avg_api_latency": mean_ms,
            "data_source_latencies": {self._stats.name: mean_ms},
            "active_streams": self.active_streams,
        }

    @property
    def _source_enabled(self) -> bool:
        return self._source.name not in self._tunables.disabled_providers

    def _require_source(self) -> None:
        if not self._source_enabled:
            raise ProviderUnavailable(f"provider {self._source.name} is disabled by configuration")

    def _fresh(self, age: float, symbol: Symbol, now: datetime, max_age_ms: int) -> bool:
        """Within the caller's max_age_ms if given, else younger than the TTL policy's."""
        if max_age_ms > 0:
            return age * 1000 <= max_age_ms
        ttl = self._tunables.quote_ttl_seconds
        if not self._calendar.is_open(now, symbol.asset_class):
            ttl *= self._tunables.off_hours_ttl_multiplier
        return age < ttl

    def _count_cache(self, *, hits: int, misses: int) -> None:
        self._cache_hits += hits
        self._cache_misses += misses
        if hits:
            CACHE_HITS.labels(cache="quotes").inc(hits)
        if misses:
            CACHE_MISSES.labels(cache="quotes").inc(misses)

    async def _fetch(
        self, symbols: list[Symbol], wanted: dict[str, tuple[Symbol, str]]
    ) -> tuple[dict[str, Quote], dict[str, SymbolError]]:
        fetched: dict[str, Quote] = {}
        failed: dict[str, SymbolError] = {}
        try:
            self._require_source()
            answer = await self._stats.call("get_quotes", self._source.get_quotes(symbols))
        except ProviderUnavailable as e:
            reason = ErrorReason.RATE_LIMITED if e.retry_after else ErrorReason.PROVIDER_UNAVAILABLE
            retry_ms = int((e.retry_after or 0) * 1000)
            for symbol in symbols:
                spelled = wanted[symbol.canonical][1]
                failed[symbol.canonical] = SymbolError(spelled, reason, str(e), retry_ms)
            return fetched, failed
        now, stored_at = self._clock.now(), self._clock.monotonic()
        for symbol in symbols:
            spelled = wanted[symbol.canonical][1]
            quote = answer.get(symbol.canonical)
            rejected = answer.rejected if isinstance(answer, QuoteBatch) else {}
            if quote is None and symbol.canonical in rejected:
                bad = str(rejected[symbol.canonical])
                failed[symbol.canonical] = SymbolError(spelled, ErrorReason.BAD_DATA, bad)
                continue
            if quote is None:
                message = f"{self._source.name} does not know {symbol.canonical}"
                failed[symbol.canonical] = SymbolError(spelled, ErrorReason.UNKNOWN_SYMBOL, message)
                continue
            try:
                validate_quote(quote, now, max_skew=MAX_QUOTE_SKEW)
            except DomainError as e:
                log.warning("bad_provider_quote", provider=quote.provider, error=str(e))
                failed[symbol.canonical] = SymbolError(spelled, ErrorReason.BAD_DATA, str(e))
                continue
            if quote.symbol != symbol.canonical:  # answers always use canonical symbols
                quote = replace(quote, symbol=symbol.canonical)
            fetched[symbol.canonical] = quote
            self._cache.put(quote, stored_at)
        return fetched, failed


def _distinct(symbols: Sequence[str]) -> dict[str, tuple[Symbol, str]]:
    """Canonical symbol -> (parsed, first spelling), in order of first mention."""
    if not symbols:
        raise InvalidRequest("symbols", "at least one symbol is required")
    if len(symbols) > MAX_SYMBOLS:
        raise InvalidRequest("symbols", f"at most {MAX_SYMBOLS} symbols per request")
    wanted: dict[str, tuple[Symbol, str]] = {}
    for index, raw in enumerate(symbols):
        try:
            symbol = parse_symbol(raw)
        except InvalidSymbol as e:
            raise InvalidSymbol(raw, e.reason, field=f"symbols[{index}]") from None
        wanted.setdefault(symbol.canonical, (symbol, raw))
    return wanted
