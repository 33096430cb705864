"""Yahoo chart answers classified once: `chart.error` "Not Found" (HTTP 404 or 200) ->
UnknownSymbol; other `chart.error` codes -> non-retryable ProviderUnavailable; 429 ->
RateLimited (Yahoo publishes no limits; 1 s unless Retry-After says otherwise); a body
that is not JSON -> retryable BadProviderData."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from market_gateway.adapters.common.http import RawResponse, status_error
from market_gateway.adapters.yahoo.schemas import PROVIDER
from market_gateway.domain import BadProviderData, ProviderUnavailable, UnknownSymbol


def check(raw: RawResponse, *, now: datetime, symbol: str) -> Mapping[str, Any]:
    """The `chart.result[0]` object of a data answer, else the classified error."""
    chart = raw.body.get("chart") if isinstance(raw.body, Mapping) else None
    error = chart.get("error") if isinstance(chart, Mapping) else None
    if isinstance(error, Mapping):
        code, description = str(error.get("code", "")), str(error.get("description", ""))
        if code == "Not Found":
            raise UnknownSymbol(symbol)
        if raw.status < 500 and raw.status != 429:
            raise ProviderUnavailable(
                f"{PROVIDER}: {code}: {description[:200]}", provider=PROVIDER, retryable=False
            )
    failure = status_error(raw, provider=PROVIDER, now=now, message="")
    if failure is not None:
        raise failure
    if not isinstance(chart, Mapping):
        raise BadProviderData(
            f"{PROVIDER}: answer is not a chart (HTTP {raw.status})",
            provider=PROVIDER,
            retryable=not raw.is_json,
        )
    results = chart.get("result")
    if not isinstance(results, list) or not results or not isinstance(results[0], Mapping):
        raise BadProviderData(f"{PROVIDER}: chart has no result", provider=PROVIDER)
    result: Mapping[str, Any] = results[0]
    return result
