"""The engine's error tree. Adapters translate library errors into these; the gRPC edge
maps them to status codes in one table (grpc_api/errors.py)."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the engine raises on purpose."""


class InvalidSymbol(DomainError):
    """A symbol is not a ticker or a crypto pair."""


class InsufficientHistory(DomainError):
    """Too few bars to compute the indicators a signal needs."""


class GatewayError(DomainError):
    """The market gateway failed in a way not classified below."""


class GatewayUnavailable(GatewayError):
    """The gateway cannot answer now; a retry may succeed (after `retry_after_ms`)."""

    def __init__(self, message: str, *, retry_after_ms: int = 0) -> None:
        super().__init__(message)
        self.retry_after_ms = retry_after_ms


class GatewayTimeout(GatewayUnavailable):
    """The gateway did not answer within the engine's per-call deadline."""


class GatewayRejected(GatewayError):
    """The gateway refused the request as malformed (INVALID_ARGUMENT)."""


class UnknownSymbol(GatewayError):
    """No provider behind the gateway knows the symbol."""


class SinkError(DomainError):
    """Base of failures delivering signals to the tracker."""


class SinkUnavailable(SinkError):
    """The tracker cannot store signals now; keep them and retry later."""


class SinkRejected(SinkError):
    """The tracker refused a batch as invalid; retrying it unchanged cannot succeed."""


class SentimentUnsupported(GatewayError):
    """The gateway has no sentiment providers in this build (UNIMPLEMENTED)."""


class CalibrationUnavailable(DomainError):
    """The tracker cannot say now whether a calibration exists; keep the cached one."""


class OutboxError(DomainError):
    """The durable outbox on local disk cannot be opened, read or written."""


class OutboxLocked(OutboxError):
    """Another engine process holds the outbox directory."""
