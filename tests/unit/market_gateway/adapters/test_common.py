"""Shared adapter helpers: wire values, epoch units, quote checks, HTTP classification,
backoff, window arithmetic and merging feeds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from market_gateway.adapters.common.http import (
    RawResponse,
    fetch,
    new_client,
    pushback_seconds,
    scrub,
    status_error,
)
from market_gateway.adapters.common.paging import completed_in_window, relative_url, take
from market_gateway.adapters.common.streams import Backoff, merged
from market_gateway.adapters.common.values import Wire, daily_start, from_epoch
from market_gateway.domain import (
    AuthFailed,
    BadProviderData,
    Bar,
    ProviderUnavailable,
    Quote,
    RateLimited,
    Timeframe,
)

from .conftest import NOW

WIRE = Wire("test")
INSTANT = datetime(2022, 4, 28, 21, 13, 29, 688000, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [1651180409.688, 1651180409688, 1651180409688000, 1651180409688000000],
    ids=["s", "ms", "us", "ns"],
)
def test_epochs_in_any_unit(value: float) -> None:
    assert from_epoch(value) == INSTANT


@pytest.mark.parametrize("raw", ["abc", True, None, float("nan"), "inf", [1]])
def test_odd_numbers_are_bad_data_naming_the_field(raw: object) -> None:
    with pytest.raises(BadProviderData, match="row.price") as caught:
        WIRE.number(raw, "row.price")
    assert caught.value.provider == "test" and not caught.value.retryable


def test_numeric_strings_and_percentages_are_numbers() -> None:
    assert WIRE.number("122.6700", "x") == 122.67
    assert WIRE.number("0.4207%", "x") == 0.4207


@pytest.mark.parametrize(
    ("price", "time", "why"),
    [
        (0.0, NOW, "price"),
        (-1.0, NOW, "price"),
        (float("inf"), NOW, "price"),
        (10.0, NOW + timedelta(seconds=3), "future"),
    ],
)
def test_unusable_quotes_are_rejected(price: float, time: datetime, why: str) -> None:
    quote = Quote("AAPL", price, 0.0, 0.0, 0.0, time, "test")
    with pytest.raises(BadProviderData, match=why) as caught:
        WIRE.checked_quote(quote, NOW)
    assert caught.value.provider == "test"


def test_a_quote_within_the_clock_skew_is_accepted() -> None:
    quote = Quote("AAPL", 10.0, 9.9, 10.1, 5.0, NOW + timedelta(seconds=1), "test")
    assert WIRE.checked_quote(quote, NOW) is quote


@pytest.mark.parametrize(
    ("status", "headers", "kind", "retryable", "retry_after"),
    [
        (429, {"retry-after": "12"}, RateLimited, True, 12.0),
        (429, {}, RateLimited, True, 1.0),
        (401, {}, AuthFailed, False, None),
        (403, {}, AuthFailed, False, None),
        (503, {"retry-after": "4"}, ProviderUnavailable, True, 4.0),
        (500, {}, ProviderUnavailable, True, None),
        (404, {}, ProviderUnavailable, False, None),
    ],
)
def test_http_statuses_are_classified(
    status: int,
    headers: dict[str, str],
    kind: type[ProviderUnavailable],
    retryable: bool,
    retry_after: float | None,
) -> None:
    error = status_error(
        RawResponse(status, httpx.Headers(headers), None, ""), provider="p", now=NOW, message=""
    )
    assert isinstance(error, kind) and error.retryable is retryable
    assert error.retry_after == retry_after and error.provider == "p"
    assert status_error(RawResponse(200, {}, {}, ""), provider="p", now=NOW, message="") is None


def test_pushback_reads_an_http_date() -> None:
    later = (NOW + timedelta(seconds=90)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    raw = RawResponse(429, httpx.Headers({"Retry-After": later}), None, "")
    assert pushback_seconds(raw, NOW) == pytest.approx(90)


def test_scrub_masks_configured_secrets() -> None:
    assert scrub("bad key sk-123 given", ("sk-123", "")) == "bad key *** given"


@pytest.mark.asyncio
async def test_transport_errors_never_show_the_query_with_the_key() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach {request.url}", request=request)

    http = new_client("https://av.test", transport=httpx.MockTransport(refuse))
    with pytest.raises(ProviderUnavailable) as caught:
        await fetch(http, "/query", provider="alphavantage", params={"apikey": "SECRET42"})
    assert "SECRET42" not in str(caught.value) and caught.value.__cause__ is None
    assert caught.value.retryable
    await http.aclose()


@pytest.mark.asyncio
async def test_clients_have_explicit_timeouts_and_a_pool() -> None:
    http = new_client("https://x.test/base/", headers={"A": "b"})
    assert http.timeout.read == 10.0 and http.timeout.connect == 3.0
    assert str(http.base_url) == "https://x.test/base/" and http.headers["A"] == "b"
    await http.aclose()


def test_full_jitter_backoff_grows_to_its_cap() -> None:
    top = Backoff(base=0.5, cap=8.0, rand=lambda: 1.0)
    assert [top.delay(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert Backoff(rand=lambda: 0.0).delay(5) == 0.0
    assert 0 <= Backoff().delay(1000) <= 30.0


def test_daily_start_and_completed_windows() -> None:
    assert daily_start(date(2026, 11, 17)) == datetime(2026, 11, 17, tzinfo=UTC)
    bars = [Bar(NOW - timedelta(minutes=k), 1, 1, 1, 1, 1) for k in range(3)]
    done = completed_in_window(bars, Timeframe.ONE_MINUTE, NOW - timedelta(minutes=1), NOW)
    assert [b.start_time for b in done] == [NOW - timedelta(minutes=1)]
    assert take(bars + bars, 2, newest=True) == [bars[1], bars[0]]


def test_cursor_urls_are_fetched_from_our_host() -> None:
    url = "https://api.polygon.io/v3/quotes/AAPL?cursor=abc&x=1"
    assert relative_url(url) == "/v3/quotes/AAPL?cursor=abc&x=1"


@pytest.mark.asyncio
async def test_merged_feeds_interleave_and_the_first_failure_ends_all() -> None:
    ended = asyncio.Event()

    async def slow() -> AsyncIterator[int]:
        try:
            yield 1
            await asyncio.Event().wait()
        finally:
            ended.set()
        yield 99  # pragma: no cover

    async def failing() -> AsyncIterator[int]:
        yield 2
        raise AuthFailed("nope")

    seen: list[int] = []
    with pytest.raises(AuthFailed):
        async for item in merged([slow(), failing()]):
            seen.append(item)
    assert sorted(seen) == [1, 2]
    assert ended.is_set()
