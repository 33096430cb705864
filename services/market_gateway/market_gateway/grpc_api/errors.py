"""The one table from exceptions to gRPC status codes, applied in `abort_for_error`.

Anything not in the table is a bug: it is logged once with its traceback and reported as
INTERNAL without details.
"""

from __future__ import annotations

from typing import NoReturn

import grpc
import structlog

from market_gateway.domain import (
    BadProviderData,
    InvalidRequest,
    InvalidSymbol,
    ProviderUnavailable,
    UnknownSymbol,
)
from service_runtime.grpc_errors import abort_invalid_argument

log = structlog.get_logger(__name__)

STATUS_BY_ERROR: dict[type[Exception], grpc.StatusCode] = {
    InvalidSymbol: grpc.StatusCode.INVALID_ARGUMENT,
    InvalidRequest: grpc.StatusCode.INVALID_ARGUMENT,
    UnknownSymbol: grpc.StatusCode.NOT_FOUND,
    ProviderUnavailable: grpc.StatusCode.UNAVAILABLE,
    BadProviderData: grpc.StatusCode.UNAVAILABLE,
    TimeoutError: grpc.StatusCode.DEADLINE_EXCEEDED,
}
RETRY_AFTER_KEY = "retry-after-ms"


def status_for(error: Exception) -> grpc.StatusCode | None:
    for kind in type(error).__mro__:
        code = STATUS_BY_ERROR.get(kind)
        if code is not None:
            return code
    return None


async def abort_for_error(context: grpc.aio.ServicerContext, error: Exception) -> NoReturn:
    """End the RPC with the status the table gives `error`."""
    code = status_for(error)
    if code is None:
        log.error("unhandled_error", exc_info=error)
        await context.abort(grpc.StatusCode.INTERNAL, "internal error")
    if isinstance(error, InvalidSymbol | InvalidRequest):
        await abort_invalid_argument(context, [(error.field, error.reason)])
    if isinstance(error, ProviderUnavailable) and error.retry_after is not None:
        context.set_trailing_metadata(((RETRY_AFTER_KEY, str(int(error.retry_after * 1000))),))
    if code is grpc.StatusCode.DEADLINE_EXCEEDED:
        await context.abort(code, "the caller's deadline passed before the answer was ready")
    await context.abort(code, str(error))
    raise AssertionError("abort returned")  # pragma: no cover
