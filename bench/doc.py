"""docs/benchmarks.md, regenerated from the last full run (`make bench`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bench.tables import TextTable, all_tables

BUSY_SHARE = 0.05  # other work above this share of the cores makes the run "busy"

METHOD = """\
## How it is measured

`make bench` (`python -m bench.run`) starts real processes for every phase: the provider
simulator (`tools/provider_sim`, config `bench/sim.yaml`: lognormal latency with median
120 ms and p99 600 ms for every provider, AI included; 1% injected 5xx; the providers' real
quotas), then market-gateway, tracker and signal-engine (`python -m <service>.main`, through
`bench/clocked.py`, which only makes every process's `ARGO_CLOCK_START` map the same wall
time to the same simulated instant). Real Redis (`{redis_url}`, flushed before each
phase) and real PostgreSQL (database `{database}`, dropped and created before each phase);
a lock file (`/tmp/argo-bench.lock`) keeps a second run from sharing them, or the cores.
Every market-data and AI provider the seeds name is pointed at the simulator: Polygon
(Massive), Alpaca, Alpha Vantage and Yahoo for market data, xAI and Perplexity for
sentiment (DeepSeek, Qwen and GLM stay off: the seeds count six sources). The simulated
session starts on Tuesday 2026-11-17 10:30 New York (`SYNTHETIC_ANCHOR_DATE` 2026-11-03 for
simulator and gateway).

The two modes differ only in their hot-reload YAML (`bench/modes/<mode>.yaml`, the
`ARGO_CONFIG` of all three services); their environment is the same:

- `baseline`: every `market_gateway.optimizations` switch off (no cache, no batching, no
  single-flight, no hedging, no streams, no incremental bars, no agreement sampling, every
  provider asked for every symbol one after another); engine `skip_threshold_pct: 0`,
  `dedup_window_seconds: 0`, `max_concurrency: 1` (one symbol after another),
  `sentiment_refresh_seconds: 1` (AI asked every cycle), no adaptive polling.
- `optimized`: everything on (the defaults).

