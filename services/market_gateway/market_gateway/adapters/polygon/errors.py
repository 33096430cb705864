"""Polygon's HTTP answers and WebSocket statuses, classified once into domain errors.

HTTP: 403 `NOT_AUTHORIZED` (plan/entitlement) and "API Key was not provided" -> AuthFailed;
429 -> RateLimited with the Retry-After pushback; 404 for a symbol -> UnknownSymbol;
5xx/timeouts -> retryable ProviderUnavailable; a non-JSON body -> retryable BadProviderData.
WebSocket: `auth_failed` -> AuthFailed (fatal); `auth_timeout`, `max_connections`,
`force_disconnect`, `slow_consumer` -> retryable ProviderUnavailable (reconnect with backoff).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from market_gateway.adapters.common.http import RawResponse, body_message, scrub, status_error
from market_gateway.adapters.polygon.schemas import PROVIDER
from market_gateway.domain import (
    AuthFailed,
    BadProviderData,
    ProviderUnavailable,
    RateLimited,
    UnknownSymbol,
)

_RETRYABLE_WS = {
    "auth_timeout": "no authentication request received in time",
    "max_connections": "the account's connection limit for this cluster is reached",
    "force_disconnect": "the server closed the connection",
    "slow_consumer": "we read too slowly and were disconnected",
}


def check(
    raw: RawResponse, *, now: datetime, secrets: tuple[str, ...], symbol: str | None = None
) -> Any:
    """The JSON body of a successful answer, else the classified error."""
    message = scrub(body_message(raw.body, "message", "error"), secrets)
    status_text = raw.body.get("status") if isinstance(raw.body, dict) else None
    if raw.status == 404 and symbol is not None:
        raise UnknownSymbol(symbol)
    if status_text == "NOT_AUTHORIZED" or "api key" in message.lower():
        raise AuthFailed(f"{PROVIDER}: not authorized ({message or raw.status})", provider=PROVIDER)
    error = status_error(raw, provider=PROVIDER, now=now, message=message)
    if error is not None:
        raise error
    if not raw.is_json:
        raise BadProviderData(
            f"{PROVIDER}: answer is not JSON (HTTP {raw.status})", provider=PROVIDER, retryable=True
        )
    if status_text == "ERROR":
        if "exceeded" in message.lower():
            raise RateLimited(f"{PROVIDER}: {message}", retry_after=60.0, provider=PROVIDER)
        raise ProviderUnavailable(f"{PROVIDER}: {message or 'error'}", provider=PROVIDER)
    return raw.body


def ws_status_error(status: str, message: str) -> ProviderUnavailable | None:
    """The error a WebSocket `status` event means; None for connected/success/auth_success."""
    if status == "auth_failed":
        return AuthFailed(
            f"{PROVIDER} stream: authentication failed ({message})", provider=PROVIDER
        )
    if status in _RETRYABLE_WS:
        return ProviderUnavailable(
            f"{PROVIDER} stream: {_RETRYABLE_WS[status]} ({message})", provider=PROVIDER
        )
    if status == "error" and "not authorized" in message.lower():
        return AuthFailed(f"{PROVIDER} stream: {message}", provider=PROVIDER)
    return None
