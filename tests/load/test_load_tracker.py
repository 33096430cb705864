"""tracker under load: 64 concurrent callers on each of its seven RPCs, against the real
process on the real PostgreSQL (a schema of its own, seeded with resolved outcomes; see
conftest.py). Every request is valid and answerable: fresh signal ids, filters and windows
that vary call by call, days that are over, symbols that fall back to the global fit.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest

from argo.tracker.v1 import tracker_pb2 as pb
from argo.tracker.v1 import tracker_pb2_grpc as pb_grpc
from tests.e2e.suite import Suite
from tests.load import settings
from tests.load.driver import (
    LoadResult,
    drive,
    rss_mib,
)
from tests.load.universe import SEEDED, UNIVERSE, pick
from tests.load.verdict import broken_promises
from tests.unit.tracker.factories import make_signal
from tracker.grpc_api.mapping import datetime_to_pb, signal_to_pb

pytestmark = [pytest.mark.load, pytest.mark.e2e]
BATCH = 5
SYMBOLS = SEEDED + UNIVERSE


def tracker_calls(stub: pb_grpc.TrackerStub) -> dict[str, Any]:
    today = datetime.now(UTC).date()

    async def record_signals(i: int) -> None:
        now = datetime.now(UTC)
        batch = [
            signal_to_pb(
                make_signal(
                    signal_id=str(uuid.uuid4()),
                    symbol=symbol,
                    confidence=float(10 + (i * 13 + k) % 90),
                    create_time=now,
                    expire_time=now + timedelta(hours=1),
                )
            )
            for k, symbol in enumerate(pick(i, BATCH, SYMBOLS))
        ]
        reply = await stub.RecordSignals(pb.RecordSignalsRequest(signals=batch), timeout=10)
        assert reply.accepted == BATCH, reply

    async def query_signals(i: int) -> None:
        since = datetime.now(UTC) - timedelta(days=1 + i % 20, seconds=i)
        query = pb.SignalFilter(
            symbols=pick(i, 1 + i % 3, SYMBOLS),
            min_confidence=float(i % 80),
            start_time=datetime_to_pb(since),
        )
        await stub.QuerySignals(
            pb.QuerySignalsRequest(filter=query, page_size=10 + i % 40), timeout=10
        )

    async def get_outcome_stats(i: int) -> None:
        symbol = "" if i % 3 == 0 else SYMBOLS[i % len(SYMBOLS)]
        request = pb.GetOutcomeStatsRequest(days=1 + i % 60, symbol=symbol)
        reply = await stub.GetOutcomeStats(request, timeout=10)
        assert reply.total >= reply.open, reply

    async def get_calibration(i: int) -> None:
        symbol = "" if i % 4 == 0 else SYMBOLS[i % len(SYMBOLS)]
        reply = await stub.GetCalibration(pb.GetCalibrationRequest(symbol=symbol), timeout=10)
        assert reply.points and reply.sample_size > 0, reply

    async def run_archive(i: int) -> None:
        day = (today - timedelta(days=1 + i % 400)).isoformat()
        reply = await stub.RunArchive(pb.RunArchiveRequest(date=day), timeout=10)
        assert reply.date == day, reply

    async def list_archives(i: int) -> None:
        end = today - timedelta(days=i % 30)
        request = pb.ListArchivesRequest(
            start_date=(end - timedelta(days=1 + i % 200)).isoformat(),
            end_date=end.isoformat(),
            page_size=1 + i % 50,
        )
        await stub.ListArchives(request, timeout=10)

    async def get_analytics(i: int) -> None:
        symbol = "" if i % 3 == 0 else SYMBOLS[i % len(SYMBOLS)]
        request = pb.GetAnalyticsRequest(symbol=symbol, days=1 + i % 90)
        await stub.GetAnalytics(request, timeout=10)

    return {
        "Tracker/RecordSignals": record_signals,
        "Tracker/QuerySignals": query_signals,
        "Tracker/GetOutcomeStats": get_outcome_stats,
        "Tracker/GetCalibration": get_calibration,
        "Tracker/RunArchive": run_archive,
        "Tracker/ListArchives": list_archives,
        "Tracker/GetAnalytics": get_analytics,
    }


@pytest.mark.asyncio
async def test_tracker_every_rpc_under_64_callers_no_errors_bounded_p99_flat_memory(
    load_suite: Suite,
) -> None:
    """64 callers on every tracker RPC over PostgreSQL: every call OK, p99 within the
    limit, and the RSS flat after warm-up. If it failed, signals would be refused or
    stall under concurrent writers, concurrent archive runs of one day would conflict,
    readers would exhaust the connection pool, or the calibration / archive-day caches
    (keyed by symbol and day, over ~170 symbols and 400 days) would grow until the pod is
    OOM-killed."""
    tracker = load_suite.services["tracker"]
    results: list[LoadResult] = []
    async with grpc.aio.insecure_channel(tracker.address) as channel:
        calls = tracker_calls(pb_grpc.TrackerStub(channel))
        for phase, seconds in (("warm-up", settings.WARMUP_SECONDS), ("run", settings.SECONDS)):
            if phase == "run":
                warm_rss = rss_mib(tracker.process.pid)
            for name, call in calls.items():
                results.append(await drive(name, call, seconds=seconds))
        end_rss = rss_mib(tracker.process.pid)
    rss = {"tracker": (warm_rss, end_rss)}
    broken = broken_promises(results, rss)
    assert not broken, broken
