"""Resilience policies for calls to rate-limited, flaky upstream providers.

Each policy works alone or inside a `Pipeline` (outermost first), and every one takes an
injected `Clock`, exports Prometheus metrics and adds span events to the current span:

- `RateLimiter` (+ `Quota`, `Window`, `LimitKey`; stores `InMemoryLimiterStore` and
  `resilience.limiter_redis.RedisLimiterStore`; `resilience.pushback` parsers)
- `CircuitBreaker` (+ `BreakerConfig`; replica quorum in `resilience.breaker_quorum`)
- `Retry` (+ `RetryBudget`; tenacity wait/stop strategies)
- `SingleFlight` (cross-replica: `resilience.singleflight_redis.RedisSingleFlight`)
- `MicroBatcher`, `Hedge` / `AdaptiveDelay` / `race`
- `TwoTierCache` (+ `Ttl`, `CacheResult`; its Redis tier is imported only when configured)
- seeds' defaults in `resilience.presets`

Modules that import the Redis client are not imported here, so importing `resilience`
pulls in no driver.
"""

from resilience.batcher import MicroBatcher
from resilience.breaker import BreakerTransition, CircuitBreaker
from resilience.breaker_config import BreakerConfig, BreakerState, SlidingWindowType
from resilience.cache import CacheResult, CacheStatus, TwoTierCache
from resilience.cache_l1 import Ttl
from resilience.clock import Clock, deadline_after
from resilience.codec import Codec, JsonCodec
from resilience.errors import (
    CircuitOpen,
    DeadlineExceeded,
    MissingBatchResult,
    NoGoodAnswer,
    RateLimited,
    RemoteFlightFailed,
    ResilienceError,
    retry_after_of,
)
from resilience.hedging import AdaptiveDelay, Hedge, race
from resilience.limiter import RateLimiter
from resilience.limiter_store import InMemoryLimiterStore, LimiterStore
from resilience.pipeline import CallContext, Pipeline, Policy
from resilience.quota import LimitKey, Quota, Window
from resilience.retry import Retry, default_is_retryable
from resilience.retry_budget import RetryBudget
from resilience.singleflight import SingleFlight

__all__ = [
    "AdaptiveDelay",
    "BreakerConfig",
    "BreakerState",
    "BreakerTransition",
    "CacheResult",
    "CacheStatus",
    "CallContext",
    "CircuitBreaker",
    "CircuitOpen",
    "Clock",
    "Codec",
    "DeadlineExceeded",
    "Hedge",
    "InMemoryLimiterStore",
    "JsonCodec",
    "LimitKey",
    "LimiterStore",
    "MicroBatcher",
    "MissingBatchResult",
    "NoGoodAnswer",
    "Pipeline",
    "Policy",
    "Quota",
    "RateLimited",
    "RateLimiter",
    "RemoteFlightFailed",
    "ResilienceError",
    "Retry",
    "RetryBudget",
    "SingleFlight",
    "SlidingWindowType",
    "Ttl",
    "TwoTierCache",
    "Window",
    "deadline_after",
    "default_is_retryable",
    "race",
    "retry_after_of",
]
