"""Rich gRPC errors: INVALID_ARGUMENT with google.rpc.BadRequest field violations.

grpcio-status builds the `grpc-status-details-bin` trailer; this module only adapts it to
the services' validation results so every servicer reports bad input the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NoReturn

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

FieldViolation = tuple[str, str]
"""(field path, description), e.g. ("symbols[2]", "must be 1..32 characters")."""


def bad_request_status(message: str, violations: Sequence[FieldViolation]) -> grpc.Status:
    detail = any_pb2.Any()
    detail.Pack(
        error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=f, description=d)
                for f, d in violations
            ]
        )
    )
    status = status_pb2.Status(code=code_pb2.INVALID_ARGUMENT, message=message, details=[detail])
    return rpc_status.to_status(status)


async def abort_invalid_argument(
    context: grpc.aio.ServicerContext, violations: Sequence[FieldViolation]
) -> NoReturn:
    """Abort the RPC with INVALID_ARGUMENT listing every violation."""
    summary = "; ".join(f"{f}: {d}" for f, d in violations) or "invalid request"
    await context.abort_with_status(bad_request_status(summary, violations))
    raise AssertionError("abort_with_status returned")  # pragma: no cover


def field_violations(error: grpc.aio.AioRpcError) -> list[FieldViolation]:
    """Client side: the BadRequest field violations carried by an error, if any."""
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    found: list[FieldViolation] = []
    if status is None:
        return found
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            found.extend((v.field, v.description) for v in bad.field_violations)
    return found
