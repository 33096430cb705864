"""What happened to one symbol, in the terms callers see.

A fetch ends for each symbol in a quote or an error. When no provider served a symbol the
error is the most telling one: UnknownSymbol when every provider that answered did not know
it; RateLimited (with the soonest retry) when every failure was a quota — the provider's
pushback or our own limiter; BadProviderData when the only failures were bad data; else
ProviderUnavailable naming each provider's reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from market_gateway.domain import (
    BadProviderData,
    ErrorReason,
    ProviderUnavailable,
    Quote,
    RateLimited,
    Symbol,
    SymbolError,
    UnknownSymbol,
    validate_quote,
)
from resilience.errors import CircuitOpen, DeadlineExceeded
from resilience.errors import RateLimited as LimiterRefused

Outcome = Quote | Exception
MAX_QUOTE_SKEW = timedelta(seconds=2)
_MAX_MESSAGE = 600


def usable_quote(quote: Quote, symbol: Symbol, now: datetime) -> Quote | BadProviderData:
    """The quote under its canonical symbol, or why it cannot be served."""
    try:
        validate_quote(quote, now, max_skew=MAX_QUOTE_SKEW)
    except BadProviderData as e:
        return BadProviderData(str(e), provider=quote.provider)
    if quote.symbol != symbol.canonical:
        quote = replace(quote, symbol=symbol.canonical)
    return quote


def failure_of(symbol: Symbol, said: Sequence[tuple[str, Exception | None]]) -> Exception:
    """The error to report for a symbol nobody served, from what each provider said
    (None: the provider does not know the symbol)."""
    errors = [(name, error) for name, error in said if error is not None]
    if not errors:
        return UnknownSymbol(symbol.canonical)
    waits = [retry_after(e) for _, e in errors if is_quota(e)]
    message = "; ".join(_named(name, describe(error)) for name, error in errors)[:_MAX_MESSAGE]
    if len(waits) == len(errors):
        return RateLimited(message, retry_after=min(w or 1.0 for w in waits))
    if all(isinstance(e, BadProviderData) for _, e in errors):
        return BadProviderData(message)
    return ProviderUnavailable(message)


def _named(provider: str, description: str) -> str:
    """`provider: description`, without doubling a name the adapter already put first."""
    if description.startswith(f"{provider}:"):
        return description
    return f"{provider}: {description}"


def is_quota(error: BaseException) -> bool:
    return isinstance(error, RateLimited | LimiterRefused)


def retry_after(error: BaseException) -> float | None:
    value = getattr(error, "retry_after", None)
    return float(value) if isinstance(value, int | float) else None


def describe(error: BaseException) -> str:
    if isinstance(error, TimeoutError | DeadlineExceeded):
        return "no answer before the deadline"
    if isinstance(error, CircuitOpen):
        return f"circuit open ({error})"
    return str(error) or type(error).__name__


def symbol_error(spelled: str, error: BaseException) -> SymbolError:
    """A per-symbol error under the caller's spelling."""
    if isinstance(error, UnknownSymbol):
        return SymbolError(spelled, ErrorReason.UNKNOWN_SYMBOL, f"no provider knows {spelled!r}")
    message = describe(error)
    if is_quota(error):
        wait_ms = int(round((retry_after(error) or 0.0) * 1000))
        return SymbolError(spelled, ErrorReason.RATE_LIMITED, message, max(wait_ms, 1))
    if isinstance(error, BadProviderData):
        return SymbolError(spelled, ErrorReason.BAD_DATA, message)
    return SymbolError(spelled, ErrorReason.PROVIDER_UNAVAILABLE, message)
