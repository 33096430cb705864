"""Composition root: build the adapters, the app and the servicer; hand them to the runtime.

Without fakes: every provider with credentials (provider_settings.py) in the default order,
their WebSocket feeds, the AI providers behind one SentimentAggregator, and the synthetic
market (the offline default, and the last fallback). With REDIS_URL the caches' L2 and the
rate-limit ledger live in Redis (shared by replicas; an unreachable Redis degrades to
in-process caching and a 1/replicas share of every quota); without it both stay in-process.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

import grpc
import structlog
from redis.asyncio import Redis

from market_gateway.adapters.ai_chat.aggregate import SentimentAggregator, SentimentMode
from market_gateway.adapters.cache_codec import CacheCodec
from market_gateway.adapters.calendar import NyseCalendar
from market_gateway.adapters.factory import Sources, build_sources
from market_gateway.adapters.redis_client import open_redis
from market_gateway.adapters.synthetic.market import SyntheticMarket
from market_gateway.app import MarketGatewayApp
from market_gateway.app.caching import CacheFactory, Flight, TtlFor
from market_gateway.app.guard import quota_of
from market_gateway.app.sentiment import Aggregate
from market_gateway.config import KNOWN_PROVIDERS, Settings, Tunables, parse_tunables
from market_gateway.grpc_api import registration
from market_gateway.grpc_api.servicer import SERVICE_NAME, MarketGatewayServicer
from market_gateway.ports import (
    Cache,
    Clock,
    MarketCalendar,
    QuoteSource,
    QuoteStream,
    SentimentSource,
)
from market_gateway.provider_settings import ProviderSettings
from resilience.cache import TwoTierCache
from resilience.limiter import RateLimiter
from resilience.limiter_redis import RedisLimiterStore
from resilience.limiter_store import InMemoryLimiterStore, LimiterStore
from resilience.quota import Quota
from service_runtime.caller_quota import CallerQuotas
from service_runtime.clock import SystemClock
from service_runtime.wiring import Wiring

log = structlog.get_logger(__name__)


@dataclass
class GatewayWiring(Wiring):
    """The Wiring plus the app itself, for tests and tools that drive it directly."""

    app: MarketGatewayApp = field(kw_only=True)
    sources: Sources = field(kw_only=True, default_factory=Sources)


async def bootstrap(
    settings: Settings,
    *,
    clock: Clock | None = None,
    source: QuoteSource | None = None,
    sources: Sequence[QuoteSource] | None = None,
    streams: Sequence[QuoteStream] | None = None,
    sentiment: Sequence[SentimentSource] | None = None,
    calendar: MarketCalendar | None = None,
    redis: Redis | None = None,
    tunables: Tunables | None = None,
) -> GatewayWiring:
    """Wire market-gateway; every port can be replaced by a fake (`source` for one market
    provider, `sources` for several in order, `streams`, `sentiment` for AI providers)."""
    clock = clock or SystemClock(settings.common.clock_start)
    if calendar is None:
        calendar = await NyseCalendar.load()
    tunables = tunables or parse_tunables({})
    exit_stack = contextlib.AsyncExitStack()
    built = build_sources(settings.providers, clock=clock, exit_stack=exit_stack)
    synthetic: SyntheticMarket | None = None
    market: list[QuoteSource]
    if source is not None or sources is not None:
        market = [source] if source is not None else list(sources or ())
    else:
        synthetic = SyntheticMarket(
            clock=clock,
            calendar=calendar,
            seed=settings.synthetic_seed,
            anchor=_anchor(settings, clock),
            volatility_scale=tunables.synthetic_volatility_scale,
            history_days=settings.synthetic_history_days,
        )
        market = [*built.quotes, synthetic]
    feeds = list(built.streams) if streams is None else list(streams)
    if source is not None and streams is None:
        feeds = []  # one fake provider: no real feeds beside it
    aggregate = built.sentiment if isinstance(built.sentiment, SentimentAggregator) else None
    ai = list(aggregate.sources) if sentiment is None and aggregate else list(sentiment or ())
    if redis is None and settings.redis_url is not None:
        redis = open_redis(
            settings.redis_url,
            max_connections=settings.redis_max_connections,
            pool_wait_seconds=settings.redis_pool_wait_seconds,
        )
        exit_stack.push_async_callback(redis.aclose)
    caches: list[TwoTierCache] = []
    limiter_store = _limiter_store(settings, redis)  # provider and caller quotas alike
    app = MarketGatewayApp(
        market,
        clock,
        calendar,
        tunables,
        streams=feeds,
        ai=ai,
        aggregate=_aggregate(settings.providers),
        ask_all_ai=settings.providers.sentiment_mode == SentimentMode.MOST_CONFIDENT.value,
        limiter=RateLimiter({}, store=limiter_store, clock=clock),
        cache_factory=_cache_factory(settings, redis, clock, caches),
        credentials=_credential_labels(settings.providers),
        known_providers=KNOWN_PROVIDERS,
    )
    built.ai_ledger.add_listener(app.record_ai_spend)
    for cache in caches:
        exit_stack.push_async_callback(cache.aclose)
    exit_stack.push_async_callback(app.aclose)
    servicer = MarketGatewayServicer(app)
    # Enforced only when AUTH_MODE is on (service_runtime.caller_auth); shared by the
    # replicas through Redis when it is configured.
    caller_quotas = CallerQuotas(_caller_quotas(tunables), clock=clock, store=limiter_store)

    def register(server: grpc.aio.Server) -> None:
        registration.add_to_server(servicer, server)

    def apply_config(raw: Mapping[str, Any]) -> None:
        new = parse_tunables(raw)
        app.apply_tunables(new)
        caller_quotas.set_quotas(_caller_quotas(new))
        if synthetic is not None:
            synthetic.set_volatility_scale(new.synthetic_volatility_scale)
        log.info("tunables_applied", **_describe(new))

    async def on_shutdown() -> None:
        app.begin_shutdown()  # open streams end at their next tick

    log.info(
        "market_gateway_wired",
        providers=[s.name for s in market],
        feeds=[s.name for s in feeds],
        ai=[s.name for s in ai],
        redis=redis is not None,
    )
    return GatewayWiring(
        service_names=[SERVICE_NAME],
        register=register,
        performance=app.performance,
        exit_stack=exit_stack,
        apply_config=apply_config,
        on_shutdown=on_shutdown,
        caller_quotas=caller_quotas,
        app=app,
        sources=built,
    )


def _aggregate(providers: ProviderSettings) -> Aggregate:
    mode = SentimentMode(providers.sentiment_mode)

    def aggregate(sources: Sequence[SentimentSource], ask_all: bool) -> SentimentSource:
        chosen = SentimentMode.MOST_CONFIDENT if ask_all else mode
        return SentimentAggregator(
            sources, mode=chosen, timeout_seconds=providers.ai_timeout_seconds
        )

    return aggregate


def _caller_quotas(tunables: Tunables) -> dict[str, Quota]:
    return {caller: quota_of(quota) for caller, quota in tunables.caller_quotas.items()}


def _limiter_store(settings: Settings, redis: Redis | None) -> LimiterStore:
    local = InMemoryLimiterStore(scale=1.0 / settings.replicas)
    if redis is None:
        return InMemoryLimiterStore()
    return RedisLimiterStore(redis, prefix=f"{settings.redis_prefix}:rl", fallback=local)


def _cache_factory(
    settings: Settings, redis: Redis | None, clock: Clock, made: list[TwoTierCache]
) -> CacheFactory:
    def build(name: str, ttl: TtlFor, flight: Flight) -> Cache:
        cache = TwoTierCache(
            name,
            ttl=ttl,
            redis=redis,
            codec=CacheCodec(),
            prefix=f"{settings.redis_prefix}:cache",
            flight=flight,
            clock=clock,
        )
        made.append(cache)
        return cache

    return build


def _credential_labels(providers: ProviderSettings) -> dict[str, str]:
    """A short one-way label per credential, so replicas with the same key share one
    limiter ledger (the label is a hash prefix, never the key)."""
    keys = {p.name: p.api_key for p in providers.market} | {p.name: p.api_key for p in providers.ai}
    return {
        name: hashlib.sha256(key.encode()).hexdigest()[:12] for name, key in keys.items() if key
    }


def _anchor(settings: Settings, clock: Clock) -> date:
    if settings.synthetic_anchor is not None:
        return settings.synthetic_anchor
    if settings.common.clock_start is not None:
        return settings.common.clock_start.date()
    return clock.now().date()


def _describe(tunables: Tunables) -> dict[str, Any]:
    switches = tunables.optimizations
    return {
        "quote_ttl_seconds": tunables.quote_ttl_seconds,
        "stream_interval_seconds": tunables.stream_interval_seconds,
        "synthetic_volatility_scale": tunables.synthetic_volatility_scale,
        "disabled_providers": sorted(tunables.disabled_providers),
        "optimizations_off": [f.name for f in fields(switches) if not getattr(switches, f.name)],
        "quote_order": list(tunables.routing.quotes),
    }
