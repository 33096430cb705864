"""Closed-loop load: `callers` coroutines each send the next unary call as soon as the last
one answered, for `seconds` after a warm-up; prints one JSON object.

    python -m bench.load --target 127.0.0.1:50051 --kind gateway|echo --seconds 8 \
        --callers 64 --symbols AAPL,NVDA,...

`gateway` calls MarketGateway/GetQuotes; `echo` sends the same GetQuotesRequest bytes to
bench.echo_server. Runs in its own process so the harness's progress bar does not share
its event loop.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import time
from collections.abc import Awaitable, Callable
from typing import Any

import grpc

from argo.marketdata.v1 import marketdata_pb2, marketdata_pb2_grpc
from bench.echo_server import METHOD
from bench.stats import summarize

WARMUP_SECONDS = 1.0


def _caller(
    channel: grpc.aio.Channel, kind: str, request: marketdata_pb2.GetQuotesRequest
) -> Callable[[], Awaitable[Any]]:
    if kind == "gateway":
        stub = marketdata_pb2_grpc.MarketGatewayStub(channel)
        return lambda: stub.GetQuotes(request, timeout=10)
    echo = channel.unary_unary(
        METHOD,
        request_serializer=marketdata_pb2.GetQuotesRequest.SerializeToString,
        response_deserializer=marketdata_pb2.GetQuotesRequest.FromString,
    )
    return lambda: echo(request, timeout=10)


async def run(
    target: str, kind: str, seconds: float, callers: int, symbols: list[str]
) -> dict[str, Any]:
    request = marketdata_pb2.GetQuotesRequest(symbols=symbols)
    async with grpc.aio.insecure_channel(target) as channel:
        call = _caller(channel, kind, request)
        await call()  # connected and answering
        latencies: list[float] = []
        errors = 0
        measuring = False
        stop_at = time.monotonic() + WARMUP_SECONDS + seconds

        async def loop() -> None:
            nonlocal errors
            while time.monotonic() < stop_at:
                started = time.perf_counter()
                try:
                    await call()
                except grpc.aio.AioRpcError:
                    errors += 1
                    continue
                if measuring:
                    latencies.append(time.perf_counter() - started)

        workers = [asyncio.create_task(loop()) for _ in range(callers)]
        await asyncio.sleep(WARMUP_SECONDS)
        measuring = True
        cpu_start, wall_start = _cpu(), time.monotonic()
        await asyncio.gather(*workers)
        elapsed = time.monotonic() - wall_start
        cpu = _cpu() - cpu_start
    ms = summarize([x * 1000 for x in latencies])
    return {
        "kind": kind,
        "callers": callers,
        "seconds": elapsed,
        "calls": len(latencies),
        "errors": errors,
        "calls_per_second": len(latencies) / elapsed if elapsed else 0.0,
        "latency_ms": ms,
        "client_cpu_share": cpu / elapsed if elapsed else 0.0,
    }


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load")
    parser.add_argument("--target", required=True)
    parser.add_argument("--kind", choices=("gateway", "echo"), required=True)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--callers", type=int, default=64)
    parser.add_argument("--symbols", default="AAPL,NVDA,TSLA,MSFT,BTC-USD,ETH-USD")
    args = parser.parse_args()
    result = asyncio.run(
        run(args.target, args.kind, args.seconds, args.callers, args.symbols.split(","))
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
