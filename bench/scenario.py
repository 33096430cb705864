"""The seed scenario: phases, symbols, and the environment of every process.

Modes differ only in their hot-reload YAML (bench/modes/<mode>.yaml, the ARGO_CONFIG of
all three services); the environment is the same for both, so the baseline is made with
config switches, not a separate code path.
"""

from __future__ import annotations

import itertools
import os
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bench.clocked import ANCHOR_VARIABLE

BENCH_DIR = Path(__file__).resolve().parent
MODES_DIR = BENCH_DIR / "modes"
SIM_CONFIG = BENCH_DIR / "sim.yaml"
MODES = ("baseline", "optimized")

SEED_SYMBOLS = ("AAPL", "NVDA", "TSLA", "MSFT", "BTC-USD", "ETH-USD")
# The seeds' six sources: Massive (Polygon), Alpaca, Alpha Vantage, yfinance (Yahoo) for
# market data; xAI Grok and Perplexity Sonar for sentiment. The "Chinese models" (DeepSeek,
# Qwen, GLM) stay off: the seeds count six sources.
SOURCES = ("polygon", "alpaca", "alphavantage", "yahoo", "xai", "perplexity")
_SOURCE_VARIABLES = {
    "polygon": ("POLYGON_BASE_URL", "POLYGON_WS_URL", "POLYGON_API_KEY"),
    "alpaca": ("ALPACA_BASE_URL", "ALPACA_WS_URL", "ALPACA_API_KEY_ID", "ALPACA_API_SECRET_KEY"),
    "alphavantage": ("ALPHAVANTAGE_BASE_URL", "ALPHAVANTAGE_API_KEY"),
    "yahoo": ("YAHOO_BASE_URL",),
    "xai": ("XAI_BASE_URL", "XAI_API_KEY"),
    "perplexity": ("PERPLEXITY_BASE_URL", "PERPLEXITY_API_KEY"),
}
# Larger universes: the simulator's other well-known names, then made-up four-letter
# tickers (Q...), which the synthetic market prices like any other stock.
_EXTRA_NAMES = ("AMZN", "GOOGL", "META", "AMD", "SPY", "QQQ", "SOL-USD")

CLOCK_START = "2026-11-17T10:30:00-05:00"  # a Tuesday, one hour into the NYSE session
ANCHOR_DATE = "2026-11-03"  # synthetic prices start two weeks earlier (gateway + simulator)
CYCLE_SECONDS = 5.0
DEADLINE_SECONDS = 30.0  # engine/tracker -> gateway: a sequential baseline cycle needs > 2 s
_PASSTHROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "VIRTUAL_ENV")


@dataclass(frozen=True)
class Phase:
    name: str  # baseline | optimized | scale-50 | scale-500
    mode: str  # baseline | optimized
    symbols: tuple[str, ...]
    cycles: int  # engine cycles observed, the cold first one included
    max_seconds: float  # ...or fewer when watching them takes longer than this
    throughput_seconds: float = 0.0  # > 0: GetQuotes vs echo after the cycles
    throughput_rounds: int = 2  # alternating rounds per server; the best of each counts

    @property
    def warm_days(self) -> int:
        """Daily history the simulator computes before the phase starts: a year (what
        Yahoo's 52-week range needs) for up to 50 symbols (~0.2 s each), else 30 days
        (the rest is computed on first use)."""
        return 400 if len(self.symbols) <= 50 else 30


@dataclass(frozen=True)
class Databases:
    redis_url: str  # a database index of the benchmark's own; flushed before each phase
    admin_database_url: str  # where CREATE/DROP DATABASE is issued
    database_name: str

    @property
    def database_url(self) -> str:
        base = self.admin_database_url.rsplit("/", 1)[0]
        return f"{base}/{self.database_name}"


def symbols(count: int) -> tuple[str, ...]:
    """The seed symbols first, then more names up to `count` (deterministic)."""
    made = ("Q" + "".join(p) for p in itertools.product(string.ascii_uppercase, repeat=3))
    names = itertools.chain(SEED_SYMBOLS, _EXTRA_NAMES, made)
    return tuple(itertools.islice(names, count))


