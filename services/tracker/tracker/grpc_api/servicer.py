"""argo.tracker.v1.Tracker over the use cases: validate -> map -> app -> map."""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from argo.tracker.v1 import tracker_pb2, tracker_pb2_grpc
from service_runtime.grpc_errors import abort_invalid_argument
from tracker.app import AnalyticsService, ArchiveService, CalibrationService, TrackerApp
from tracker.grpc_api import mapping, operations_mapping, validation
from tracker.grpc_api.errors import rpc_boundary

SERVICE_NAME = tracker_pb2.DESCRIPTOR.services_by_name["Tracker"].full_name


@dataclass(frozen=True)
class TrackerUseCases:
    tracker: TrackerApp
    calibration: CalibrationService
    archive: ArchiveService
    analytics: AnalyticsService


class TrackerServicer(tracker_pb2_grpc.TrackerServicer):
    def __init__(self, use_cases: TrackerUseCases) -> None:
        self._app = use_cases.tracker
        self._calibration = use_cases.calibration
        self._archive = use_cases.archive
        self._analytics = use_cases.analytics

    @rpc_boundary
    async def RecordSignals(
        self, request: tracker_pb2.RecordSignalsRequest, context: grpc.aio.ServicerContext
    ) -> tracker_pb2.RecordSignalsResponse:
        if violations := validation.record_request_violations(request):
            await abort_invalid_argument(context, violations)
        items = [validation.record_item(pb) for pb in request.signals]
        batch = await self._app.record_signals(items, all_or_nothing=request.all_or_nothing)
        return mapping.record_response(batch)

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
        return operations_mapping.calibration_response(await self._calibration.get(request.symbol))

    @rpc_boundary
    async def RunArchive(
        self, request: tracker_pb2.RunArchiveRequest, context: grpc.aio.ServicerContext
    ) -> tracker_pb2.RunArchiveResponse:
        violations = validation.archive_request_violations(request)
        day = validation.parse_day(request.date)
        if violations or day is None:
            await abort_invalid_argument(context, violations)
            raise AssertionError("abort returned")  # pragma: no cover
        return operations_mapping.archive_response(await self._archive.run(day))

    @rpc_boundary
    async def ListArchives(
        self, request: tracker_pb2.ListArchivesRequest, context: grpc.aio.ServicerContext
    ) -> tracker_pb2.ListArchivesResponse:
        if violations := validation.list_archives_violations(request):
            await abort_invalid_argument(context, violations)
        manifests, token = await self._archive.list_archives(
            validation.parse_day(request.start_date),
            validation.parse_day(request.end_date),
            request.page_size,
            request.page_token,
        )
        return tracker_pb2.ListArchivesResponse(
            manifests=[operations_mapping.manifest_to_pb(m) for m in manifests],
            next_page_token=token,
        )

    @rpc_boundary
    async def GetAnalytics(
        self, request: tracker_pb2.GetAnalyticsRequest, context: grpc.aio.ServicerContext
    ) -> tracker_pb2.GetAnalyticsResponse:
        found = await self._analytics.get(request.days, request.symbol or None)
        return operations_mapping.analytics_response(found)


def register(server: grpc.aio.Server, use_cases: TrackerUseCases) -> None:
    tracker_pb2_grpc.add_TrackerServicer_to_server(TrackerServicer(use_cases), server)
