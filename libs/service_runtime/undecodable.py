"""Requests whose bytes are not the method's protobuf message get INVALID_ARGUMENT.

grpc.aio decodes a request before any servicer code runs; when the deserializer raises it
answers UNKNOWN ("Unexpected DecodeError") and logs an error with a traceback. Neither
grpcio nor its interceptors offer a hook for that, so `refuse_undecodable` wraps each
handler's deserializer: a DecodeError yields a marker instead, and the wrapped behaviour
aborts the call with INVALID_ARGUMENT and a field violation on the whole request ("").
It must be the innermost wrapper (service_runtime.wrapping_server), so the outer ones
(spans, metrics, auth) see the call and copy the safe deserializer into their handlers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import grpc
import structlog
from google.protobuf.message import DecodeError

from service_runtime.grpc_errors import bad_request_status

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class _Undecodable:
    reason: str


def _safe(deserializer: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    if deserializer is None:
        return None

    def decode(data: bytes) -> Any:
        try:
            return deserializer(data)
        except (DecodeError, UnicodeDecodeError) as e:
            return _Undecodable(str(e) or type(e).__name__)

    return decode


async def _refuse(method: str, request: _Undecodable, context: grpc.aio.ServicerContext) -> None:
    log.info("request_undecodable", rpc_method=method, reason=request.reason)
    status = bad_request_status(
        f"the request is not a valid message for {method}: {request.reason}",
        [("", "not a valid protobuf encoding of the request message")],
    )
    await context.abort_with_status(status)


def refuse_undecodable(method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
    """The handler with a deserializer that cannot raise (unary and server-streaming calls;
    grpc's own services, health and reflection, keep their handlers)."""
    if handler.request_streaming or method.startswith("/grpc."):
        return handler
    return _guard(method, handler)


def _guard(method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
    if handler.unary_unary is not None:
        return grpc.unary_unary_rpc_method_handler(
            _unary(method, handler.unary_unary),
            request_deserializer=_safe(handler.request_deserializer),
            response_serializer=handler.response_serializer,
        )
    if handler.unary_stream is not None:
        return grpc.unary_stream_rpc_method_handler(
            _stream(method, handler.unary_stream),
            request_deserializer=_safe(handler.request_deserializer),
            response_serializer=handler.response_serializer,
        )
    return handler


def _unary(method: str, behaviour: Any) -> Any:
    async def guarded(request: Any, context: grpc.aio.ServicerContext) -> Any:
        if isinstance(request, _Undecodable):
            await _refuse(method, request, context)
            return None
        return await behaviour(request, context)

    return guarded


def _stream(method: str, behaviour: Any) -> Any:
    async def guarded(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        if isinstance(request, _Undecodable):
            await _refuse(method, request, context)
            return
        async for item in behaviour(request, context):
            yield item

    return guarded
