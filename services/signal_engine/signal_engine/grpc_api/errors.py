"""The one table from engine errors to gRPC status codes, applied in one place."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, NoReturn, TypeVar

import grpc
import structlog

from signal_engine.domain import (
    GatewayError,
    GatewayRejected,
    GatewayUnavailable,
    InsufficientHistory,
    InvalidSymbol,
    SinkError,
    UnknownSymbol,
)

log = structlog.get_logger(__name__)

# Most specific first is not needed: the exception's MRO is walked, nearest class wins.
ERROR_CODES: dict[type[Exception], grpc.StatusCode] = {
    InvalidSymbol: grpc.StatusCode.INVALID_ARGUMENT,
    GatewayRejected: grpc.StatusCode.INVALID_ARGUMENT,
    UnknownSymbol: grpc.StatusCode.NOT_FOUND,
    GatewayUnavailable: grpc.StatusCode.UNAVAILABLE,  # includes GatewayTimeout
    GatewayError: grpc.StatusCode.UNAVAILABLE,  # the gateway failed; a retry may succeed
    InsufficientHistory: grpc.StatusCode.FAILED_PRECONDITION,
    SinkError: grpc.StatusCode.UNAVAILABLE,
    TimeoutError: grpc.StatusCode.DEADLINE_EXCEEDED,  # the caller's deadline (see below)
}
RETRY_AFTER_KEY = "retry-after-ms"


def status_code_for(error: Exception) -> grpc.StatusCode | None:
    for cls in type(error).__mro__:
        code = ERROR_CODES.get(cls)
        if code is not None:
            return code
    return None


async def abort_with_error(context: grpc.aio.ServicerContext, error: Exception) -> NoReturn:
    """Abort the RPC with the table's code; unmapped errors are logged and become INTERNAL."""
    code = status_code_for(error)
    if code is None:
        log.error("unhandled_error", exc_info=error)
        await context.abort(grpc.StatusCode.INTERNAL, "internal error")
    retry_after_ms = getattr(error, "retry_after_ms", 0)
    if retry_after_ms:
        context.set_trailing_metadata(((RETRY_AFTER_KEY, str(retry_after_ms)),))
    message = str(error) or type(error).__name__
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        message = "the caller's deadline passed before signals were formed"
    await context.abort(code, message)
    raise AssertionError("context.abort returned")  # pragma: no cover


Handler = TypeVar("Handler", bound=Callable[..., Awaitable[Any]])


def translate_errors(handler: Handler) -> Handler:
    """Decorate a unary servicer method: errors raised inside go through the table."""

    @functools.wraps(handler)
    async def wrapper(self: Any, request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            return await handler(self, request, context)
        except grpc.aio.AbortError:
            raise
        except Exception as e:
            await abort_with_error(context, e)

    return wrapper  # type: ignore[return-value]


@contextlib.asynccontextmanager
async def caller_deadline(context: grpc.aio.ServicerContext) -> AsyncIterator[None]:
    """Give up (TimeoutError -> DEADLINE_EXCEEDED) when the caller's deadline passes."""
    remaining = context.time_remaining()
    async with asyncio.timeout(remaining if remaining is not None else None):
        yield
