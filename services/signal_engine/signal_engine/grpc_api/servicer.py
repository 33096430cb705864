"""argo.signals.v1.SignalEngine servicer: validate -> app -> mapping. Nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import grpc
import structlog

from argo.signals.v1 import signals_pb2 as pb
from argo.signals.v1 import signals_pb2_grpc
from service_runtime.grpc_errors import abort_invalid_argument
from signal_engine.app import EngineApp
from signal_engine.grpc_api import mapping
from signal_engine.grpc_api.errors import abort_with_error, caller_deadline, translate_errors
from signal_engine.grpc_api.validation import symbols_violations

log = structlog.get_logger(__name__)


async def _validate_symbols(context: grpc.aio.ServicerContext, symbols: Sequence[str]) -> None:
    violations = symbols_violations(symbols)
    if violations:
        await abort_invalid_argument(context, violations)


class SignalEngineServicer(signals_pb2_grpc.SignalEngineServicer):
    def __init__(self, app: EngineApp) -> None:
        self._app = app

    @translate_errors
    async def GenerateSignals(
        self, request: pb.GenerateSignalsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GenerateSignalsResponse:
        await _validate_symbols(context, request.symbols)
        async with caller_deadline(context):
            result = await self._app.generate(list(request.symbols), force=request.force)
        return mapping.generate_response(result)

    @translate_errors
    async def GetLatestSignals(
        self, request: pb.GetLatestSignalsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetLatestSignalsResponse:
        await _validate_symbols(context, request.symbols)
        signals, missing = self._app.latest(list(request.symbols))
        return mapping.latest_response(signals, missing)

    async def StreamSignals(
        self, request: pb.StreamSignalsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.StreamSignalsResponse]:
        await _validate_symbols(context, request.symbols)
        try:
            subscription = self._app.subscribe(list(request.symbols))
        except Exception as e:
            await abort_with_error(context, e)
        async with subscription:  # closed on cancel, on error and at shutdown
            # Headers go out once the subscription is live: a client that awaited them
            # receives every signal formed afterwards.
            await context.send_initial_metadata(())
            log.info("signal_stream_opened", symbols=len(request.symbols))
            async for signal in subscription:
                yield pb.StreamSignalsResponse(signal=mapping.signal_to_pb(signal))

    @translate_errors
    async def GetEngineStats(
        self, request: pb.GetEngineStatsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetEngineStatsResponse:
        return mapping.stats_to_pb(self._app.stats())
