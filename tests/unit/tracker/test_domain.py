"""Domain rules: signal and filter validation, page tokens, outcome statistics."""

from __future__ import annotations

import base64
import math
import string
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.domain import (
    Action,
    InvalidQuery,
    InvalidSignal,
    OutcomeStats,
    PageToken,
    SignalCursor,
    SignalFilter,
    SourceContribution,
    filter_violations,
    signal_violations,
    validate_batch,
)

from .factories import T0, make_sell, make_signal


def fields_of(violations: list[tuple[str, str]]) -> set[str]:
    return {field for field, _ in violations}


def test_a_well_formed_signal_has_no_violations() -> None:
    assert signal_violations(make_signal()) == []
    assert signal_violations(make_sell()) == []
    hold = make_signal(action=Action.HOLD, target_price=190.12, stop_price=190.12)
    assert signal_violations(hold) == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"signal_id": "not-a-uuid"}, "signal_id"),
        ({"signal_id": "6F9619FF-8B86-D011-B42D-00C04FC964FF"}, "signal_id"),  # not lowercase
        ({"symbol": "aapl"}, "symbol"),
        ({"symbol": ""}, "symbol"),
        ({"symbol": "A" * 33}, "symbol"),
        ({"confidence": 100.5}, "confidence"),
        ({"raw_confidence": -0.1}, "raw_confidence"),
        ({"entry_price": 0.0}, "entry_price"),
        ({"stop_price": math.inf}, "stop_price"),
        ({"target_price": 185.0}, "target_price"),  # BUY target below entry
        ({"stop_price": 191.0}, "stop_price"),  # BUY stop above entry
        ({"expire_time": T0}, "expire_time"),
        ({"create_time": datetime(2026, 11, 17, 15, 0)}, "create_time"),  # naive
        ({"trace_id": "xyz"}, "trace_id"),
    ],
)
def test_each_rule_names_its_field(overrides: dict[str, object], field: str) -> None:
    assert field in fields_of(signal_violations(make_signal(**overrides)))


def test_sell_prices_must_sit_on_the_sell_side() -> None:
    bad = make_sell(target_price=200.0, stop_price=150.0)
    assert fields_of(signal_violations(bad)) == {"target_price", "stop_price"}


def test_lineage_entries_are_checked_with_their_index() -> None:
    part = SourceContribution(source="", direction=2.0, confidence=0.5, weight=-1, data_age_ms=-5)
    signal = make_signal(lineage=(make_signal().lineage[0], part))
    assert fields_of(signal_violations(signal, "signals[2]")) == {
        "signals[2].lineage[1].source",
        "signals[2].lineage[1].direction",
        "signals[2].lineage[1].weight",
        "signals[2].lineage[1].data_age_ms",
    }


def test_validate_batch_reports_every_bad_signal_with_its_index() -> None:
    batch = [make_signal(), make_signal(), make_signal(), make_signal(confidence=150.0)]
    batch[1] = replace(batch[1], symbol="bad symbol")
    with pytest.raises(InvalidSignal) as error:
        validate_batch(batch)
    assert fields_of(error.value.violations) == {"signals[1].symbol", "signals[3].confidence"}
    assert "signals[3].confidence" in str(error.value)


def test_batch_size_must_be_1_to_1000() -> None:
    for size in (0, 1001):
        with pytest.raises(InvalidSignal) as error:
            validate_batch([make_signal()] * size)
        assert fields_of(error.value.violations) == {"signals"}


out_of_range_confidence = st.one_of(
    st.floats(max_value=-1e-9, allow_nan=False),
    st.floats(min_value=100.000001, allow_nan=False),
    st.just(math.nan),
)
bad_price = st.one_of(st.floats(max_value=0.0), st.just(math.nan), st.just(math.inf))
bad_symbol = st.text(max_size=40).filter(
    lambda s: (
        not (
            0 < len(s) <= 32
            and s[0] in string.ascii_uppercase + string.digits
            and all(c in string.ascii_uppercase + string.digits + ".-/" for c in s)
        )
    )
)


@given(value=out_of_range_confidence)
def test_any_out_of_range_confidence_is_rejected(value: float) -> None:
    assert "confidence" in fields_of(signal_violations(make_signal(confidence=value)))


