"""Bad input to every MarketGateway RPC: INVALID_ARGUMENT naming the field, never a bug.

The gateway is wired by its real bootstrap() over the unit tests' fakes and served once per
module on a background loop (see harness.py); a SteppedClock keeps streams from advancing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from argo.marketdata.v1 import marketdata_pb2 as pb
from argo.marketdata.v1 import marketdata_pb2_grpc
from market_gateway.adapters.calendar import NyseCalendar
from market_gateway.bootstrap import bootstrap
from market_gateway.config import load_settings
from tests.unit.market_gateway.conftest import IN_SESSION, PRICES
from tests.unit.market_gateway.fakes import FakeQuoteSource, FakeSentimentSource, SteppedClock
from tests.unit.market_gateway.test_servicer import stepped_tunables

from . import gateway_cases as cases
from . import strategies as s
from .harness import (
    Answer,
    LoopThread,
    Served,
    assert_never_a_bug,
    assert_rejected,
    check_raw_requests,
    first_of_stream,
    rpc_methods,
    unary,
)

BOUNDED = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SERVICE = "/argo.marketdata.v1.MarketGateway/"
OK = grpc.StatusCode.OK


@dataclass
class Gateway:
    loop: LoopThread
    channel: grpc.aio.Channel
    stub: marketdata_pb2_grpc.MarketGatewayStub
    source: FakeQuoteSource


@pytest.fixture(scope="module")
def gateway() -> Iterator[Gateway]:
    loop = LoopThread()
    clock = SteppedClock(IN_SESSION)
    source = FakeQuoteSource(clock, PRICES)

    async def start() -> tuple[Served, object, grpc.aio.Channel]:
        wiring = await bootstrap(
            load_settings({}),
            clock=clock,
            source=source,
            sentiment=[FakeSentimentSource(clock, "xai")],
            calendar=NyseCalendar.build(),
            tunables=stepped_tunables(),
        )
        served = Served(wiring.register)
        return served, wiring, await served.start()

    served, wiring, channel = loop.run(start())
    try:
        yield Gateway(loop, channel, marketdata_pb2_grpc.MarketGatewayStub(channel), source)
    finally:
        loop.run(served.stop())
        loop.run(wiring.exit_stack.aclose())  # type: ignore[attr-defined]
        loop.close()


def call(gateway: Gateway, method: str, request: object) -> Answer:
    return gateway.loop.run(unary(getattr(gateway.stub, method), request))


@BOUNDED
@given(case=cases.bad_quotes_requests())
def test_malformed_get_quotes_is_invalid_argument_naming_the_field(
    gateway: Gateway, case: cases.Case
) -> None:
    """Else a malformed symbol would reach the providers and burn their quota, or a
    caller could not tell which of its symbols was wrong."""
    request, fields = case
    calls_before = len(gateway.source.quote_calls)
    assert_rejected(call(gateway, "GetQuotes", request), fields)
    assert len(gateway.source.quote_calls) == calls_before  # nothing reached a provider


@BOUNDED
@given(request=cases.quotes_requests())
def test_valid_get_quotes_succeed(gateway: Gateway, request: pb.GetQuotesRequest) -> None:
    """Else the validator would reject what the contract accepts (any case, padding,
    crypto spellings, duplicates)."""
    answer = call(gateway, "GetQuotes", request)
    assert answer.code == grpc.StatusCode.OK, answer
    assert not answer.reply.errors


@BOUNDED
@given(case=cases.bad_bars_requests())
def test_malformed_get_bars_is_invalid_argument_naming_the_field(
    gateway: Gateway, case: cases.Case
) -> None:
    """Else an unknown timeframe, a negative limit or an inverted window would reach the
    providers (or crash the mapping) instead of telling the caller what to fix."""
    request, fields = case
    assert_rejected(call(gateway, "GetBars", request), fields)


@BOUNDED
@given(request=cases.any_bars_requests())
def test_any_get_bars_request_is_answered_without_a_bug(
    gateway: Gateway, request: pb.GetBarsRequest
) -> None:
    """Else some window (year 1, year 9999, start after now) would answer INTERNAL or
    UNKNOWN, which callers treat as our bug and page someone for."""
    answer = call(gateway, "GetBars", request)
    assert_never_a_bug(answer)
    assert answer.code in (
        grpc.StatusCode.OK,
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
    ), answer


@BOUNDED
@given(request=cases.bars_requests())
def test_valid_get_bars_succeed(gateway: Gateway, request: pb.GetBarsRequest) -> None:
    """Else the validator would reject valid windows and limits."""
    answer = call(gateway, "GetBars", request)
    assert answer.code == grpc.StatusCode.OK, answer


@BOUNDED
@given(case=cases.bad_sentiment_requests())
def test_malformed_get_sentiment_is_invalid_argument(gateway: Gateway, case: cases.Case) -> None:
    """Else a malformed symbol would be sent to a paid AI provider."""
    request, fields = case
    assert_rejected(call(gateway, "GetSentiment", request), fields)


@BOUNDED
@given(symbol=cases.valid_symbol)
def test_valid_get_sentiment_succeeds(gateway: Gateway, symbol: str) -> None:
    """Else the validator would refuse symbols the AI providers can answer for."""
    answer = call(gateway, "GetSentiment", pb.GetSentimentRequest(symbol=symbol))
    assert answer.code == grpc.StatusCode.OK, answer


@BOUNDED
@given(case=cases.bad_stream_requests())
def test_malformed_stream_quotes_is_invalid_argument(gateway: Gateway, case: cases.Case) -> None:
    """Else a stream would open on garbage symbols or a forged resume token and hold a
    subscription (and its provider feed) open for nothing."""
    request, fields = case
    answer = gateway.loop.run(first_of_stream(gateway.stub.StreamQuotes, request, read=True))
    assert_rejected(answer, fields)


@BOUNDED
@given(symbols=cases.valid_symbols, token=cases.crafted_resume_tokens())
def test_any_resume_token_is_answered_without_a_bug(
    gateway: Gateway, symbols: list[str], token: str
) -> None:
    """Else a token with a huge, negative or non-integer sequence would break the stream
    with INTERNAL instead of INVALID_ARGUMENT (or a fresh start)."""
    request = pb.StreamQuotesRequest(symbols=symbols, resume_token=token)
    answer = gateway.loop.run(first_of_stream(gateway.stub.StreamQuotes, request, read=True))
    assert_never_a_bug(answer)
    assert answer.code in (grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT), answer


@settings(BOUNDED, max_examples=20)
@given(request=cases.stream_requests())
def test_valid_stream_quotes_answer_a_first_event(
    gateway: Gateway, request: pb.StreamQuotesRequest
) -> None:
    """Else valid streams would be refused along with the malformed ones."""
    answer = gateway.loop.run(first_of_stream(gateway.stub.StreamQuotes, request, read=True))
    assert answer.code == grpc.StatusCode.OK, answer
    assert answer.reply.sequence >= 1


@settings(BOUNDED, max_examples=20)
@given(extra=s.unknown_fields())
def test_provider_status_ignores_unknown_fields(gateway: Gateway, extra: bytes) -> None:
    """Else a newer client sending fields this gateway does not know would be refused."""
    method = gateway.channel.unary_unary(
        SERVICE + "GetProviderStatus",
        request_serializer=None,
        response_deserializer=pb.GetProviderStatusResponse.FromString,
    )
    answer = gateway.loop.run(unary(method, extra))
    assert answer.code == grpc.StatusCode.OK, answer
    assert answer.reply.providers


DESCRIPTOR = pb.DESCRIPTOR.services_by_name["MarketGateway"]
COVERED = ("GetBars", "GetProviderStatus", "GetQuotes", "GetSentiment", "StreamQuotes")


def test_every_rpc_of_the_service_is_covered() -> None:
    """Else a new RPC would ship without bad-input properties (add it to COVERED once
    its properties exist in this module)."""
    assert sorted(rpc_methods(DESCRIPTOR)) == sorted(COVERED)


@pytest.mark.parametrize("name", COVERED)
@settings(BOUNDED, max_examples=10)
@given(data=st.data())
def test_raw_request_bytes_are_refused_or_answered_without_a_bug(
    gateway: Gateway, name: str, data: st.DataObject
) -> None:
    """Else bytes that are not the request message (a client with the wrong stubs, a
    proxy's corruption) would answer OK, INTERNAL or hang, or a request carrying only
    fields this gateway does not know would crash it; the server keeps serving."""
    request_type = rpc_methods(DESCRIPTOR)[name][0]
    payload = data.draw(st.one_of(s.undecodable(request_type), s.unknown_fields()))
    check_raw_requests(gateway.loop, gateway.channel, DESCRIPTOR, name, payload)
    assert call(gateway, "GetProviderStatus", pb.GetProviderStatusRequest()).code == OK


@BOUNDED
@given(
    symbols=st.lists(
        st.one_of(cases.valid_symbol, s.bad_symbols(), st.text(max_size=40)), max_size=6
    ),
    max_age_ms=st.one_of(st.integers(*s.INT64), st.sampled_from([s.INT64[1], 0, 1])),
)
def test_any_get_quotes_request_is_answered_without_a_bug(
    gateway: Gateway, symbols: list[str], max_age_ms: int
) -> None:
    """Else some symbol text or a huge max_age_ms (overflowing a timedelta) would answer
    INTERNAL instead of quotes, per-symbol errors or INVALID_ARGUMENT."""
    answer = call(gateway, "GetQuotes", pb.GetQuotesRequest(symbols=symbols, max_age_ms=max_age_ms))
    assert_never_a_bug(answer)
