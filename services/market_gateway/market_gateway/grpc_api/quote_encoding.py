"""GetQuotes responses from pre-encoded quotes, the hot path of the warm gateway.

A warm gateway serves the same ticks (from its streams or its cache) many times, each time
with its own cache status and age. protobuf offers no template or partial-encoding API, so
the encoder keeps, per symbol, two encodings of its own:
- the latest tick without the two per-request fields (its template), built once per tick;
- the last quote served, as the `quotes` field of a `GetQuotesResponse` (its fragment):
  the field's header, the template and the status and age fields after it (a later field
  wins, and the template has none of the two), made once per served copy. The app hands
  out the same copy of a streamed quote while the tick and its age in milliseconds are
  unchanged (app.served_quotes), so at thousands of requests a second most streamed
  quotes reuse a fragment; other quotes are new copies, encoded from their template.
A response is the fragments joined: serialized messages concatenate into their merge, and
repeated fields append. The header (tag and length, two varints) is written here because
protobuf's Python API exposes no encoder for it; the status and age fields come from
protobuf itself. `make bench-encoding` measures each case next to one message per quote.

The encoder forgets every symbol at once when it holds `max_symbols` (requests may name
arbitrary symbols). 0.0 and -0.0 compare equal but encode differently, so the key of a
tick with a zero price, bid, ask or volume also holds the sign of each of the four (crypto
ticks have no volume: without the signs they could get no template at all).
"""

from __future__ import annotations

import math
from datetime import datetime
from functools import lru_cache

from argo.marketdata.v1 import marketdata_pb2 as pb
from market_gateway.domain import Quote, SymbolError
from market_gateway.grpc_api.mapping import CACHE_STATUS_TO_PB, quote_to_pb, symbol_error_to_pb

# what a template holds but the symbol: price, bid, ask, volume, time, provider (and, when
# one of the four numbers is zero, their signs)
TickKey = tuple[float | datetime | str | tuple[float, ...], ...]
DEFAULT_MAX_SYMBOLS = 8192
_LENGTH_DELIMITED = 2  # the wire type of a message field


class _Encoded:
    """One symbol's latest tick (key, template) and last served quote (copy, fragment)."""

    __slots__ = ("fragment", "key", "served", "template")

    def __init__(self, key: TickKey, template: bytes) -> None:
        self.key = key
        self.template = template
        self.served: Quote | None = None  # held, so `is` cannot match a recycled id
        self.fragment = b""


class QuotesEncoder:
    """Encoded `GetQuotesResponse`s equal to one `mapping.quote_to_pb` per quote, faster."""

    def __init__(self, max_symbols: int = DEFAULT_MAX_SYMBOLS) -> None:
        if max_symbols < 1:
            raise ValueError(f"max_symbols must be >= 1, got {max_symbols}")
        self._symbols: dict[str, _Encoded] = {}
        self._max_symbols = max_symbols

    def __len__(self) -> int:
        return len(self._symbols)

    def response(self, quotes: list[Quote], errors: list[SymbolError]) -> bytes:
        """The encoded `GetQuotesResponse` (grpc_api.registration sends it as it is)."""
        fragments = []
        symbols = self._symbols
        for quote in quotes:
            encoded = symbols.get(quote.symbol)
            if encoded is None or encoded.served is not quote:
                encoded = self._encode(encoded, quote)
            fragments.append(encoded.fragment)
        if errors:
            failed = pb.GetQuotesResponse(errors=[symbol_error_to_pb(e) for e in errors])
            fragments.append(failed.SerializeToString())
        return b"".join(fragments)

    def _encode(self, encoded: _Encoded | None, quote: Quote) -> _Encoded:
        key: TickKey = (quote.price, quote.bid, quote.ask, quote.volume, quote.time,
                        quote.provider)  # fmt: skip
        if 0.0 in key:  # == matches -0.0 too
            key = (*key, _signs(quote))
        if encoded is None or encoded.key != key:
            encoded = self._new_tick(key, quote)
        body = encoded.template + _served_fields(CACHE_STATUS_TO_PB[quote.cache_status],
                                                 quote.age_ms)  # fmt: skip
        length = len(body)
        header = _QUOTES_TAG + (_SHORT[length] if length < len(_SHORT) else _varint(length))
        encoded.served, encoded.fragment = quote, header + body
        return encoded

    def _new_tick(self, key: TickKey, quote: Quote) -> _Encoded:
        message = quote_to_pb(quote)
        message.ClearField("cache_status")  # per request: a template's would win the merge
        message.ClearField("age_ms")
        if quote.symbol not in self._symbols and len(self._symbols) >= self._max_symbols:
            self._symbols.clear()
        encoded = self._symbols[quote.symbol] = _Encoded(key, message.SerializeToString())
        return encoded


def _signs(quote: Quote) -> tuple[float, ...]:
    """The sign (1.0 or -1.0) of each of the tick's numbers, -0.0's included."""
    sign = math.copysign
    return (
        sign(1.0, quote.price),
        sign(1.0, quote.bid),
        sign(1.0, quote.ask),
        sign(1.0, quote.volume),
    )


@lru_cache(maxsize=4096)
def _served_fields(status: pb.CacheStatus.ValueType, age_ms: int) -> bytes:
    """A quote's cache_status and age_ms fields, encoded (ages repeat: cached)."""
    return pb.Quote(cache_status=status, age_ms=age_ms).SerializeToString()


def _varint(value: int) -> bytes:
    """A non-negative int as a protobuf varint: 7 bits a byte, low bits first."""
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


_SHORT = [bytes((n,)) for n in range(0x80)]  # the one-byte varints: a quote's usual length
_QUOTES_TAG = _varint(
    pb.GetQuotesResponse.DESCRIPTOR.fields_by_name["quotes"].number << 3 | _LENGTH_DELIMITED
)
