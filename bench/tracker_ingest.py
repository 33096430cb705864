"""Tracker ingest and archive size, measured in one run against a real PostgreSQL.

    .venv/bin/python -m bench.tracker_ingest [--database-url postgresql://...]
        [--batches 20] [--rounds 3] [--day-signals 103680] [--json out.json]

Ingest (signals/s, batches of 1,000 new signals, all into the same `signals` table of a
fresh schema, best of `rounds`; the methods take turns so table growth is shared):
- raw COPY: asyncpg `copy_records_to_table` straight into `signals` (the ceiling: no
  idempotency, no validation, no RPC);
- store COPY / store UNNEST: the PostgreSQL adapter's two idempotent batch inserts;
- RecordSignals COPY / UNNEST: the whole RPC (protobuf, validation, per-item answers)
  against the tracker running as its own process (DB_INGEST_METHOD=copy|unnest), one
  batch at a time and with 4 batches in flight.

Archive: one day of signals (6 symbols, one signal per symbol every 5 s by default) with
lineage and outcomes, as CSV and as Parquet (zstd and snappy); sizes and fractions of CSV.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from argo.tracker.v1 import tracker_pb2, tracker_pb2_grpc
from tracker.adapters.parquet_codec import encode_csv, encode_parquet
from tracker.adapters.postgres_ingest import IngestMethod, signal_values
from tracker.adapters.postgres_store import PostgresSignalStore
from tracker.adapters.sql_common import INSERT_COLUMNS
from tracker.domain import (
    Action,
    CacheStatus,
    Compression,
    Outcome,
    Regime,
    Signal,
    SourceContribution,
    TrackedSignal,
)
from tracker.grpc_api.mapping import signal_to_pb

SYMBOLS = ("AAPL", "NVDA", "TSLA", "MSFT", "BTC-USD", "ETH-USD")
SOURCES = ("sma_crossover", "rsi", "macd", "bollinger", "sentiment:xai", "sentiment:sonar")
START = datetime(2026, 11, 17, tzinfo=UTC)
BATCH = 1000


def make_signal(
    rng: random.Random, symbol: str, at: datetime, price: float, trace_id: str = ""
) -> Signal:
    action = rng.choice((Action.BUY, Action.SELL, Action.HOLD))
    step = price * rng.uniform(0.002, 0.01)
    target, stop = {
        Action.BUY: (price + 2 * step, price - step),
        Action.SELL: (price - 2 * step, price + step),
        Action.HOLD: (price, price),
    }[action]
    confidence = round(rng.uniform(50, 100), 4)
    return Signal(
        signal_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        symbol=symbol,
        action=action,
        confidence=confidence,
        raw_confidence=confidence,
        entry_price=round(price, 4),
        target_price=round(target, 4),
        stop_price=round(stop, 4),
        create_time=at,
        expire_time=at + timedelta(hours=1),
        regime=rng.choice((Regime.TRENDING, Regime.RANGING, Regime.VOLATILE)),
        lineage=tuple(
            SourceContribution(
                source=source,
                direction=round(rng.uniform(-1, 1), 4),
                confidence=round(rng.uniform(0, 1), 4),
                weight=round(1 / len(SOURCES), 4),
                data_age_ms=rng.randrange(0, 60_000),
                provider=rng.choice(("polygon", "alpaca", "synthetic", "xai")),
                cache_status=rng.choice((CacheStatus.HIT_LOCAL, CacheStatus.MISS)),
            )
            for source in SOURCES
        ),
        trace_id=trace_id or f"{rng.getrandbits(128):032x}",
    )


def signal_stream(seed: int) -> Callable[[int], list[Signal]]:
    """Batches of new signals with increasing times (every call continues the stream)."""
    rng = random.Random(seed)
    prices = {s: rng.uniform(50, 500) for s in SYMBOLS}
    clock = [START]

    def take(count: int) -> list[Signal]:
        out = []
        for _ in range(count):
            symbol = rng.choice(SYMBOLS)
            prices[symbol] *= 1 + rng.gauss(0, 0.001)
            clock[0] += timedelta(milliseconds=1)
            out.append(make_signal(rng, symbol, clock[0], prices[symbol]))
        return out

    return take


def day_of_tracked(signals_per_symbol: int, seed: int = 7) -> list[TrackedSignal]:
    """A day: each symbol one signal every 86400 / signals_per_symbol seconds, resolved.
    The signals of one engine cycle (same instant, every symbol) share a trace id."""
    rng = random.Random(seed)
    rows = []
    every = 86_400 / signals_per_symbol
    cycle_traces = [f"{rng.getrandbits(128):032x}" for _ in range(signals_per_symbol)]
    for symbol in SYMBOLS:
        price = rng.uniform(50, 500)
        for i in range(signals_per_symbol):
            price *= 1 + rng.gauss(0, 0.0008)
            at = START + timedelta(seconds=i * every)
            s = make_signal(rng, symbol, at, price, cycle_traces[i])
            outcome = rng.choice((Outcome.WIN, Outcome.LOSS, Outcome.EXPIRED))
            exit_price = {Outcome.WIN: s.target_price, Outcome.LOSS: s.stop_price}.get(
                outcome, round(price * (1 + rng.gauss(0, 0.002)), 4)
            )
            rows.append(
                TrackedSignal(
                    signal=s,
                    record_time=at + timedelta(milliseconds=rng.randrange(5, 300)),
                    outcome=outcome,
                    exit_price=exit_price,
                    exit_time=at + timedelta(minutes=rng.randrange(1, 60)),
                    pnl_percent=round((exit_price - s.entry_price) / s.entry_price * 100, 6),
                    mark_price=exit_price,
                    mark_time=at + timedelta(minutes=rng.randrange(1, 60)),
                )
            )
    return rows


async def timed(
    batches: list[Any], insert: Callable[[Any], Awaitable[Any]], inflight: int
) -> float:
    """Signals per second inserting `batches`, `inflight` batches at a time."""
    queue = list(batches)
    started = time.perf_counter()

    async def worker() -> None:
        while queue:
            await insert(queue.pop(0))

    await asyncio.gather(*(worker() for _ in range(inflight)))
    return len(batches) * BATCH / (time.perf_counter() - started)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class TrackerProcess:
    """`python -m tracker.main` on the benchmark schema."""

    def __init__(self, dsn: str, ingest: str) -> None:
        self.port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": dsn,
            "DB_INGEST_METHOD": ingest,
            "GRPC_PORT": str(self.port),
            "ADMIN_PORT": str(free_port()),
            "BIND_HOST": "127.0.0.1",
            "OUTCOME_TRACKING": "false",
            "LOG_LEVEL": "warning",
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tracker.main"], env=env, stdout=subprocess.DEVNULL
        )

    async def serving(self) -> grpc.aio.Channel:
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{self.port}")
        health = health_pb2_grpc.HealthStub(channel)
        request = health_pb2.HealthCheckRequest(service="argo.tracker.v1.Tracker")
        async with asyncio.timeout(60):
            async for reply in health.Watch(request, wait_for_ready=True):
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return channel
        raise RuntimeError("tracker never became SERVING")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


async def measure_ingest(dsn: str, batches: int, rounds: int) -> list[dict[str, Any]]:
    admin = await asyncpg.connect(dsn)
    schema = f"bench_ingest_{uuid.uuid4().hex[:10]}"
    await admin.execute(f'CREATE SCHEMA "{schema}"')
    scoped = f"{dsn}{'&' if '?' in dsn else '?'}search_path={schema}"
    take = signal_stream(seed=1)
    stores = {m: PostgresSignalStore(scoped, pool_max=8, ingest=m) for m in IngestMethod}
    processes = {m: TrackerProcess(scoped, m.value) for m in IngestMethod}
    raw = await asyncpg.connect(scoped)
    columns = [c.strip() for c in INSERT_COLUMNS.split(",")]
    try:
        for store in stores.values():
            await store.migrate()
        channels = {m: await p.serving() for m, p in processes.items()}
        stubs = {m: tracker_pb2_grpc.TrackerStub(c) for m, c in channels.items()}

        def raw_copy(batch: list[Signal]) -> Awaitable[Any]:
            now = datetime.now(UTC)
            records = [(*signal_values(s), now, s.create_time, s.create_time) for s in batch]
            copied: Awaitable[Any] = raw.copy_records_to_table(
                "signals", records=records, columns=columns
            )
            return copied

        def store_insert(method: IngestMethod) -> Callable[[list[Signal]], Awaitable[Any]]:
            return lambda batch: stores[method].record(batch, record_time=datetime.now(UTC))

        def rpc(
            method: IngestMethod,
        ) -> Callable[[tracker_pb2.RecordSignalsRequest], Awaitable[Any]]:
            return lambda request: stubs[method].RecordSignals(request, timeout=30)

        def requests(n: int) -> list[tracker_pb2.RecordSignalsRequest]:
            return [
                tracker_pb2.RecordSignalsRequest(signals=[signal_to_pb(s) for s in take(BATCH)])
                for _ in range(n)
            ]

        cases: list[tuple[str, Callable[[], list[Any]], Callable[[Any], Awaitable[Any]], int]] = [
            ("raw asyncpg COPY", lambda: [take(BATCH) for _ in range(batches)], raw_copy, 1),
        ]
        for m in IngestMethod:
            name = m.value.upper()
            cases.append(
                (f"store.record {name}", lambda: [take(BATCH) for _ in range(batches)],
                 store_insert(m), 1)
            )  # fmt: skip
        for m in IngestMethod:
            name = m.value.upper()
            cases.append((f"RecordSignals {name}", lambda: requests(batches), rpc(m), 1))
            cases.append((f"RecordSignals {name} x4", lambda: requests(batches), rpc(m), 4))
        best: dict[str, float] = {}
        for _ in range(rounds):
            for name, prepare, insert, inflight in cases:
                rate = await timed(prepare(), insert, inflight)
                best[name] = max(best.get(name, 0.0), rate)
        total = await raw.fetchval("SELECT count(*) FROM signals")
        assert total == rounds * batches * BATCH * len(cases), total  # nothing lost
        for channel in channels.values():
            await channel.close()
    finally:
        await raw.close()
        for store in stores.values():
            await store.aclose()
        for process in processes.values():
            process.stop()
        await admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await admin.close()
    ceiling = best["raw asyncpg COPY"]
    return [
        {"case": name, "signals_per_s": rate, "fraction_of_raw_copy": rate / ceiling}
        for name, rate in best.items()
    ]


def measure_archive(signals_per_symbol: int) -> dict[str, Any]:
    rows = day_of_tracked(signals_per_symbol)
    csv = len(encode_csv(rows))
    sizes = {c.value: len(encode_parquet(rows, c)) for c in Compression}
    return {
        "signals": len(rows),
        "csv_bytes": csv,
        **{f"parquet_{c}_bytes": n for c, n in sizes.items()},
        **{f"parquet_{c}_fraction_of_csv": n / csv for c, n in sizes.items()},
    }


def print_tables(ingest: list[dict[str, Any]], archive: dict[str, Any]) -> None:
    print(f"{'ingest (batches of 1,000)':<30} {'signals/s':>11} {'of raw COPY':>12}")
    for row in ingest:
        print(
            f"{row['case']:<30} {row['signals_per_s']:>11,.0f} {row['fraction_of_raw_copy']:>11.0%}"
        )
    print()
    print(f"archive: one day, {archive['signals']:,} signals")
    print(f"{'format':<20} {'bytes':>12} {'of CSV':>8}")
    print(f"{'CSV':<20} {archive['csv_bytes']:>12,} {1:>8.0%}")
    for c in Compression:
        size, fraction = archive[f"parquet_{c}_bytes"], archive[f"parquet_{c}_fraction_of_csv"]
        print(f"{'Parquet ' + c.value:<20} {size:>12,} {fraction:>8.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    parser.add_argument("--batches", type=int, default=20, help="batches of 1,000 per case")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--day-signals", type=int, default=17_280, help="signals per symbol in the archived day"
    )
    parser.add_argument("--json", default=None, help="write the results as JSON to this path")
    args = parser.parse_args()
    ingest = asyncio.run(measure_ingest(args.database_url, args.batches, args.rounds))
    archive = measure_archive(args.day_signals)
    print_tables(ingest, archive)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(
                {"benchmark": "tracker_ingest", "ingest": ingest, "archive": archive},
                out,
                indent=2,
            )


if __name__ == "__main__":
    main()
