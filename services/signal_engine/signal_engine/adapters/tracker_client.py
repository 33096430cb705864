"""The tracker's RPCs the engine uses: RecordSignals (SignalSink) and GetCalibration
(CalibrationSource)."""

from __future__ import annotations

from collections.abc import Sequence

import grpc
import structlog

from argo.tracker.v1 import tracker_pb2, tracker_pb2_grpc
from signal_engine.adapters.tracker_mapping import (
    calibration_from_pb,
    error_from_rpc,
    receipt_from_pb,
    signal_to_pb,
)
from signal_engine.domain import Calibration, CalibrationUnavailable, Signal, SinkUnavailable
from signal_engine.ports import RecordReceipt

log = structlog.get_logger(__name__)

# No calibration to apply: none fitted yet, or a tracker build without calibration.
_NO_CALIBRATION = {grpc.StatusCode.NOT_FOUND, grpc.StatusCode.UNIMPLEMENTED}


class TrackerSignalSink:
    """Each call carries its own deadline; gRPC errors become SinkUnavailable/SinkRejected."""

    def __init__(self, channel: grpc.aio.Channel, *, deadline_seconds: float = 2.0) -> None:
        self._stub = tracker_pb2_grpc.TrackerStub(channel)
        self._deadline = deadline_seconds

    async def record(self, signals: Sequence[Signal]) -> RecordReceipt:
        request = tracker_pb2.RecordSignalsRequest(signals=[signal_to_pb(s) for s in signals])
        try:
            response = await self._stub.RecordSignals(request, timeout=self._deadline)
        except grpc.aio.AioRpcError as e:
            raise error_from_rpc(e) from e
        except grpc.aio.UsageError as e:
            raise SinkUnavailable(f"tracker channel unusable: {e}") from e
        return receipt_from_pb(response)


class TrackerCalibrations:
    """NOT_FOUND and UNIMPLEMENTED mean "no calibration"; other failures are
    CalibrationUnavailable (the engine keeps what it cached)."""

    def __init__(self, channel: grpc.aio.Channel, *, deadline_seconds: float = 2.0) -> None:
        self._stub = tracker_pb2_grpc.TrackerStub(channel)
        self._deadline = deadline_seconds
        self._unimplemented_logged = False

    async def get_calibration(self, symbol: str) -> Calibration | None:
        request = tracker_pb2.GetCalibrationRequest(symbol=symbol)
        try:
            response = await self._stub.GetCalibration(request, timeout=self._deadline)
        except grpc.aio.AioRpcError as e:
            code = e.code()
            if code in _NO_CALIBRATION:
                if code == grpc.StatusCode.UNIMPLEMENTED and not self._unimplemented_logged:
                    self._unimplemented_logged = True
                    log.info("tracker_has_no_calibration", detail=e.details() or "")
                return None
            raise CalibrationUnavailable(
                f"tracker GetCalibration: {code.name}: {e.details() or ''}".rstrip(": ")
            ) from e
        except grpc.aio.UsageError as e:
            raise CalibrationUnavailable(f"tracker channel unusable: {e}") from e
        try:
            return calibration_from_pb(response)
        except ValueError as e:
            log.warning("calibration_malformed_ignored", symbol=symbol, error=str(e))
            return None
