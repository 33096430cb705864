"""Every recorded provider file parses into domain values or a classified error.

One parametrized case per file under tests/fixtures/providers/<provider>/; a file nobody
parses fails `test_every_recorded_file_has_a_parser`, so new recordings cannot slip by.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from market_gateway.adapters.ai_chat import errors as ai_errors
from market_gateway.adapters.ai_chat import parsing as ai
from market_gateway.adapters.alpaca import errors as alpaca_errors
from market_gateway.adapters.alpaca import parsing as alpaca
from market_gateway.adapters.alpaca.stream import AlpacaProtocol
from market_gateway.adapters.alphavantage import errors as av_errors
from market_gateway.adapters.alphavantage import parsing as av
from market_gateway.adapters.common.http import RawResponse
from market_gateway.adapters.polygon import errors as polygon_errors
from market_gateway.adapters.polygon import parsing as polygon
from market_gateway.adapters.polygon import parsing_extras as polygon_extras
from market_gateway.adapters.polygon.stream import PolygonProtocol
from market_gateway.adapters.yahoo import errors as yahoo_errors
from market_gateway.adapters.yahoo import parsing as yahoo
from market_gateway.domain import (
    AssetClass,
    AuthFailed,
    BadProviderData,
    Bar,
    IndicatorSeries,
    ProviderUnavailable,
    Quote,
    RateLimited,
    Timeframe,
    Trade,
    UnknownSymbol,
    parse_symbol,
)
from tests.conftest import PROVIDER_FIXTURES

from .conftest import NOW
from .support import fixture_files, load, load_lines

DAY, MINUTE = Timeframe.ONE_DAY, Timeframe.ONE_MINUTE
DOMAIN_VALUES = (Bar, Quote, Trade, IndicatorSeries)


@dataclass(frozen=True)
class Case:
    parse: Callable[[Any], object]  # body (or list of frames) -> value
    raises: type[Exception] | None = None


def ok(body: Any, status: int = 200) -> RawResponse:
    return RawResponse(status, {}, body, "")


def each_frame(decode: Callable[[str], list[object]]) -> Callable[[list[str]], object]:
    def run(lines: list[str]) -> object:
        messages = [
            m for line in lines for m in decode(line if line.startswith("[") else f"[{line}]")
        ]
        assert messages, "no frame decoded"
        return messages

    return run


POLYGON_WS = PolygonProtocol(ws_url="wss://x", api_key="k", asset_class=AssetClass.STOCK)
ALPACA_WS = AlpacaProtocol(
    ws_url="wss://x", key_id="k", secret_key="s", asset_class=AssetClass.STOCK
)


def polygon_snapshot(body: Any) -> object:
    wanted = {row["ticker"]: parse_symbol(row["ticker"]).canonical for row in body["tickers"]}
    batch = polygon.parse_snapshot_tickers(body, wanted, NOW)
    assert len(batch) + len(batch.rejected) == len(body["tickers"]) and batch
    return batch


POLYGON: dict[str, Case] = {
    "error-403-not-authorized-not-entitled-maybe152.json": Case(
        lambda b: polygon_errors.check(ok(b, 403), now=NOW, secrets=()), AuthFailed
    ),
    "error-403-not-authorized-plan-timeframe-issue313.json": Case(
        lambda b: polygon_errors.check(ok(b, 403), now=NOW, secrets=()), AuthFailed
    ),
    "error-api-key-not-provided-issue219.json": Case(
        lambda b: polygon_errors.check(ok(b, 401), now=NOW, secrets=()), AuthFailed
    ),
    "rest-aggs-AAPL-range-1-day-2005-04-01-2005-04-04.json": Case(
        lambda b: polygon.parse_aggregates(b, DAY)[0]
    ),
    "rest-daily-open-close-AAPL-2005-04-01.json": Case(polygon_extras.parse_daily_open_close),
    "rest-grouped-daily-stocks-2005-04-04.json": Case(
        lambda b: list(polygon_extras.parse_grouped_daily(b).values())
    ),
    "rest-indicator-macd-SPY.json": Case(
        lambda b: polygon_extras.parse_indicator(b, "SPY", "macd")
    ),
    "rest-indicator-rsi-AAPL.json": Case(
        lambda b: polygon_extras.parse_indicator(b, "AAPL", "rsi")
    ),
    "rest-last-nbbo-AAPL.json": Case(lambda b: polygon.parse_last_nbbo(b, "AAPL", NOW)),
    "rest-last-trade-AAPL.json": Case(lambda b: polygon.parse_last_trade(b, "AAPL")),
    "rest-marketstatus-now.json": Case(polygon_extras.parse_market_status),
    "rest-marketstatus-upcoming.json": Case(polygon_extras.parse_upcoming_holidays),
    "rest-prev-close-AAPL.json": Case(polygon.parse_prev_close),
    "rest-snapshot-crypto-X-BTCUSD-book.json": Case(
        lambda b: polygon_extras.parse_book(b, "BTC-USD", NOW)
    ),
    "rest-snapshot-stocks-gainers.json": Case(polygon_snapshot),
    "rest-snapshot-stocks-ticker-AAPL.json": Case(
        lambda b: polygon.parse_snapshot_ticker(b, "AAPL", NOW)
    ),
    "rest-snapshot-stocks-tickers.json": Case(polygon_snapshot),
    "rest-v1-last-crypto-BTC-USD.json": Case(lambda b: polygon.parse_last_crypto(b, "BTC-USD")),
    "rest-v3-quotes-AAPL-page1.json": Case(
        lambda b: polygon_extras.parse_v3_quotes(b, "AAPL", NOW)[0]
    ),
    "rest-v3-quotes-AAPL-page2-cursor.json": Case(
        lambda b: polygon_extras.parse_v3_quotes(b, "AAPL", NOW)[0]
    ),
    "rest-v3-trades-AAPL-limit-2.json": Case(
        lambda b: polygon_extras.parse_v3_trades(b, "AAPL")[0]
    ),
    "spec-rest-aggs-crypto-range.json": Case(lambda b: polygon.parse_aggregates(b, DAY)[0]),
    "spec-rest-aggs-stocks-range-with-next_url.json": Case(
        lambda b: polygon.parse_aggregates(b, DAY)[0]
    ),
    "spec-rest-grouped-daily-crypto.json": Case(
        lambda b: list(polygon_extras.parse_grouped_daily(b).values())
    ),
    "spec-rest-last-trade-stocks.json": Case(lambda b: polygon.parse_last_trade(b, "AAPL")),
    "spec-rest-prev-close-crypto.json": Case(polygon.parse_prev_close),
    "spec-rest-prev-close-stocks.json": Case(polygon.parse_prev_close),
    "spec-rest-snapshot-crypto-ticker.json": Case(
        lambda b: polygon.parse_snapshot_ticker(b, "BTC-USD", NOW)
    ),
    "spec-rest-snapshot-crypto-tickers.json": Case(polygon_snapshot),
    "spec-rest-snapshot-stocks-tickers.json": Case(polygon_snapshot),
    "spec-rest-v1-last-crypto.json": Case(lambda b: polygon.parse_last_crypto(b, "BTC-USD")),
    "spec-ws-event-examples.jsonl": Case(each_frame(POLYGON_WS.decode)),
    "spec-ws-status-examples.jsonl": Case(each_frame(POLYGON_WS.decode)),
    "ws-auth-failed-client-php-issue17.jsonl": Case(each_frame(POLYGON_WS.decode)),
    "ws-mock-server-client-python.jsonl": Case(each_frame(POLYGON_WS.decode)),
    "ws-session-observed-marketstore.jsonl": Case(each_frame(POLYGON_WS.decode)),
    "ws-status-errors-observed-marketstore.jsonl": Case(each_frame(POLYGON_WS.decode)),
}


def alpaca_case(name: str) -> Case:
    """Alpaca files are named after their endpoint, so the name picks the parser."""
    if name.endswith(".jsonl"):
        return Case(each_frame(ALPACA_WS.decode))
    if name.startswith("error-"):
        status = int(name.split("-")[1])
        return Case(
            lambda b: alpaca_errors.check(ok(b, status), now=NOW, secrets=()), ProviderUnavailable
        )
    if "latest-bar" in name:
        return Case(alpaca.parse_latest_bars)
    if "latest-trade" in name:
        return Case(alpaca.parse_latest_trades)
    if "latest-quote" in name:
        return Case(lambda b: alpaca.parse_latest_quotes(b, NOW))
    if "snapshot" in name:
        return Case(lambda b: alpaca.parse_snapshots(b, NOW))
    timeframe = Timeframe.FIFTEEN_MINUTES if "15min" in name else MINUTE if "1min" in name else DAY
    if "bars" in name:
        return Case(lambda b: alpaca.parse_bars_page(b, timeframe))
    if "trades" in name:
        return Case(alpaca.parse_trades_page)
    if "quotes" in name:
        return Case(lambda b: alpaca.parse_quotes_page(b, NOW))
    raise AssertionError(f"no Alpaca parser for {name}")


def av_checked(parse: Callable[[Any], object]) -> Callable[[Any], object]:
    """Data answers pass the throttle/misuse check unchanged, then parse."""
    return lambda b: parse(av_errors.check(ok(b), now=NOW, secrets=()))


def av_case(name: str) -> Case:
    if name.startswith(("note-", "information-")):
        return Case(av_checked(lambda b: b), RateLimited)
    if name.startswith("error-message-"):
        return Case(
            lambda b: av_errors.check(ok(b), now=NOW, secrets=(), symbol="EURUSD"), UnknownSymbol
        )
    if name.startswith("realtime-bulk-quotes-premium"):
        return Case(av_checked(lambda b: b), AuthFailed)
    if name.startswith("global-quote-"):
        return Case(av_checked(lambda b: av.parse_global_quote(b, "X", NOW)))
    if name.startswith("currency-exchange-rate-"):
        return Case(av_checked(lambda b: av.parse_exchange_rate(b, "BTC-CNY", NOW)))
    if name.startswith("indicator-"):
        return Case(av_checked(lambda b: av.parse_indicator(b, "X", name.split("-")[1])))
    if name == "market-status.json":
        return Case(av_checked(av.parse_market_status))
    if name == "symbol-search.json":
        return Case(av_checked(av.parse_symbol_search))
    timeframe = DAY if "daily" in name else Timeframe.FIVE_MINUTES if "5min" in name else MINUTE
    return Case(av_checked(lambda b: av.parse_time_series(b, timeframe)))


def yahoo_case(name: str) -> Case:
    def chart(body: Any) -> object:
        result = yahoo_errors.check(ok(body), now=NOW, symbol="X")
        return [yahoo.parse_quote(result, "X", NOW), *yahoo.parse_bars(result, DAY)]

    return Case(chart, UnknownSymbol if name.startswith("body-chart-error") else None)


def ai_case(provider: str, name: str) -> Case:
    if name.startswith("error-"):
        return Case(
            lambda b: ai_errors.check(ok(b, 403), provider=provider, now=NOW, secrets=()),
            AuthFailed,
        )

    def verdict(body: Any) -> object:
        if name.endswith(".jsonl"):
            reply = ai.assemble_stream([json.loads(line) for line in body], provider)
        else:
            reply = ai.parse_completion(
                ai_errors.check(ok(body), provider=provider, now=NOW, secrets=()), provider
            )
        assert reply.usage.prompt_tokens > 0  # the envelope itself is read
        return ai.parse_verdict(reply.content, provider)

    # Recorded answers are prose or tool calls, not JSON verdicts: refused, never guessed.
    return Case(verdict, BadProviderData)


def case_for(provider: str, name: str) -> Case:
    if provider == "polygon":
        return POLYGON[name]
    if provider == "alpaca":
        return alpaca_case(name)
    if provider == "alphavantage":
        return av_case(name)
    if provider == "yahoo":
        return yahoo_case(name)
    return ai_case(provider, name)


PROVIDERS = ("polygon", "alpaca", "alphavantage", "yahoo", "xai", "perplexity", "deepseek", "qwen")
FILES = [(p, n) for p in PROVIDERS for n in fixture_files(p)]


def test_every_recorded_file_has_a_parser() -> None:
    on_disk = {p.name for p in PROVIDER_FIXTURES.iterdir() if p.is_dir()}
    assert on_disk <= set(PROVIDERS) | {"glm"}, "a provider's recordings are not covered"
    assert set(POLYGON) == set(fixture_files("polygon"))
    assert len(FILES) >= 130


@pytest.mark.parametrize(("provider", "name"), FILES, ids=[f"{p}/{n}" for p, n in FILES])
def test_recorded_file_parses_to_domain_values_or_a_classified_error(
    provider: str, name: str
) -> None:
    case = case_for(provider, name)
    body: Any = load_lines(provider, name) if name.endswith(".jsonl") else load(provider, name)
    if case.raises is not None:
        with pytest.raises(case.raises) as caught:
            case.parse(body)
        assert isinstance(caught.value, ProviderUnavailable | UnknownSymbol)
        return
    value = case.parse(body)
    assert_meaningful(value)


def assert_meaningful(value: object) -> None:
    """A domain value, or a non-empty collection whose items are (or a typed value)."""
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], str | type(None)):
        value = value[0]  # (items, next cursor)
    if isinstance(value, DOMAIN_VALUES):
        return
    if isinstance(value, dict):
        items = [v for vs in value.values() for v in (vs if isinstance(vs, list) else [vs])]
    elif isinstance(value, list):
        items = value
    else:  # typed adapter values (market status)
        assert value is not None and hasattr(value, "__dataclass_fields__")
        return
    for item in items:
        assert isinstance(item, (*DOMAIN_VALUES, ProviderUnavailable)) or hasattr(
            item, "__dataclass_fields__"
        )
