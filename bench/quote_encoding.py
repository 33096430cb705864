"""GetQuotes response building: one message per quote next to QuotesEncoder's pre-encoded
quotes, measured in the same run (the figures in grpc_api/quote_encoding.py's docstring).

    .venv/bin/python -m bench.quote_encoding [--calls 20000] [--rounds 5] [--json out.json]

Each row is the best of `rounds` runs of `calls` responses for the six seed symbols (the
minimum is the least disturbed by the machine); every case ends with the response's bytes,
what the server sends. "encoder, same served quotes" serves the
same served copies again, as a warm gateway does within one millisecond; "encoder, new age"
serves the same ticks with a new age each time, from 1 to 1000 ms (a fragment per quote,
from its template);
"encoder, every tick new" builds a template and a fragment for every quote (its worst
case). Making the new Quote objects is the benchmark's work and is subtracted.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from argo.marketdata.v1 import marketdata_pb2 as pb
from bench.scenario import SEED_SYMBOLS
from market_gateway.domain import CacheStatus, Quote
from market_gateway.grpc_api.mapping import quote_to_pb
from market_gateway.grpc_api.quote_encoding import QuotesEncoder

TICK_TIME = datetime(2026, 11, 17, 15, 30, 1, 123456, tzinfo=UTC)


def seed_quotes() -> list[Quote]:
    return [
        Quote(
            symbol,
            100.5 + i,
            100.4 + i,
            100.6 + i,
            12_345.0,
            TICK_TIME,
            "polygon",
            CacheStatus.STREAM,
            12,
        )  # fmt: skip
        for i, symbol in enumerate(SEED_SYMBOLS)
    ]


def _best_us(build: Callable[[], Any], calls: int, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(calls):
            build()
        best = min(best, (time.perf_counter() - started) / calls)
    return best * 1e6


def measure(calls: int, rounds: int) -> list[dict[str, Any]]:
    quotes = seed_quotes()
    warm, aged, cold = QuotesEncoder(), QuotesEncoder(), QuotesEncoder()
    price = iter(range(1, 2**62))
    ages = itertools.cycle(range(1, 1001))  # a streamed tick is at most a second old

    def new_ages() -> list[Quote]:
        age = next(ages)
        return [replace(q, age_ms=age) for q in quotes]

    def new_ticks() -> list[Quote]:
        step = next(price) * 1e-6
        return [replace(q, price=q.price + step) for q in quotes]

    cases: list[tuple[str, Callable[[], Any], Callable[[], Any] | None]] = [
        (
            "message per quote",
            lambda: pb.GetQuotesResponse(
                quotes=[quote_to_pb(q) for q in quotes]
            ).SerializeToString(),
            None,
        ),
        ("encoder, same served quotes", lambda: warm.response(quotes, []), None),
        ("encoder, new age", lambda: aged.response(new_ages(), []), new_ages),
        ("encoder, every tick new", lambda: cold.response(new_ticks(), []), new_ticks),
    ]
    rows = []
    for case, build, making in cases:
        us = _best_us(build, calls, rounds)
        if making is not None:  # the new Quote objects are the benchmark's, not the encoder's
            us -= _best_us(making, calls, rounds)
        rows.append({"case": case, "calls": calls, "us_per_response": us,
                     "us_per_quote": us / len(quotes)})  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", default=None, help="write the rows as JSON to this path")
    args = parser.parse_args()
    rows = measure(args.calls, args.rounds)
    print(f"{'case':<28} {'calls':>7} {'µs/response':>12} {'µs/quote':>9}")
    for row in rows:
        print(f"{row['case']:<28} {row['calls']:>7} {row['us_per_response']:>12.2f} "
              f"{row['us_per_quote']:>9.2f}")  # fmt: skip
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump({"benchmark": "quote_encoding", "rows": rows}, out, indent=2)


if __name__ == "__main__":
    main()
