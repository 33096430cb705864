"""No credential leaves a service: not in logs, spans, metrics, health, nor caller errors.

The three services run as processes against the provider simulator (a process too) with
every provider key, the callers' bearer tokens, a Redis password and a PostgreSQL password
set to random values; providers answer 5xx, HTML pages and 401/403 for wrong keys, callers
send bad requests and wrong tokens. Every log line, every exported span (resource, span and
event attributes), /metrics, /healthz, /api/v1/health, every reply and every error a caller
got is searched for each secret (verbatim, URL-encoded, base64) and for unmasked `Bearer`
credentials.

If this fails, whoever reads logs, traces (Jaeger), dashboards or our error messages can
read the paid provider API keys, the inter-service tokens or the datastore passwords.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import httpx
import pytest
import pytest_asyncio
from google.protobuf import text_format

from argo.marketdata.v1 import marketdata_pb2 as md
from argo.marketdata.v1 import marketdata_pb2_grpc as md_grpc
from argo.signals.v1 import signals_pb2 as sig
from argo.signals.v1 import signals_pb2_grpc as sig_grpc
from argo.tracker.v1 import tracker_pb2 as tr
from argo.tracker.v1 import tracker_pb2_grpc as tr_grpc
from service_runtime.auth import token_hash
from service_runtime.channels import ChannelSecurity
from tests.e2e.suite import Suite
from tests.security.secret_capture import (
    RedisProcess,
    SimProcess,
    SpanCapture,
    find_leaks,
    leak_forms,
)

pytestmark = [pytest.mark.security, pytest.mark.e2e]

SESSION = datetime(2026, 11, 17, 15, 30, tzinfo=UTC)  # Tuesday 10:30 New York
SYMBOLS = ["AAPL", "MSFT", "BTC-USD"]
_AI = ("XAI", "PERPLEXITY", "DEEPSEEK", "QWEN", "GLM")
SECRETS = {
    **{f"{p}_API_KEY": f"{p.lower()}-{secrets.token_hex(16)}" for p in ("POLYGON", "ALPHAVANTAGE")},
    **{f"{p}_API_KEY": f"{p.lower()}-{secrets.token_hex(16)}" for p in _AI},
    "ALPACA_API_KEY_ID": "PK" + secrets.token_hex(10).upper(),
    "ALPACA_API_SECRET_KEY": secrets.token_urlsafe(30),
    "ARGO_CALLER_TOKEN": "internal-" + secrets.token_urlsafe(24),
    "tester token": "tester-" + secrets.token_urlsafe(24),
    "wrong token": "wrong-" + secrets.token_urlsafe(24),
    "redis password": secrets.token_hex(16),
    "postgres password": secrets.token_hex(16),
}


def sim_config() -> dict[str, Any]:
    """The simulator knows the right keys except Alpaca's secret and xAI's key (403/401);
    Polygon and Perplexity fail with 5xx, Alpha Vantage and Yahoo with HTML pages."""
    keys = {p.lower(): {"api_key": SECRETS[f"{p}_API_KEY"]} for p in ("POLYGON", *_AI)}
    keys["xai"] = {"api_key": "sim-only-" + secrets.token_hex(8)}
    keys["alphavantage"] = {
        "api_key": SECRETS["ALPHAVANTAGE_API_KEY"],
        "quotas": [{"limit": 1000, "seconds": 1}],
        "faults": {"html_rate": 0.5},
    }
    keys["alpaca"] = {"api_key": SECRETS["ALPACA_API_KEY_ID"], "secret_key": "not-the-secret"}
    keys["polygon"]["faults"] = {"error_rate": 0.4, "error_statuses": [500, 502, 503]}
    keys["perplexity"]["faults"] = {"error_rate": 0.5}
    keys["yahoo"] = {"faults": {"html_rate": 0.3}}
    return {
        "seed": 9,
        "market": {"universe": [*SYMBOLS, "NVDA", "ETH-USD"], "warm_days": 60},
        "defaults": {"latency": {"median_ms": 2, "p99_ms": 10}, "stream": {"interval_ms": 200}},
        "providers": keys,
    }


def service_env(workdir: Path, sim: SimProcess, redis_port: int, database_url: str) -> dict:
    tokens = workdir / "tokens"
    internal, tester = SECRETS["ARGO_CALLER_TOKEN"], SECRETS["tester token"]
    tokens.write_text(f"argo-internal sha256:{token_hash(internal)}\ntester {tester}\n")
    urls = {k: v for k, v in sim.env.items() if k.endswith(("_BASE_URL", "_WS_URL"))}
    keys = {k: v for k, v in SECRETS.items() if k.isupper()}
    return {
        **urls,
        **keys,
        "YAHOO_ENABLED": "true",
        "AUTH_MODE": "token",
        "AUTH_TOKENS_FILE": str(tokens),
        "AUTH_ALLOW": "argo-internal=argo.marketdata.v1.MarketGateway/*,"
        "argo.tracker.v1.Tracker/*;tester=*",
        "REDIS_URL": f"redis://:{SECRETS['redis password']}@127.0.0.1:{redis_port}/0",
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "debug",
        "SYMBOLS": ",".join(SYMBOLS),
        "CYCLE_SECONDS": "3600",
        "SYNTHETIC_ANCHOR_DATE": SESSION.date().isoformat(),
        "SYNTHETIC_SEED": "42",
    }


@pytest_asyncio.fixture
async def database_url(postgres_url: str) -> AsyncIterator[str]:
    """A database of its own, reached with a password (local PostgreSQL trusts, so any
    password is accepted: the point is that the URL carries one)."""
    name = f"argo_secret_scan_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(postgres_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        parts = urllib.parse.urlsplit(postgres_url)
        user = parts.username or "postgres"
        netloc = f"{user}:{SECRETS['postgres password']}@{parts.hostname}:{parts.port or 5432}"
        yield urllib.parse.urlunsplit(("postgresql", netloc, f"/{name}", "", ""))
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


class Callers:
    """Calls services and keeps every reply and every error as text."""

    def __init__(self, suite: Suite) -> None:
        self.suite = suite
        self.replies: list[str] = []
        self.errors: list[str] = []

    async def call(self, service: str, token: str | None, rpc: Callable[[Any], Awaitable[Any]]):
        self.suite.channel_security = ChannelSecurity(token=token)
        async with self.suite.channel(service) as channel:
            try:
                reply = await rpc(channel)
            except grpc.aio.AioRpcError as e:
                trailers = [(k, str(v)) for k, v in (e.trailing_metadata() or ())]
                debug = e.debug_error_string()
                self.errors.append(f"{e.code().name} {e.details()} {trailers} {debug}")
                return None
        self.replies.append(text_format.MessageToString(reply, as_utf8=True))
        return reply


async def drive(callers: Callers) -> None:
    tester, call = SECRETS["tester token"], callers.call
    gw = md_grpc.MarketGatewayStub
    one_minute = md.Timeframe.TIMEFRAME_ONE_MINUTE
    for batch in (SYMBOLS, ["NVDA", "ETH-USD", "ZZZZ"], SYMBOLS):
        await call("market-gateway", tester, lambda c, b=batch: gw(c).GetQuotes(
            md.GetQuotesRequest(symbols=b), timeout=10))  # fmt: skip
    for symbol in SYMBOLS:
        await call("market-gateway", tester, lambda c, s=symbol: gw(c).GetBars(
            md.GetBarsRequest(symbol=s, timeframe=one_minute, limit=30), timeout=10))  # fmt: skip
        await call("market-gateway", tester, lambda c, s=symbol: gw(c).GetSentiment(
            md.GetSentimentRequest(symbol=s), timeout=15))  # fmt: skip
    engine = sig_grpc.SignalEngineStub
    await call("signal-engine", tester, lambda c: engine(c).GenerateSignals(
        sig.GenerateSignalsRequest(symbols=SYMBOLS, force=True), timeout=25))  # fmt: skip
    await call("signal-engine", tester, lambda c: engine(c).GetEngineStats(
        sig.GetEngineStatsRequest(), timeout=5))  # fmt: skip
    await call("tracker", tester, lambda c: tr_grpc.TrackerStub(c).QuerySignals(
        tr.QuerySignalsRequest(), timeout=5))  # fmt: skip
    await call("market-gateway", tester, lambda c: gw(c).GetProviderStatus(
        md.GetProviderStatusRequest(), timeout=5))  # fmt: skip
    # Caller errors: bad requests, no/wrong token, a caller outside its allow-list.
    await call("market-gateway", tester, lambda c: gw(c).GetQuotes(
        md.GetQuotesRequest(symbols=[]), timeout=5))  # fmt: skip
    await call("market-gateway", tester, lambda c: gw(c).GetBars(
        md.GetBarsRequest(symbol="AAPL"), timeout=5))  # fmt: skip
    await call("tracker", tester, lambda c: tr_grpc.TrackerStub(c).QuerySignals(
        tr.QuerySignalsRequest(page_token="not-a-token"), timeout=5))  # fmt: skip
    await call("signal-engine", tester, lambda c: engine(c).GenerateSignals(
        sig.GenerateSignalsRequest(symbols=["no such symbol!"]), timeout=5))  # fmt: skip
    for token in (None, SECRETS["wrong token"], SECRETS["ARGO_CALLER_TOKEN"]):
        await call("signal-engine", token, lambda c: engine(c).GetLatestSignals(
            sig.GetLatestSignalsRequest(), timeout=5))  # fmt: skip
        await call("market-gateway", token and SECRETS["wrong token"], lambda c: gw(c).GetQuotes(
            md.GetQuotesRequest(symbols=["AAPL"]), timeout=5))  # fmt: skip


async def admin_pages(suite: Suite) -> dict[str, str]:
    pages: dict[str, str] = {}
    async with httpx.AsyncClient(timeout=5) as http:
        for name, service in suite.services.items():
            for path in ("/metrics", "/healthz", "/api/v1/health"):
                reply = await http.get(f"http://127.0.0.1:{service.admin_port}{path}")
                pages[f"{name}{path}"] = f"{reply.status_code} {reply.headers} {reply.text}"
    return pages


@pytest.mark.asyncio
@pytest.mark.timeout(90)
async def test_no_secret_reaches_logs_spans_metrics_health_or_callers(
    tmp_path: Path, database_url: str
) -> None:
    started = time.monotonic()
    sim = SimProcess.start(tmp_path, sim_config(), {"ARGO_CLOCK_START": SESSION.isoformat()})
    redis = RedisProcess.start(tmp_path, SECRETS["redis password"])
    capture = SpanCapture()
    otlp_port = await capture.start()
    # The simulator's clock started no later than its spawn; the services' clocks run 10 s
    # ahead of it minus their import time, so no quote looks like it comes from the future.
    clock_start = SESSION + timedelta(seconds=time.monotonic() - started + 10)
    env = service_env(tmp_path, sim, redis.port, database_url)
    suite = Suite(
        tmp_path,
        extra_env={
            **env,
            "ARGO_CLOCK_START": clock_start.isoformat(),
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{otlp_port}",
            "OTEL_EXPORTER_OTLP_INSECURE": "true",
            "OTEL_BSP_SCHEDULE_DELAY": "100",
        },
        channel_security=ChannelSecurity(token=SECRETS["tester token"]),
    )
    callers = Callers(suite)
    try:
        suite.start()
        async with asyncio.timeout(45):
            await suite.wait_serving()
        await drive(callers)
        pages = await admin_pages(suite)
        counters = sim.counters()
        keys_in_redis = await asyncio.to_thread(redis.dbsize)
    finally:
        codes = await asyncio.to_thread(suite.stop)  # exporters flush on the way out
        await capture.stop()
        sim.stop()
        redis.stop()
    logs = {name: s.log_text() for name, s in suite.services.items()}

    texts = {
        **{f"log {name}": text for name, text in logs.items()},
        **{f"spans export {i}": text for i, text in enumerate(capture.texts)},
        **{f"admin {where}": text for where, text in pages.items()},
        **{f"reply {i}": text for i, text in enumerate(callers.replies)},
        **{f"caller error {i}": text for i, text in enumerate(callers.errors)},
    }
    assert find_leaks(SECRETS, texts) == []

    # It looked at enough of each to mean something.
    assert codes == {"signal-engine": 0, "tracker": 0, "market-gateway": 0}, codes
    lines = {name: len(text.splitlines()) for name, text in logs.items()}
    warnings = [line for line in logs["market-gateway"].splitlines() if '"warning"' in line]
    assert min(lines.values()) >= 10 and sum(lines.values()) >= 40 and len(warnings) >= 3, lines
    provider_spans = [s for s in capture.spans if _provider_url(s.attributes)]
    hosts = {_provider_url(s.attributes).split("/")[3] for s in provider_spans}
    failed = [s for s in provider_spans if _status(s.attributes) >= 400]
    assert len(capture.spans) >= 100 and len(provider_spans) >= 20, len(capture.spans)
    assert len(hosts) >= 6 and len(failed) >= 3, (hosts, len(failed))
    # Alpha Vantage's key travels in the query: its URLs prove a key was there, and masked.
    assert any("apikey=***" in _provider_url(s.attributes).lower() for s in provider_spans)
    assert {s.service for s in capture.spans} == set(logs)
    assert {"ok", "auth_error", "fault"} <= set(counters["total"]["by_outcome"]), counters
    assert all(len(pages[f"{n}/metrics"]) > 2000 for n in logs), "metrics pages too short"
    assert keys_in_redis >= 1, "the services never used the password-protected Redis"
    codes_seen = {error.split(" ", 1)[0] for error in callers.errors}
    assert {"INVALID_ARGUMENT", "UNAUTHENTICATED", "PERMISSION_DENIED"} <= codes_seen
    assert len(callers.replies) >= 10, callers.errors
    assert time.monotonic() - started < 60


def _provider_url(attributes: dict[str, Any]) -> str:
    url = str(attributes.get("http.url") or attributes.get("url.full") or "")
    return url if url.startswith("http://127.0.0.1:") else ""


def _status(attributes: dict[str, Any]) -> int:
    value = attributes.get("http.status_code") or attributes.get("http.response.status_code")
    return int(value or 0)


def test_the_scan_finds_a_planted_secret_in_every_form_it_looks_for() -> None:
    """Negative control: without it a scan that never matches would pass every time."""
    secret = "k+y/" + secrets.token_hex(8)
    planted = {f"form {i}": f"..{form}.." for i, form in enumerate(sorted(leak_forms(secret)))}
    planted["header"] = "authorization: Bearer abcdef123456"
    assert len(find_leaks({"key": secret}, planted)) == len(planted)
    clean = {"masked": "authorization: Bearer *** apikey=*** missing or invalid bearer token"}
    assert find_leaks({"key": secret}, clean) == []
