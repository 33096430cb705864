"""Resume tokens and replay planning of quote streams (no I/O)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from market_gateway.domain import InvalidResumeToken, Quote
from market_gateway.streaming import (
    REPLAY_EVENTS,
    ResumePoint,
    StreamLog,
    decode_resume_token,
    encode_resume_token,
    resume_events,
)

NOW = datetime(2026, 11, 17, 15, 30, tzinfo=UTC)


def quote(symbol: str, price: float) -> Quote:
    return Quote(symbol, price, price - 0.01, price + 0.01, 1.0, NOW, "fake")


def test_token_round_trips_stream_and_sequences() -> None:
    token = encode_resume_token("s1", {"AAPL": 3, "BTC-USD": 9})
    assert decode_resume_token(token) == ResumePoint("s1", {"AAPL": 3, "BTC-USD": 9})
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@pytest.mark.parametrize(
    "token",
    [
        "%%%",
        base64.urlsafe_b64encode(b"not json").decode(),
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
        base64.urlsafe_b64encode(b'{"stream": "s"}').decode(),
        base64.urlsafe_b64encode(b'{"stream": "s", "seq": {"AAPL": -1}}').decode(),
        base64.urlsafe_b64encode(b'{"stream": "s", "seq": {"AAPL": true}}').decode(),
        base64.urlsafe_b64encode(b'{"stream": 5, "seq": {}}').decode(),
        base64.urlsafe_b64encode(b"[" * 5000).decode(),
        "A" * 70_000,
    ],
)
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(InvalidResumeToken) as caught:
        decode_resume_token(token)
    assert caught.value.field == "resume_token"


@given(st.text(max_size=200))
def test_any_text_decodes_or_raises_invalid_resume_token(token: str) -> None:
    try:
        point = decode_resume_token(token)
    except InvalidResumeToken:
        return
    assert isinstance(point.stream_id, str)


def test_log_numbers_each_symbol_from_one_and_tokens_carry_every_symbol() -> None:
    log = StreamLog("s1", ["AAPL", "BTC-USD"])
    events = [
        log.quote_event(quote("AAPL", 1.0)),
        log.quote_event(quote("BTC-USD", 5.0)),
        log.quote_event(quote("AAPL", 2.0)),
    ]
    assert [(e.symbol, e.sequence) for e in events] == [("AAPL", 1), ("BTC-USD", 1), ("AAPL", 2)]
    assert decode_resume_token(events[-1].resume_token).sequences == {"AAPL": 2, "BTC-USD": 1}
    assert not log.changed(quote("AAPL", 2.0)) and log.changed(quote("AAPL", 2.5))


def test_resume_replays_exactly_the_events_after_the_token_in_their_order() -> None:
    old = StreamLog("old", ["AAPL", "BTC-USD"])
    sent = [
        old.quote_event(quote(symbol, price))
        for symbol, price in [("AAPL", 1), ("BTC-USD", 9), ("AAPL", 2), ("BTC-USD", 8), ("AAPL", 3)]
    ]
    new = StreamLog("new", ["AAPL", "BTC-USD"])
    replayed = resume_events(new, old, decode_resume_token(sent[0].resume_token))
    assert [(e.symbol, e.sequence, e.quote) for e in replayed] == [
        (e.symbol, e.sequence, e.quote) for e in sent[1:]
    ]
    assert decode_resume_token(replayed[-1].resume_token).stream_id == "new"
    assert new.quote_event(quote("AAPL", 4.0)).sequence == 4


def test_resume_from_the_latest_token_replays_nothing_and_keeps_the_last_price() -> None:
    old = StreamLog("old", ["AAPL"])
    last = old.quote_event(quote("AAPL", 1.0))
    new = StreamLog("new", ["AAPL"])
    assert resume_events(new, old, decode_resume_token(last.resume_token)) == []
    assert not new.changed(quote("AAPL", 1.0))
    assert new.quote_event(quote("AAPL", 1.5)).sequence == 2


def test_events_older_than_the_replay_buffer_become_one_gap() -> None:
    old = StreamLog("old", ["AAPL"])
    first = old.quote_event(quote("AAPL", 1.0))
    for i in range(REPLAY_EVENTS + 10):
        old.quote_event(quote("AAPL", 2.0 + i))
    new = StreamLog("new", ["AAPL"])
    events = resume_events(new, old, decode_resume_token(first.resume_token))
    gap = events[0]
    assert gap.gap is not None and gap.quote is None
    assert (gap.gap.from_sequence, gap.gap.to_sequence, gap.sequence) == (2, 11, 11)
    assert [e.sequence for e in events[1:]] == list(range(12, REPLAY_EVENTS + 12))


def test_resume_of_a_stream_this_gateway_never_held_is_one_gap_per_symbol() -> None:
    new = StreamLog("new", ["AAPL", "BTC-USD", "ETH-USD"])
    point = ResumePoint("elsewhere", {"AAPL": 4, "BTC-USD": 7, "MSFT": 2})
    events = resume_events(new, None, point)
    assert [(e.symbol, e.sequence) for e in events] == [("AAPL", 5), ("BTC-USD", 8)]
    assert all(e.gap is not None and e.gap.from_sequence == e.sequence for e in events)
    assert new.quote_event(quote("AAPL", 1.0)).sequence == 6
    assert new.quote_event(quote("ETH-USD", 1.0)).sequence == 1  # not in the token: fresh