**Cycle latency** is the engine's own measurement of each background cycle
(`CYCLE_SECONDS=5`): the value it observes in `argo_signal_generation_duration_seconds`,
which the bench's launcher also appends, one line per cycle, to a file of the phase
(`bench/cycle_record.py`; the engine's code is unchanged). After every cycle the harness
reads `cycles_total` and `avg_signal_generation_time` from the engine's `/api/v1/health`,
takes that many durations from the record and checks their mean against the engine's, so
two cycles that end between two reads (a cold cycle that overran and the short one that
started right after it) keep their own durations instead of sharing their sum;
identically in both modes. The cold first cycle is the engine's first, right after start
with empty caches (fresh Redis database); "warm" is every later cycle.
**Upstream calls** are the simulator's own counters (`GET /_sim/counters`) read after each
cycle, so they include everything the suite sent upstream meanwhile (the tracker's outcome
tracking too); "429s" are HTTP 429 answers, "rate-limited answers" add Alpha Vantage's
HTTP-200 throttle notes. **Cache hit rate** is the gateway's `argo_cache_hits_total /
(hits + misses)` over all its caches for the run; **skip rate** is the engine's skipped /
evaluated symbols. **CPU** is utime + stime from `/proc/<pid>/stat` (clock ticks, 10 ms
resolution; psutil is not installed) over the warm cycles divided by their number;
**peak RSS** is `VmHWM` of `/proc/<pid>/status` at the end of the phase (MB = 10^6 bytes).
**Throughput**: the engine and tracker are stopped, then one client process
(`bench/load.py`, 64 coroutines on one channel, 1 s warm-up) calls GetQuotes for the 6
symbols for a fixed time, then the same client sends the same request bytes to a bare
`grpc.aio` echo server (`bench/echo_server.py`), once on the standard asyncio loop (the
target's reference) and once on uvloop, the loop the services run on (decision 0022); four
alternating rounds of 4 s each (one of 2 s in the quick run), the best round of each side
counts and the table shows the range of all rounds. Like every service in the run, the
gateway has no span exporter, so it records no span for these untraced calls (decision
0025). It is then restarted with `OTEL_TRACES_SAMPLER=parentbased_always_on` and measured
again: every span recorded, none exported, so a lower bound of what exporting every span
costs; one uncounted warm-up round, then as many rounds as before, after the alternating
ones rather than between them. Server CPU share from
`/proc` (it can exceed 1.00: gRPC's C core runs threads of its own), the client's from
`resource.getrusage`.
"""

LIMITS = """\
## What these numbers are and are not

- One run on a 2-core machine shared with other work; p99 of a few dozen warm cycles is
  close to their maximum. Runs differ by tens of percent on a busy machine.
- The harness itself shares the 2 cores. It reads the engine's health a few times per cycle;
  what that costs the engine is measured at the end of each phase (100 reads) and shown in
  the Phases table; it is included in the engine's CPU figures. In the throughput test the
  client process uses a good part of a core, which caps what any server can show (compare
  the CPU shares; 1.00 = one core busy).
- The baseline is the seeds' system rebuilt from our code with switches, not the seeds'
  code. Some of our behaviour has no switch and stays on in the baseline: the engine fetches
  bars incrementally (once a minute per symbol), the gateway's per-provider rate limiters
  (the seeds' token buckets) still pace calls and refuse rather than wait more than 1 s, and
  the circuit breakers still work. So the baseline makes fewer calls and sees fewer 429s
  than a system without limiters would.
- AI latency is the same 120 ms median as market data (real AI APIs answer in seconds; the
  simulator's built-in AI latency is overridden), which flatters the baseline.
- The optimized mode's adaptive polling evaluates quiet symbols less often than every cycle;
  symbols it defers are neither computed nor counted as skipped.
- A cold cycle over many symbols is bounded by the gateway's own per-provider limiters at
  the seeds' quotas: each new symbol needs its bars once, one request per symbol, and
  Polygon, Alpaca and Yahoo together allow about 12 requests a second, so 500 symbols
  cannot start in much less than 40 s.
- The code measured is the checkout's working tree, including other engineers' uncommitted
  work (the Machine table counts the modified files).
"""


def markdown_table(table: TextTable) -> str:
    lines = [f"### {table.title}", "", "| " + " | ".join(table.headers) + " |"]
    lines.append("|" + "|".join("---" for _ in table.headers) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in table.rows]
    return "\n".join(lines)


def _code(machine: Mapping[str, Any]) -> str:
    dirty = int(machine["git_dirty_files"])
    if not dirty:
        return f"commit {machine['git_commit']}, clean working tree"
    files = "file" if dirty == 1 else "files"
    return (
        f"commit {machine['git_commit']} plus uncommitted changes in {dirty} tracked {files} "
        "(the shared checkout's work in progress)"
    )


def render(report: Mapping[str, Any], chart_name: str) -> str:
    machine = report["machine"]
    results = report["results"]
    load = report["load_average"]
    others = report.get("other_work", {"cpu_seconds": 0.0, "share_of_cores": 0.0})
    busy = others["share_of_cores"] > BUSY_SHARE
    parts = [
        "# Benchmarks: the seed scenario, before and after",
        "",
        "Generated by `make bench` (`python -m bench.run`) from its last full run; do not edit",
        f"by hand. Raw figures: `bench/results/{report['json_name']}` (not committed).",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        f"| run | {report['started']} ({report['duration_seconds']:.0f} s, command "
        f"`{report['command']}`) |",
        f"| CPU | {machine['cpu_model']}, {machine['cores']} cores |",
        f"| RAM | {machine['ram_gb']} GB |",
        f"| Python | {machine['python']} ({machine['platform']}) |",
        f"| code | {_code(machine)} |",
        f"| other work during the run | {others['cpu_seconds']:.0f} CPU-seconds = "
        f"{others['share_of_cores']:.0%} of the cores (/proc/stat minus this run's own) |",
        f"| load average (1/5/15 min) | before {load['before']}, after {load['after']} |",
        "",
    ]
    if busy:
        parts += [
            "**The machine was busy during this run**: other work (other engineers' tests in",
            f"the shared checkout) used {others['share_of_cores']:.0%} of the cores meanwhile;",
            "latencies, CPU and throughput are noisier, and likely worse, than on an idle",
            "machine.",
            "",
        ]
    parts += ["## Results", ""]
    for table in all_tables(results):
        parts += [markdown_table(table), ""]
    databases = report.get("databases", {})
    method = METHOD.format(
        redis_url=databases.get("redis_url", "?"), database=databases.get("database", "?")
    )
    parts += [f"![latency distribution and calls per cycle]({chart_name})", "", method, LIMITS]
    return "\n".join(parts)
