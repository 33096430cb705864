"""The one table from exceptions to gRPC status codes, applied at every RPC's boundary."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, NoReturn, TypeVar

import grpc
import structlog

from service_runtime.grpc_errors import abort_invalid_argument
from tracker.domain import (
    ArchiveCorrupted,
    ArchiveUnavailable,
    InvalidArgument,
    NotFound,
    PriceDataUnavailable,
    StorageUnavailable,
)

log = structlog.get_logger(__name__)

STATUS_BY_ERROR: dict[type[Exception], grpc.StatusCode] = {
    InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,  # InvalidSignal, InvalidQuery
    NotFound: grpc.StatusCode.NOT_FOUND,  # CalibrationNotFound
    StorageUnavailable: grpc.StatusCode.UNAVAILABLE,
    ArchiveUnavailable: grpc.StatusCode.UNAVAILABLE,
    PriceDataUnavailable: grpc.StatusCode.UNAVAILABLE,
    ArchiveCorrupted: grpc.StatusCode.DATA_LOSS,
    TimeoutError: grpc.StatusCode.DEADLINE_EXCEEDED,
}
# What callers are told for outages; the cause (host, driver message) is logged instead.
_UNAVAILABLE_MESSAGES: dict[type[Exception], str] = {
    StorageUnavailable: "the tracker's database is unavailable; retry with backoff",
    ArchiveUnavailable: "the tracker's archive object store is unavailable; retry with backoff",
    PriceDataUnavailable: "the market gateway is unavailable; retry with backoff",
}

ServicerT = TypeVar("ServicerT")
RequestT = TypeVar("RequestT")
ResponseT = TypeVar("ResponseT")


def status_for(error: Exception) -> grpc.StatusCode | None:
    """The mapped status of the error's class or its nearest mapped base class."""
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return None


async def abort_for(context: grpc.aio.ServicerContext, error: Exception) -> NoReturn:
    """Abort the RPC with the error's status; unmapped errors are bugs: INTERNAL."""
    code = status_for(error)
    if isinstance(error, InvalidArgument):
        await abort_invalid_argument(context, error.violations)
    if code is grpc.StatusCode.DEADLINE_EXCEEDED:
        await context.abort(code, "the caller's deadline passed before the tracker finished")
    if code is grpc.StatusCode.UNAVAILABLE:
        message = next(m for cls, m in _UNAVAILABLE_MESSAGES.items() if isinstance(error, cls))
        await context.abort(code, message)
    if code is not None:
        await context.abort(code, str(error))
    log.error("rpc_failed_unexpectedly", error_type=type(error).__name__, exc_info=error)
    await context.abort(grpc.StatusCode.INTERNAL, "internal error; see the tracker's logs")
    raise AssertionError("abort returned")  # pragma: no cover


def rpc_boundary(
    method: Callable[[ServicerT, RequestT, Any], Awaitable[ResponseT]],
) -> Callable[[ServicerT, RequestT, Any], Coroutine[Any, Any, ResponseT]]:
    """Run an RPC within the caller's deadline and map its exceptions through the table."""

    @functools.wraps(method)
    async def boundary(self: ServicerT, request: RequestT, context: Any) -> ResponseT:
        try:
            async with asyncio.timeout(context.time_remaining()):
                return await method(self, request, context)
        except grpc.aio.AbortError:
            raise
        except Exception as e:
            await abort_for(context, e)

    return boundary
