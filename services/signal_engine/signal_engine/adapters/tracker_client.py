"""TrackerSignalSink: the SignalSink port over the tracker's RecordSignals RPC."""

from __future__ import annotations

from collections.abc import Sequence

import grpc

from argo.tracker.v1 import tracker_pb2, tracker_pb2_grpc
from signal_engine.adapters.tracker_mapping import error_from_rpc, signal_to_pb
from signal_engine.domain import Signal, SinkUnavailable


class TrackerSignalSink:
    """Each call carries its own deadline; gRPC errors become SinkUnavailable/SinkRejected."""

    def __init__(self, channel: grpc.aio.Channel, *, deadline_seconds: float = 2.0) -> None:
        self._stub = tracker_pb2_grpc.TrackerStub(channel)
        self._deadline = deadline_seconds

    async def record(self, signals: Sequence[Signal]) -> tuple[int, int]:
        request = tracker_pb2.RecordSignalsRequest(signals=[signal_to_pb(s) for s in signals])
        try:
            response = await self._stub.RecordSignals(request, timeout=self._deadline)
        except grpc.aio.AioRpcError as e:
            raise error_from_rpc(e) from e
        except grpc.aio.UsageError as e:
            raise SinkUnavailable(f"tracker channel unusable: {e}") from e
        return response.accepted, response.duplicate
