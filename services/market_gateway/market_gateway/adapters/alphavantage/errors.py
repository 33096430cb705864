"""Alpha Vantage's answers classified once. Its throttle and misuse answers are HTTP 200:

- `Note` (per-minute frequency) / `Information` about limits -> RateLimited, paused until
  the pushback libs/resilience reads from the text (1 s burst, 60 s, or the next day);
- any other `Information` (premium endpoint, invalid key) -> AuthFailed;
- `Error Message` ("Invalid API call") -> UnknownSymbol for a symbol request (that is how
  the provider answers an unknown ticker), else a non-retryable ProviderUnavailable;
- a premium endpoint's `message` with ARTIFICIAL sample data -> AuthFailed (never data).
None of these is ever parsed as data. HTTP errors go through the shared status table.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from market_gateway.adapters.alphavantage.schemas import PROVIDER
from market_gateway.adapters.common.http import RawResponse, scrub, status_error
from market_gateway.domain import (
    AuthFailed,
    BadProviderData,
    ProviderUnavailable,
    RateLimited,
    UnknownSymbol,
)
from resilience.pushback import parse_alpha_vantage_note


def check(
    raw: RawResponse,
    *,
    now: datetime,
    secrets: tuple[str, ...],
    symbol: str | None = None,
    day_reset_offset: timedelta = timedelta(0),
) -> Mapping[str, Any]:
    """The JSON object of a data answer, else the classified error."""
    error = status_error(raw, provider=PROVIDER, now=now, message="")
    if error is not None:
        raise error
    if not isinstance(raw.body, Mapping):
        raise BadProviderData(
            f"{PROVIDER}: answer is not a JSON object (HTTP {raw.status})",
            provider=PROVIDER,
            retryable=True,
        )
    body: Mapping[str, Any] = raw.body
    notice = _text(body, "Note") or _text(body, "Information")
    if notice:
        pushback = parse_alpha_vantage_note(body, now, day_reset_offset=day_reset_offset)
        message = scrub(notice, secrets)[:200]
        if pushback is not None:
            wait = (pushback.until - now).total_seconds()
            raise RateLimited(f"{PROVIDER}: {message}", retry_after=wait, provider=PROVIDER)
        raise AuthFailed(f"{PROVIDER}: {message}", provider=PROVIDER)
    if _text(body, "Error Message"):
        if symbol is not None:
            raise UnknownSymbol(symbol)
        message = scrub(_text(body, "Error Message"), secrets)[:200]
        raise ProviderUnavailable(f"{PROVIDER}: {message}", provider=PROVIDER, retryable=False)
    sample = _text(body, "message")
    if sample and ("premium" in sample.lower() or "artificial" in sample.lower()):
        raise AuthFailed(
            f"{PROVIDER}: premium endpoint; the free key gets sample data, which is refused",
            provider=PROVIDER,
        )
    return body


def _text(body: Mapping[str, Any], key: str) -> str:
    value = body.get(key)
    return value if isinstance(value, str) else ""
