"""Alpaca's HTTP answers and WebSocket error frames, classified once into domain errors.

HTTP: 401/403 -> AuthFailed; 429 -> RateLimited (X-RateLimit-Reset / Retry-After);
other 4xx (e.g. 422 invalid timeframe) -> non-retryable; 5xx -> retryable. Unknown
symbols are not errors: the answer simply has no entry for them.
WebSocket (code, msg): 402 auth failed, 408 v2 not enabled, 409 insufficient subscription
-> AuthFailed (fatal); 405 symbol limit -> non-retryable ProviderUnavailable (fatal: more
connections will not help); 401/404/406/407/500 -> retryable (reconnect with backoff);
400 invalid syntax -> non-retryable (our bug); 403 already authenticated -> ignored;
unknown codes -> retryable.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from market_gateway.adapters.alpaca import schemas
from market_gateway.adapters.common.http import RawResponse, body_message, scrub, status_error
from market_gateway.domain import AuthFailed, BadProviderData, ProviderUnavailable

PROVIDER = schemas.PROVIDER
_FATAL_AUTH = {schemas.WS_AUTH_FAILED, 408, schemas.WS_INSUFFICIENT_SUBSCRIPTION}
_FATAL = {400, schemas.WS_SYMBOL_LIMIT}  # our bug / plan limit: reconnecting cannot help


def check(raw: RawResponse, *, now: datetime, secrets: tuple[str, ...]) -> Any:
    """The JSON body of a successful answer, else the classified error."""
    message = scrub(body_message(raw.body, "message", "error"), secrets)
    error = status_error(raw, provider=PROVIDER, now=now, message=message)
    if error is not None:
        raise error
    if not raw.is_json:
        raise BadProviderData(
            f"{PROVIDER}: answer is not JSON (HTTP {raw.status})", provider=PROVIDER, retryable=True
        )
    return raw.body


def ws_error(code: int, message: str) -> ProviderUnavailable | None:
    """The error a `{"T":"error"}` frame means; None when it can be ignored."""
    text = f"{PROVIDER} stream: {message} (code {code})"
    if code == schemas.WS_ALREADY_AUTHENTICATED:
        return None
    if code in _FATAL_AUTH:
        return AuthFailed(text, provider=PROVIDER)
    return ProviderUnavailable(text, provider=PROVIDER, retryable=code not in _FATAL)
