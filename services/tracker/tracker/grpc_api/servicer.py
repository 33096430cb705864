"""argo.tracker.v1.Tracker over the use cases: validate -> map -> app -> map."""

from __future__ import annotations

import grpc

from argo.tracker.v1 import tracker_pb2, tracker_pb2_grpc
from service_runtime.grpc_errors import abort_invalid_argument
from tracker.app import TrackerApp
from tracker.grpc_api import mapping, validation
from tracker.grpc_api.errors import rpc_boundary

SERVICE_NAME = tracker_pb2.DESCRIPTOR.services_by_name["Tracker"].full_name
NOT_YET = "{rpc} is not implemented in this build; it arrives with tracker issue #6 ({what})"


class TrackerServicer(tracker_pb2_grpc.TrackerServicer):
    def __init__(self, app: TrackerApp) -> None:
        self._app = app

    @rpc_boundary
    async def RecordSignals(
        self, request: tracker_pb2.RecordSignalsRequest, context: grpc.aio.ServicerContext
    ) -> tracker_pb2.RecordSignalsResponse:
        if violations := validation.record_request_violations(request):
            await abort_invalid_argument(context, violations)
        signals = [mapping.signal_from_pb(pb) for pb in request.signals]
        return mapping.record_response(await self._app.record_signals(signals))

    @rpc_boundary
    async def QuerySignals(
        self, request: tracker_pb2.QuerySignalsRequest, context: grpc.aio.ServicerContext
    ) -> tracker_pb2.QuerySignalsResponse:
        if violations := validation.query_request_violations(request):
            await abort_invalid_argument(context, violations)
        page = await self._app.query_signals(
            mapping.filter_from_pb(request.filter), request.page_size, request.page_token
        )
        return mapping.query_response(page)

    @rpc_boundary
    async def GetOutcomeStats(
        self, request: tracker_pb2.GetOutcomeStatsRequest, context: grpc.aio.ServicerContext
    ) -> tracker_pb2.GetOutcomeStatsResponse:
        stats = await self._app.outcome_stats(request.days, request.symbol or None)
        return mapping.stats_response(stats)

    @rpc_boundary
    async def GetCalibration(
        self, request: tracker_pb2.GetCalibrationRequest, context: grpc.aio.ServicerContext
    ) -> tracker_pb2.GetCalibrationResponse:
        if violations := validation.calibration_request_violations(request):
            await abort_invalid_argument(context, violations)
        message = NOT_YET.format(rpc="GetCalibration", what="confidence calibration")
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, message)
        raise AssertionError("abort returned")  # pragma: no cover

    @rpc_boundary
    async def RunArchive(
        self, request: tracker_pb2.RunArchiveRequest, context: grpc.aio.ServicerContext
    ) -> tracker_pb2.RunArchiveResponse:
        if violations := validation.archive_request_violations(request):
            await abort_invalid_argument(context, violations)
        message = NOT_YET.format(rpc="RunArchive", what="Parquet archive")
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, message)
        raise AssertionError("abort returned")  # pragma: no cover


def register(server: grpc.aio.Server, app: TrackerApp) -> None:
    tracker_pb2_grpc.add_TrackerServicer_to_server(TrackerServicer(app), server)
