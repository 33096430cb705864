"""The gateway's error tree: what its use cases raise on purpose (pure, stdlib only)."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the gateway's use cases raise on purpose."""


class InvalidSymbol(DomainError):
    """The text is not a ticker or crypto pair in any accepted spelling."""

    def __init__(self, symbol: str, reason: str, *, field: str = "symbol") -> None:
        super().__init__(f"invalid symbol {symbol!r}: {reason}")
        self.symbol = symbol
        self.reason = reason
        self.field = field


class InvalidRequest(DomainError):
    """A request argument is out of range; `field` names it (e.g. "limit")."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class InvalidResumeToken(InvalidRequest):
    """A stream resume token is not one this gateway issued."""

    def __init__(self, reason: str) -> None:
        super().__init__("resume_token", reason)


class UnknownSymbol(DomainError):
    """The symbol is well formed but no provider knows it."""

    def __init__(self, symbol: str) -> None:
        super().__init__(f"no provider knows {symbol!r}")
        self.symbol = symbol


class ProviderUnavailable(DomainError):
    """No provider could answer; `retry_after` (seconds) is set when a quota is the cause.

    Adapters raise it (or a subclass) once per failed call, classified: `provider` names
    the provider, `retryable` says whether trying the same call again may succeed (read by
    `resilience.Retry`). Messages never contain credentials or request URLs.
    """

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        provider: str = "",
        retryable: bool = True,
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.provider = provider
        self.retryable = retryable

    @property
    def is_retryable(self) -> bool:
        return self.retryable


class RateLimited(ProviderUnavailable):
    """The provider's quota is spent: come back after `retry_after` seconds."""

    def __init__(self, message: str, *, retry_after: float, provider: str = "") -> None:
        super().__init__(
            message, retry_after=max(retry_after, 0.001), provider=provider, retryable=True
        )
        self.retry_after: float = max(retry_after, 0.001)


class AuthFailed(ProviderUnavailable):
    """The provider rejected the credentials or the plan does not cover the request."""

    def __init__(self, message: str, *, provider: str = "") -> None:
        super().__init__(message, provider=provider, retryable=False)


class BadProviderData(ProviderUnavailable):
    """A provider answered with data that failed validation (a body that is not data, a
    non-finite or non-positive price, a time in the future...). Retryable only when the
    body was cut short or unreadable, not when its content is wrong."""

    def __init__(self, message: str, *, provider: str = "", retryable: bool = False) -> None:
        super().__init__(message, provider=provider, retryable=retryable)
