"""Streams: provider feed events (trades, quotes, bars, gaps, back-fills) and the events of
the gateway's own StreamQuotes (per-symbol sequences, gaps, back-filled windows)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from market_gateway.domain.values import Bar, Quote


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
class Gap:
    """Events from_sequence..to_sequence were lost; the gap event carries to_sequence."""

    from_sequence: int
    to_sequence: int
    reason: str


@dataclass(frozen=True, slots=True)
class BackfillWindow:
    """A provider stream was down and [start, end) was filled over REST; the next quote
    event of the symbol is current again."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class StreamEvent:
    symbol: str
    sequence: int
    resume_token: str
    quote: Quote | None = None
    gap: Gap | None = None
    backfilled: BackfillWindow | None = None
