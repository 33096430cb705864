"""Chat-completion answers classified once, for every OpenAI-compatible provider.

Error bodies come as OpenAI's {"error": {"message", "code"}}, xAI's {"code", "error"},
or Zhipu's {"error": {"code": "1302", ...}}. 401/403 and 402 (DeepSeek: insufficient
balance) -> AuthFailed, as is a 429 about spent credits (xAI); other 429s, DashScope's
"quota exceeded" and Zhipu's 1302 -> RateLimited; 5xx and Zhipu's 1305 (overloaded) ->
retryable ProviderUnavailable; other 4xx (unknown model, bad parameter) -> non-retryable.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from market_gateway.adapters.common.http import (
    RawResponse,
    body_message,
    pushback_seconds,
    scrub,
    status_error,
)
from market_gateway.domain import AuthFailed, BadProviderData, ProviderUnavailable, RateLimited

_CREDIT_WORDS = ("credits", "spending limit", "insufficient balance", "billing")
_ZHIPU_RATE_LIMITED, _ZHIPU_OVERLOADED = "1302", "1305"


def check(
    raw: RawResponse, *, provider: str, now: datetime, secrets: tuple[str, ...]
) -> Mapping[str, Any]:
    """The JSON object of a completion, else the classified error."""
    message = scrub(body_message(raw.body, "error", "message"), secrets)
    code = _error_code(raw.body)
    lowered = message.lower()
    if raw.status == 402 or (raw.status == 429 and any(w in lowered for w in _CREDIT_WORDS)):
        raise AuthFailed(f"{provider}: out of credits ({message})", provider=provider)
    if code == _ZHIPU_RATE_LIMITED or "quota exceeded" in lowered:
        raise RateLimited(
            f"{provider}: rate limited ({message})",
            retry_after=pushback_seconds(raw, now),
            provider=provider,
        )
    if code == _ZHIPU_OVERLOADED:
        raise ProviderUnavailable(f"{provider}: overloaded ({message})", provider=provider)
    error = status_error(raw, provider=provider, now=now, message=message)
    if error is not None:
        raise error
    if not isinstance(raw.body, Mapping):
        raise BadProviderData(
            f"{provider}: answer is not a JSON object (HTTP {raw.status})",
            provider=provider,
            retryable=True,
        )
    return raw.body


def _error_code(body: Any) -> str:
    if not isinstance(body, Mapping):
        return ""
    error = body.get("error")
    code = error.get("code") if isinstance(error, Mapping) else body.get("code")
    return str(code) if code is not None else ""
