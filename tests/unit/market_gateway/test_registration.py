"""GetQuotes' handler sends its pre-encoded bytes as they are; every other method is
serialized as the generated code would."""

from __future__ import annotations

import grpc

from argo.marketdata.v1 import marketdata_pb2_grpc as pb_grpc
from market_gateway.grpc_api import registration

SERVICE = "argo.marketdata.v1.MarketGateway"


class Recorder:
    """Records what the generated registration hands to a server."""

    def __init__(self) -> None:
        self.generic: list[grpc.GenericRpcHandler] = []
        self.registered: dict[str, grpc.RpcMethodHandler] = {}

    def add_generic_rpc_handlers(self, handlers: tuple[grpc.GenericRpcHandler, ...]) -> None:
        self.generic.extend(handlers)

    def add_registered_method_handlers(
        self, service: str, handlers: dict[str, grpc.RpcMethodHandler]
    ) -> None:
        assert service == SERVICE
        self.registered.update(handlers)


class Details(grpc.HandlerCallDetails):  # type: ignore[misc]
    def __init__(self, method: str) -> None:
        self.method = method
        self.invocation_metadata = ()


def test_only_get_quotes_passes_bytes_through() -> None:
    server = Recorder()
    registration.add_to_server(pb_grpc.MarketGatewayServicer(), server)  # type: ignore[abstract,arg-type]
    (generic,) = server.generic
    for method in ("GetQuotes", "GetBars", "GetSentiment", "StreamQuotes", "GetProviderStatus"):
        registered = server.registered[method]
        looked_up = generic.service(Details(f"/{SERVICE}/{method}"))
        assert looked_up is not None
        for handler in (registered, looked_up):
            passes_bytes = handler.response_serializer is bytes
            assert passes_bytes == (method == "GetQuotes"), method
    first = generic.service(Details(f"/{SERVICE}/GetQuotes"))
    assert generic.service(Details(f"/{SERVICE}/GetQuotes")) is first  # built once
    assert generic.service(Details("/other.Service/GetQuotes")) is None
