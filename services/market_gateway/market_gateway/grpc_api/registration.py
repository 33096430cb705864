"""How the MarketGateway service is added to a server: the generated registration, except
that GetQuotes' response goes out as the bytes its handler returns.

GetQuotes answers with bytes (grpc_api.quote_encoding joins pre-encoded quotes): parsing
them into a message only for grpc to serialize it again cost about 2 µs a call on the warm
path, and grows with the number of quotes. grpcio takes each method's serializer from its
handler, and the generated `add_MarketGatewayServicer_to_server` fixes it to the message's
`SerializeToString`; the server handed to it here swaps that one serializer for `bytes`
(which returns a bytes object itself, in C) on the way through, for the generated code's
registered and generic handlers alike.
"""

from __future__ import annotations

from collections.abc import Sequence

import grpc

from argo.marketdata.v1 import marketdata_pb2_grpc as pb_grpc

PRE_ENCODED = frozenset({"GetQuotes"})  # methods whose handlers answer with bytes


def add_to_server(servicer: pb_grpc.MarketGatewayServicer, server: grpc.aio.Server) -> None:
    pb_grpc.add_MarketGatewayServicer_to_server(servicer, _PreEncodingServer(server))


def _swapped(handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
    return grpc.unary_unary_rpc_method_handler(
        handler.unary_unary,
        request_deserializer=handler.request_deserializer,
        response_serializer=bytes,
    )


class _PreEncodingServer:
    """Just enough of a server for the generated registration."""

    def __init__(self, server: grpc.aio.Server) -> None:
        self._server = server

    def add_generic_rpc_handlers(self, handlers: Sequence[grpc.GenericRpcHandler]) -> None:
        self._server.add_generic_rpc_handlers(tuple(_PreEncodingGeneric(h) for h in handlers))

    def add_registered_method_handlers(
        self, service: str, handlers: dict[str, grpc.RpcMethodHandler]
    ) -> None:
        swapped = {name: _swapped(h) if name in PRE_ENCODED else h for name, h in handlers.items()}
        self._server.add_registered_method_handlers(service, swapped)


class _PreEncodingGeneric(grpc.GenericRpcHandler):  # type: ignore[misc]
    def __init__(self, inner: grpc.GenericRpcHandler) -> None:
        self._inner = inner
        self._swapped: dict[str, tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler]] = {}

    def service(self, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        handler = self._inner.service(details)
        method: str = details.method
        if handler is None or method.rpartition("/")[2] not in PRE_ENCODED:
            return handler
        known = self._swapped.get(method)
        if known is None or known[0] is not handler:
            known = self._swapped[method] = (handler, _swapped(handler))
        return known[1]