@given(value=bad_price, field=st.sampled_from(["entry_price", "target_price", "stop_price"]))
def test_any_non_positive_or_non_finite_price_is_rejected(value: float, field: str) -> None:
    assert field in fields_of(signal_violations(make_signal(**{field: value})))


@given(symbol=bad_symbol)
def test_any_malformed_symbol_is_rejected(symbol: str) -> None:
    assert fields_of(signal_violations(make_signal(symbol=symbol))) == {"symbol"}


@given(
    confidence=st.floats(min_value=0, max_value=100),
    entry=st.floats(min_value=0.01, max_value=1e6),
    spread=st.floats(min_value=0.001, max_value=0.5),
    horizon=st.integers(min_value=1, max_value=10**7),
)
def test_any_consistent_buy_is_accepted(
    confidence: float, entry: float, spread: float, horizon: int
) -> None:
    signal = make_signal(
        confidence=confidence,
        raw_confidence=confidence,
        entry_price=entry,
        target_price=entry * (1 + spread),
        stop_price=entry * (1 - spread),
        expire_time=T0 + timedelta(seconds=horizon),
    )
    assert signal_violations(signal) == []


def test_filter_rules() -> None:
    assert filter_violations(SignalFilter()) == []
    bad = SignalFilter(
        symbols=frozenset({"AAPL", "no good"}),
        min_confidence=101.0,
        start_time=T0,
        end_time=T0 - timedelta(seconds=1),
    )
    assert fields_of(filter_violations(bad)) == {
        "filter.symbols",
        "filter.min_confidence",
        "filter.end_time",
    }


def test_filter_lists_at_most_500_symbols() -> None:
    many = SignalFilter(symbols=frozenset(f"S{i}" for i in range(501)))
    assert fields_of(filter_violations(many)) == {"filter.symbols"}
    assert filter_violations(SignalFilter(symbols=frozenset(f"S{i}" for i in range(500)))) == []


def test_filter_fingerprint_ignores_member_order_and_sees_changes() -> None:
    a = SignalFilter(symbols=frozenset({"AAPL", "TSLA"}), actions=frozenset({Action.BUY}))
    b = SignalFilter(symbols=frozenset({"TSLA", "AAPL"}), actions=frozenset({Action.BUY}))
    assert a.fingerprint() == b.fingerprint()
    assert a.fingerprint() != replace(a, min_confidence=50.0).fingerprint()
    assert a.fingerprint() != replace(a, start_time=T0).fingerprint()


@given(
    micros=st.integers(min_value=0, max_value=4_000_000_000_000_000),
    signal_id=st.uuids().map(str),
    fingerprint=st.text(alphabet="0123456789abcdef", min_size=16, max_size=16),
)
def test_page_token_round_trips(micros: int, signal_id: str, fingerprint: str) -> None:
    instant = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)
    token = PageToken(SignalCursor(instant, signal_id), fingerprint)
    encoded = token.encode()
    assert set(encoded) <= set(string.ascii_letters + string.digits + "-_")
    assert PageToken.decode(encoded) == token


@given(garbage=st.text(max_size=80))
def test_any_garbage_token_is_an_invalid_query(garbage: str) -> None:
    try:
        PageToken.decode(garbage)
    except InvalidQuery as e:
        assert fields_of(e.violations) == {"page_token"}


@pytest.mark.parametrize(
    "body",
    [
        '{"t": "x", "id": "a", "f": "b"}',
        "[1, 2]",
        '{"t": 1}',
        '{"t": 1, "id": "1 OR 1=1", "f": "b"}',
        '{"t": 99999999999999999999999, "id": "00000000-0000-4000-8000-000000000000", "f": "b"}',
    ],
)
def test_well_encoded_but_wrong_token_bodies_are_invalid(body: str) -> None:
    with pytest.raises(InvalidQuery):
        PageToken.decode(base64.urlsafe_b64encode(body.encode()).decode())


def test_outcome_stats_ratios() -> None:
    assert OutcomeStats().win_rate == 0.0 and OutcomeStats().avg_pnl_percent == 0.0
    stats = OutcomeStats(
        total=10, wins=3, losses=1, expired=2, total_pnl_percent=6.0, pnl_samples=6
    )
    assert stats.win_rate == pytest.approx(0.75)
    assert stats.avg_pnl_percent == pytest.approx(1.0)
