"""Broken answers and dropped WebSockets against the real gateway process.

Malformed, truncated and HTML bodies are classified as the provider's failure (visible in
GetProviderStatus and argo_data_source_requests_total), the gateway neither crashes nor
serves or caches anything from them, and callers get a healthy provider's quote. A feed
whose WebSocket drops without a close frame is reconnected and its gap back-filled.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from argo.marketdata.v1 import marketdata_pb2 as pb
from tests.chaos.gateway_process import running_gateway, wait_until
from tests.chaos.sim_process import SimProcess

pytestmark = [pytest.mark.chaos, pytest.mark.e2e]
# fault switch -> words GetProviderStatus' last_error must carry for the garbling provider
BAD_BODIES = {
    "malformed_rate": "answer is not JSON",  # BadProviderData
    "truncated_rate": "request failed (RemoteProtocolError)",  # cut body: a transport error
    "html_rate": "server error (HTTP 502)",  # the nginx page's status, not its HTML
}


@pytest.mark.asyncio
@pytest.mark.parametrize(("garbling", "healthy"), [("polygon", "alpaca"), ("alpaca", "polygon")])
async def test_malformed_truncated_and_html_bodies_are_classified_and_never_served(
    sim: SimProcess, tmp_path: Path, chaos_anchor: str, garbling: str, healthy: str
) -> None:
    """Lost if it failed: a garbled provider answer would crash the gateway, reach callers
    as INTERNAL or as a wrong price, or sit in the cache and be served after the fault;
    operators could not tell which provider sends garbage."""
    tunables = {
        "resilience": {"breaker_failure_threshold": 100},  # every call reaches it,
        "routing": {"quotes": [garbling, healthy]},  # first
    }
    providers = ("polygon", "alpaca")
    async with running_gateway(
        tmp_path, sim, chaos_anchor, providers=providers, tunables=tunables
    ) as gw:
        errors = "argo_data_source_requests_total"
        for fault, words in BAD_BODIES.items():
            await sim.configure({"providers": {garbling: {"faults": {fault: 1.0}}}})
            before = await gw.metric(errors, source=garbling, status="error")
            symbols = ["AAPL", "MSFT", "BTC-USD"]
            reply = await gw.quotes(symbols, max_age_ms=1)
            assert not reply.errors, (fault, reply.errors)
            for quote in reply.quotes:
                assert quote.provider == healthy, (fault, quote)
                assert math.isfinite(quote.price) and quote.price > 0
                no_book = healthy == "polygon" and quote.symbol == "BTC-USD"  # trades only
                assert 0 < quote.bid <= quote.ask or (no_book and quote.bid == quote.ask == 0)
            cached = await gw.quotes(symbols)  # what the cache kept is the healthy one's
            assert [(q.provider, q.price) for q in cached.quotes] == [
                (q.provider, q.price) for q in reply.quotes
            ]
            assert {q.cache_status for q in cached.quotes} == {pb.CACHE_STATUS_HIT_LOCAL}
            status = await gw.status(garbling)
            assert status.last_error.startswith(garbling) and words in status.last_error
            assert await gw.metric(errors, source=garbling, status="error") > before
            await sim.configure({"providers": {garbling: {"faults": {fault: None}}}})
        assert gw.alive() and "Traceback" not in gw.log_text()


@pytest.mark.asyncio
async def test_a_dropped_websocket_is_reconnected_and_its_gap_back_filled(
    sim: SimProcess, tmp_path: Path, chaos_anchor: str
) -> None:
    """Lost if it failed: after a provider feed dropped (no close frame), stream callers
    would silently miss the updates of the outage, or the stream would stop for good."""
    drops = {"stream": {"drop_after_frames": 5, "drop_mode": "abort"}}
    await sim.configure({"providers": {"polygon": drops}})
    tunables = {"optimizations": {"streams": True}, "routing": {"synthetic_fallback": False}}
    async with running_gateway(
        tmp_path, sim, chaos_anchor, providers=("polygon",), tunables=tunables
    ) as gw:
        events: list[pb.StreamQuotesResponse] = []
        call = gw.stub.StreamQuotes(pb.StreamQuotesRequest(symbols=["BTC-USD"]), timeout=30)

        async def gap_back_filled_then_quotes() -> bool:
            events.append(await call.read())
            kinds = [e.WhichOneof("event") for e in events]
            if "backfilled" not in kinds:
                return False
            return "quote" in kinds[kinds.index("backfilled") + 1 :]

        await wait_until(
            "a gap, its back-fill and a quote after",
            gap_back_filled_then_quotes,
            within=20,
            every=0,
        )
        call.cancel()
        kinds = [e.WhichOneof("event") for e in events]
        gap = next(e.gap for e in events if e.HasField("gap"))
        assert "quote" in kinds[: kinds.index("gap")]  # streaming before the drop
        assert kinds.index("gap") < kinds.index("backfilled")
        assert "polygon" in gap.reason
        assert [e.sequence for e in events] == list(range(1, len(events) + 1))
        backfilled = next(e.backfilled for e in events if e.HasField("backfilled"))
        assert backfilled.from_time.ToDatetime() <= backfilled.to_time.ToDatetime()
        websocket = (await sim.counters())["websocket"]["polygon"]
        assert websocket["dropped"] >= 1 and websocket["connections"] >= 2
        assert gw.alive()