def plan(quick: bool) -> list[Phase]:
    """Full: ~14 min on 2 cores; quick: under 3 min (fewer cycles, no 500-symbol run)."""
    if quick:
        return [
            Phase("baseline", "baseline", SEED_SYMBOLS, cycles=5, max_seconds=45),
            Phase(
                "optimized",
                "optimized",
                SEED_SYMBOLS,
                10,
                55,
                throughput_seconds=2.0,
                throughput_rounds=1,  # three servers now: keeps the quick run under 3 min
            ),
            Phase("scale-50", "optimized", symbols(50), cycles=3, max_seconds=30),
        ]
    return [
        Phase("baseline", "baseline", SEED_SYMBOLS, cycles=24, max_seconds=170),
        Phase(
            "optimized",
            "optimized",
            SEED_SYMBOLS,
            60,
            310,
            throughput_seconds=4.0,
            throughput_rounds=4,  # rounds swung by up to 30% on this VM: more of them, shorter
        ),
        Phase("scale-50", "optimized", symbols(50), cycles=12, max_seconds=90),
        Phase("scale-500", "optimized", symbols(500), cycles=10, max_seconds=150),
    ]


def mode_config(mode: str) -> Path:
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; known: {', '.join(MODES)}")
    return MODES_DIR / f"{mode}.yaml"


def sim_config(phase: Phase) -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load(SIM_CONFIG.read_text()) or {}
    market = raw.setdefault("market", {})
    market.update({"universe": list(phase.symbols), "warm_days": phase.warm_days})
    return raw


def clock_anchor(now: float) -> str:
    """bench/clocked.py's anchor: wall time `now` is CLOCK_START in every process."""
    return f"{now!r},{CLOCK_START}"


def base_env(environ: Mapping[str, str], anchor: str) -> dict[str, str]:
    """Only what a process needs from the harness's environment: no stray provider keys,
    URLs or service settings of whoever runs the benchmark leak into it."""
    env = {k: environ[k] for k in _PASSTHROUGH if k in environ}
    env.update(
        {
            "LOG_FORMAT": "json",
            "BIND_HOST": "127.0.0.1",
            ANCHOR_VARIABLE: anchor,
            "SYNTHETIC_ANCHOR_DATE": ANCHOR_DATE,
            "OTEL_TRACES_EXPORTER": "none",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def gateway_sources(sim_env: Mapping[str, str]) -> dict[str, str]:
    """The simulator's variables of the six sources only."""
    wanted = {name for source in SOURCES for name in _SOURCE_VARIABLES[source]}
    return {k: v for k, v in sim_env.items() if k in wanted}


def service_envs(
    phase: Phase,
    sim_env: Mapping[str, str],
    databases: Databases,
    workdir: Path,
    addresses: Mapping[str, str],
    anchor: str,
) -> dict[str, dict[str, str]]:
    """name -> environment of each service in `phase` (ports are added at start)."""
    common = {
        **base_env(os.environ, anchor),
        "ARGO_CONFIG": str(mode_config(phase.mode)),
        "MARKET_GATEWAY_ADDR": addresses["market-gateway"],
        "TRACKER_ADDR": addresses["tracker"],
        "GATEWAY_DEADLINE_SECONDS": str(DEADLINE_SECONDS),
    }
    return {
        "market-gateway": {
            **common,
            **gateway_sources(sim_env),
            "REDIS_URL": databases.redis_url,
        },
        "tracker": {
            **common,
            "DATABASE_URL": databases.database_url,
            "ARCHIVE_URL": f"file://{workdir / 'archive'}",
        },
        "signal-engine": {
            **common,
            "SYMBOLS": ",".join(phase.symbols),
            "CYCLE_SECONDS": str(CYCLE_SECONDS),
            "ENGINE_OUTBOX_DIR": str(workdir / "outbox"),
            "REDIS_URL": databases.redis_url,
        },
    }
