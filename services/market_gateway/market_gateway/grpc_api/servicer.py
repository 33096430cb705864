"""argo.marketdata.v1.MarketGateway: validate -> map -> await the app -> map back.

The caller's deadline: the app ends every upstream call within `time_left` and answers with
what it has (partial results, per-symbol errors). Should it overrun anyway, grpc.aio cancels
the handler when the deadline passes, so no timer of our own is armed per call.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc

from argo.marketdata.v1 import marketdata_pb2 as pb
from argo.marketdata.v1 import marketdata_pb2_grpc as pb_grpc
from market_gateway.app import MarketGatewayApp
from market_gateway.domain import ProviderUnavailable, SymbolError
from market_gateway.grpc_api import mapping, validation
from market_gateway.grpc_api.errors import abort_for_error
from market_gateway.grpc_api.quote_encoding import QuotesEncoder
from service_runtime.grpc_errors import abort_invalid_argument

SERVICE_NAME = "argo.marketdata.v1.MarketGateway"
# Leave the app this much of the caller's time to answer with what it has (partial results,
# per-symbol errors) before the caller's deadline passes.
ANSWER_MARGIN_SECONDS = 0.05


class MarketGatewayServicer(pb_grpc.MarketGatewayServicer):
    def __init__(self, app: MarketGatewayApp) -> None:
        self._app = app
        self._quotes = QuotesEncoder()

    async def GetQuotes(  # type: ignore[override]
        self, request: pb.GetQuotesRequest, context: grpc.aio.ServicerContext
    ) -> bytes:
        """The response comes encoded: register the servicer with
        `grpc_api.registration.add_to_server`, which sends the bytes as they are (the
        generated registration would try to serialize them and fail every call)."""
        if violations := validation.quotes_request(request):
            await abort_invalid_argument(context, violations)
        try:
            quotes, errors = await self._app.get_quotes(
                list(request.symbols), request.max_age_ms, time_left=_time_left(context)
            )
            if not quotes and any(error.retryable for error in errors):
                raise _nothing_served(errors)
        except Exception as e:
            await abort_for_error(context, e)
        return self._quotes.response(quotes, errors)

    async def GetBars(
        self, request: pb.GetBarsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetBarsResponse:
        if violations := validation.bars_request(request):
            await abort_invalid_argument(context, violations)
        start, end = mapping.bars_window_from_pb(request)
        timeframe = mapping.TIMEFRAME_FROM_PB[request.timeframe]
        try:
            series = await self._app.get_bars(
                request.symbol,
                timeframe,
                limit=request.limit,
                start=start,
                end=end,
                time_left=_time_left(context),
            )
        except Exception as e:
            await abort_for_error(context, e)
        return mapping.bars_response_to_pb(series)

    async def GetSentiment(
        self, request: pb.GetSentimentRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetSentimentResponse:
        if violations := validation.sentiment_request(request):
            await abort_invalid_argument(context, violations)
        try:
            verdict = await self._app.get_sentiment(request.symbol, time_left=_time_left(context))
        except Exception as e:
            await abort_for_error(context, e)
        return mapping.sentiment_to_pb(verdict)

    async def StreamQuotes(
        self, request: pb.StreamQuotesRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.StreamQuotesResponse]:
        if violations := validation.stream_request(request):
            await abort_invalid_argument(context, violations)
        events = self._app.stream_quotes(list(request.symbols), request.resume_token)
        try:
            async for event in events:
                yield mapping.stream_event_to_pb(event)
        except Exception as e:
            await abort_for_error(context, e)
        finally:
            await events.aclose()
        # The app ends streams only when the gateway shuts down; tell clients to reconnect.
        await context.abort(
            grpc.StatusCode.UNAVAILABLE,
            "gateway is shutting down; reconnect with the last resume_token",
        )

    async def GetProviderStatus(
        self, request: pb.GetProviderStatusRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetProviderStatusResponse:
        statuses = await self._app.provider_status()
        return pb.GetProviderStatusResponse(
            providers=[mapping.provider_status_to_pb(status) for status in statuses]
        )


def _time_left(context: grpc.aio.ServicerContext) -> float | None:
    """The caller's remaining time minus a margin to answer in (None: no deadline)."""
    remaining: float | None = context.time_remaining()
    if remaining is None:
        return None
    return max(remaining - min(ANSWER_MARGIN_SECONDS, remaining * 0.1), 0.0)


def _nothing_served(errors: list[SymbolError]) -> ProviderUnavailable:
    waits = [e.retry_after_ms for e in errors if e.retry_after_ms > 0]
    retry_after = min(waits) / 1000 if waits else None
    return ProviderUnavailable(
        f"no symbol could be served: {errors[0].message}", retry_after=retry_after
    )
