"""One pooled `httpx.AsyncClient` per provider, and the one place a call's outcome is read.

`fetch` turns transport failures into `ProviderUnavailable` without the request URL (some
providers carry the key in the query) and hands the provider's `errors.py` a `RawResponse`
to classify. `pushback_seconds` reads Retry-After / X-RateLimit-* via libs/resilience.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from market_gateway.domain import AuthFailed, ProviderUnavailable, RateLimited
from resilience.pushback import DEFAULT_429_PAUSE, parse_response

_SNIPPET_CHARS = 300
USER_AGENT = "argo-market-gateway/1"


@dataclass(frozen=True, slots=True)
class HttpOptions:
    """Timeouts (seconds) and pool size of one provider's client."""

    connect_timeout: float = 3.0
    read_timeout: float = 10.0
    write_timeout: float = 5.0
    pool_timeout: float = 2.0
    max_connections: int = 20
    max_keepalive: int = 10


def new_client(
    base_url: str,
    *,
    headers: Mapping[str, str] | None = None,
    options: HttpOptions | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """A pooled client for one provider; the caller closes it (bootstrap's exit stack)."""
    # httpx logs every request line (query included) at INFO; a key in a query must not leak.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    options = options or HttpOptions()
    timeout = httpx.Timeout(
        connect=options.connect_timeout,
        read=options.read_timeout,
        write=options.write_timeout,
        pool=options.pool_timeout,
    )
    limits = httpx.Limits(
        max_connections=options.max_connections,
        max_keepalive_connections=options.max_keepalive,
    )
    return httpx.AsyncClient(
        base_url=base_url.rstrip("/"),
        headers={"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})},
        timeout=timeout,
        limits=limits,
        transport=transport,
        follow_redirects=False,
    )


@dataclass(frozen=True, slots=True)
class RawResponse:
    """What came back: status, headers, the JSON body (None if not JSON), a text snippet."""

    status: int
    headers: Mapping[str, str]
    body: Any
    snippet: str

    @property
    def is_json(self) -> bool:
        return self.body is not None


async def fetch(
    client: httpx.AsyncClient,
    path: str,
    *,
    provider: str,
    params: Mapping[str, str | int | float] | None = None,
    json_body: Mapping[str, Any] | None = None,
) -> RawResponse:
    """GET (or POST with `json_body`) `path`; transport errors become ProviderUnavailable."""
    try:
        if json_body is None:
            response = await client.get(path, params=params)
        else:
            response = await client.post(path, params=params, json=json_body)
        raw = response.content
    except httpx.TimeoutException as e:
        raise ProviderUnavailable(
            f"{provider}: no answer in time ({type(e).__name__})", provider=provider
        ) from None
    except httpx.HTTPError as e:  # connect/read/protocol errors; str(e) may hold the URL
        raise ProviderUnavailable(
            f"{provider}: request failed ({type(e).__name__})", provider=provider
        ) from None
    text = raw.decode("utf-8", errors="replace")
    try:
        body: Any = json.loads(text) if text.strip() else None
    except ValueError:
        body = None
    return RawResponse(response.status_code, response.headers, body, text[:_SNIPPET_CHARS])


def pushback_seconds(raw: RawResponse, now: datetime) -> float:
    """Seconds the provider asked us to wait (Retry-After, X-RateLimit-*), default 1 s."""
    found = parse_response(raw.status, raw.headers, now)
    if found is None:
        return DEFAULT_429_PAUSE.total_seconds()
    return max((found.until - now).total_seconds(), 0.001)


def body_message(body: Any, *keys: str) -> str:
    """The first string among `keys` of an error body (nested {"error": {"message"}} too)."""
    if isinstance(body, Mapping):
        for key in keys:
            value = body.get(key)
            if isinstance(value, str) and value:
                return value[:_SNIPPET_CHARS]
            if isinstance(value, Mapping):
                inner = body_message(value, "message", "msg", "error")
                if inner:
                    return inner
    return ""


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    """`text` with every configured secret value masked (providers may echo a bad key)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def status_error(
    raw: RawResponse, *, provider: str, now: datetime, message: str
) -> ProviderUnavailable | None:
    """The classified error an HTTP status means, or None for 2xx/3xx.

    429 -> RateLimited (Retry-After / X-RateLimit-* or 1 s); 401/403 -> AuthFailed;
    5xx -> retryable ProviderUnavailable (with the pushback when 503 carries one);
    other 4xx -> non-retryable ProviderUnavailable (our request is wrong: retrying is futile).
    """
    status = raw.status
    detail = f" ({message})" if message else ""
    if status == 429:
        return RateLimited(
            f"{provider}: rate limited (HTTP 429){detail}",
            retry_after=pushback_seconds(raw, now),
            provider=provider,
        )
    if status in (401, 403):
        return AuthFailed(f"{provider}: not authorized (HTTP {status}){detail}", provider=provider)
    if status >= 500:
        retry_after = pushback_seconds(raw, now) if "retry-after" in raw.headers else None
        return ProviderUnavailable(
            f"{provider}: server error (HTTP {status}){detail}",
            provider=provider,
            retry_after=retry_after,
        )
    if status >= 400:
        return ProviderUnavailable(
            f"{provider}: request rejected (HTTP {status}){detail}",
            provider=provider,
            retryable=False,
        )
    return None
