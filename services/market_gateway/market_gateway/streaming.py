"""Quote-stream bookkeeping: per-symbol sequences, resume tokens and replay.

Each stream (one StreamQuotes call) numbers events per symbol from 1. It remembers its last
`REPLAY_EVENTS` events, and the gateway remembers the last `RETAINED_STREAMS` streams, so a
client that reconnects with the resume token of the last event it received gets exactly the
events it missed (those in flight when it dropped). What the gateway no longer holds is
reported as one `Gap` event, which takes the last missing sequence number.

A resume token is urlsafe base64 of JSON {"stream": id, "seq": {symbol: last sequence}}.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import OrderedDict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from market_gateway.domain import BackfillWindow, Gap, InvalidResumeToken, Quote, StreamEvent

REPLAY_EVENTS = 256
RETAINED_STREAMS = 64
_MAX_TOKEN_CHARS = 64_000


@dataclass(frozen=True, slots=True)
class ResumePoint:
    stream_id: str
    sequences: dict[str, int]


def encode_resume_token(stream_id: str, sequences: Mapping[str, int]) -> str:
    payload = json.dumps({"stream": stream_id, "seq": dict(sequences)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_resume_token(token: str) -> ResumePoint:
    """Parse a token; raise InvalidResumeToken when it is not one we issued."""
    if len(token) > _MAX_TOKEN_CHARS:
        raise InvalidResumeToken("is too long")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError, RecursionError) as e:
        raise InvalidResumeToken(f"is malformed ({type(e).__name__})") from None
    if not isinstance(payload, dict):
        raise InvalidResumeToken("is malformed (not an object)")
    stream_id, sequences = payload.get("stream"), payload.get("seq")
    if not isinstance(stream_id, str) or not isinstance(sequences, dict):
        raise InvalidResumeToken("is malformed (missing stream or seq)")
    for symbol, sequence in sequences.items():
        if type(sequence) is not int or sequence < 0:
            raise InvalidResumeToken(f"has a bad sequence for {symbol!r}")
    return ResumePoint(stream_id, sequences)


class StreamLog:
    """One stream's sequence numbers, last prices and recent events."""

    def __init__(self, stream_id: str, symbols: Iterable[str]) -> None:
        self.stream_id = stream_id
        self.symbols = tuple(symbols)
        self._sequences: dict[str, int] = {}
        self._last_price: dict[str, float] = {}
        self._recent: deque[StreamEvent] = deque(maxlen=REPLAY_EVENTS)

    def last_sequence(self, symbol: str) -> int:
        return self._sequences.get(symbol, 0)

    def changed(self, quote: Quote) -> bool:
        return self._last_price.get(quote.symbol) != quote.price

    def quote_event(self, quote: Quote) -> StreamEvent:
        self._last_price[quote.symbol] = quote.price
        return self._record(quote.symbol, self.last_sequence(quote.symbol) + 1, quote=quote)

    def gap_event(
        self, symbol: str, first_missing: int, last_missing: int, why: str
    ) -> StreamEvent:
        self._last_price.pop(symbol, None)  # the next quote is sent whatever its price
        gap = Gap(first_missing, last_missing, why)
        return self._record(symbol, last_missing, gap=gap)

    def backfilled_event(self, symbol: str, start: datetime, end: datetime) -> StreamEvent:
        """A provider feed's gap was filled over REST; the next quote is sent whatever its
        price."""
        self._last_price.pop(symbol, None)
        window = BackfillWindow(start, end)
        return self._record(symbol, self.last_sequence(symbol) + 1, backfilled=window)

    def replay_event(self, event: StreamEvent) -> StreamEvent:
        """Re-issue an event of an earlier stream with this stream's resume token."""
        if event.quote is not None:
            self._last_price[event.symbol] = event.quote.price
        else:
            self._last_price.pop(event.symbol, None)
        return self._record(
            event.symbol,
            event.sequence,
            quote=event.quote,
            gap=event.gap,
            backfilled=event.backfilled,
        )

    def continue_from(self, symbol: str, sequence: int, last_price: float | None = None) -> None:
        self._sequences[symbol] = sequence
        if last_price is not None:
            self._last_price[symbol] = last_price

    def last_price(self, symbol: str) -> float | None:
        return self._last_price.get(symbol)

    def first_held(self, symbol: str) -> int:
        """The oldest sequence of `symbol` still held for replay (next one if none)."""
        for event in self._recent:
            if event.symbol == symbol:
                return event.sequence
        return self.last_sequence(symbol) + 1

    def events_after(self, positions: Mapping[str, int]) -> list[StreamEvent]:
        """Held events of the given symbols after their positions, in emission order."""
        return [
            event
            for event in self._recent
            if event.symbol in positions and event.sequence > positions[event.symbol]
        ]

    def _record(
        self,
        symbol: str,
        sequence: int,
        *,
        quote: Quote | None = None,
        gap: Gap | None = None,
        backfilled: BackfillWindow | None = None,
    ) -> StreamEvent:
        self._sequences[symbol] = sequence
        token = encode_resume_token(self.stream_id, self._sequences)
        event = StreamEvent(symbol, sequence, token, quote=quote, gap=gap, backfilled=backfilled)
        self._recent.append(event)
        return event


class StreamRegistry:
    """The most recent streams, kept so that a reconnecting client can resume."""

    def __init__(self, capacity: int = RETAINED_STREAMS) -> None:
        self._capacity = capacity
        self._logs: OrderedDict[str, StreamLog] = OrderedDict()

    def add(self, log: StreamLog) -> None:
        self._logs[log.stream_id] = log
        while len(self._logs) > self._capacity:
            self._logs.popitem(last=False)

    def get(self, stream_id: str) -> StreamLog | None:
        return self._logs.get(stream_id)


def resume_events(new: StreamLog, old: StreamLog | None, point: ResumePoint) -> list[StreamEvent]:
    """Events that bring a resumed stream up to date (gaps first, then replays in their
    original order); the new stream's sequences are set to continue after them."""
    events: list[StreamEvent] = []
    replay_after: dict[str, int] = {}
    for symbol in new.symbols:
        if old is not None and symbol in old.symbols:
            # a symbol missing from the token had no event the client saw yet
            after = point.sequences.get(symbol, 0)
            last_sent = old.last_sequence(symbol)
            if after >= last_sent:  # the client saw everything; numbering continues after it
                new.continue_from(
                    symbol, after, old.last_price(symbol) if after == last_sent else None
                )
                continue
            new.continue_from(symbol, after)
            first_held = old.first_held(symbol)
            if first_held > after + 1:
                why = f"events {after + 1}..{first_held - 1} are no longer held for replay"
                events.append(new.gap_event(symbol, after + 1, first_held - 1, why))
            replay_after[symbol] = after
        elif symbol in point.sequences:
            after = point.sequences[symbol]
            new.continue_from(symbol, after)
            why = "resume state is not held by this gateway (restarted or another replica)"
            events.append(new.gap_event(symbol, after + 1, after + 1, why))
    if old is not None and replay_after:
        missed = old.events_after(replay_after)
        events.extend(new.replay_event(event) for event in missed)
    return events
