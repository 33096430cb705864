"""GetQuotes responses built from per-tick templates, the hot path of the warm gateway.

A warm gateway serves the same ticks (from its streams or its cache) many times, each time
with its own cache status and age. Converting a tick (strings, floats, a datetime into a
Timestamp) costs about 1.9 µs per quote; merging the tick's pre-serialized fields into a
new message and setting the two per-request fields costs about 0.9 µs. protobuf offers no
template or partial-encoding API, so the encoder keeps the serialized ticks itself, keyed
by every field they hold, and forgets them all when it holds `max_templates` (a new tick
per symbol replaces the last one, so a bound that fits every symbol's latest tick keeps
the hit rate high; clearing at once keeps the bookkeeping to a dict lookup).
"""

from __future__ import annotations

from datetime import datetime

from argo.marketdata.v1 import marketdata_pb2 as pb
from market_gateway.domain import Quote, SymbolError
from market_gateway.grpc_api.mapping import CACHE_STATUS_TO_PB, symbol_error_to_pb, timestamp_to_pb

TickKey = tuple[str, float, float, float, float, datetime, str]
DEFAULT_MAX_TEMPLATES = 8192


class QuotesEncoder:
    """`GetQuotesResponse` messages equal to mapping.quotes_response_to_pb's, built faster."""

    def __init__(self, max_templates: int = DEFAULT_MAX_TEMPLATES) -> None:
        self._templates: dict[TickKey, bytes] = {}
        self._max_templates = max_templates

    def __len__(self) -> int:
        return len(self._templates)

    def response(self, quotes: list[Quote], errors: list[SymbolError]) -> pb.GetQuotesResponse:
        response = pb.GetQuotesResponse()
        if errors:
            response.errors.extend(symbol_error_to_pb(e) for e in errors)
        add = response.quotes.add
        templates = self._templates
        for quote in quotes:
            key = (quote.symbol, quote.price, quote.bid, quote.ask, quote.volume, quote.time,
                   quote.provider)  # fmt: skip
            template = templates.get(key)
            if template is None:
                template = self._remember(key, quote)
            status = CACHE_STATUS_TO_PB[quote.cache_status]
            add(cache_status=status, age_ms=quote.age_ms).MergeFromString(template)
        return response

    def _remember(self, key: TickKey, quote: Quote) -> bytes:
        if len(self._templates) >= self._max_templates:
            self._templates.clear()
        template = pb.Quote(
            symbol=quote.symbol,
            price=quote.price,
            bid=quote.bid,
            ask=quote.ask,
            volume=quote.volume,
            time=timestamp_to_pb(quote.time),
            provider=quote.provider,
        ).SerializeToString()
        self._templates[key] = template
        return template
