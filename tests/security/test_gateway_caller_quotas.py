"""The gateway's per-caller quotas: wired into its Wiring and hot-reloaded from ARGO_CONFIG."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import pytest_asyncio

from market_gateway.bootstrap import GatewayWiring, bootstrap
from market_gateway.config import load_settings, parse_tunables
from market_gateway.domain import QuotaSettings
from service_runtime.clock import FakeClock

pytestmark = pytest.mark.security


@pytest_asyncio.fixture
async def gateway() -> AsyncIterator[tuple[GatewayWiring, FakeClock]]:
    clock = FakeClock(datetime(2026, 11, 17, 15, 30, tzinfo=UTC))
    wiring = await bootstrap(load_settings({}), clock=clock)
    yield wiring, clock
    await wiring.exit_stack.aclose()


@pytest.mark.asyncio
async def test_gateway_caller_quotas_follow_the_reloaded_config(gateway) -> None:
    """Without it, an operator could not throttle (or unthrottle) a runaway caller without
    restarting every gateway replica, and the caller-auth wrapper would have no quotas to apply."""
    wiring, clock = gateway
    quotas = wiring.caller_quotas
    assert quotas is not None
    for _ in range(200):  # the shipped default: 100/s, burst 200, per caller
        assert await quotas.retry_after("reporting") is None
    assert await quotas.retry_after("reporting") is not None
    assert wiring.apply_config is not None
    wiring.apply_config(
        {"market_gateway": {"caller_quotas": {"signal-engine": {"rate_per_second": 1, "burst": 2}}}}
    )
    assert await quotas.retry_after("signal-engine") is None
    assert await quotas.retry_after("signal-engine") is None
    wait = await quotas.retry_after("signal-engine")
    assert wait is not None and 0.9 <= wait <= 1.0
    clock.advance(1.0)
    assert await quotas.retry_after("signal-engine") is None
    assert await quotas.retry_after("ops") is None  # other callers keep the default


def test_caller_quota_config_is_checked_and_names_the_key() -> None:
    """Without it, a typo in the quota section would be ignored silently (or applied as
    'unlimited') instead of being rejected while the last good config stays in force."""
    tunables = parse_tunables({"caller_quotas": {"ops": {"rate_per_second": 5, "burst": 10}}})
    assert tunables.caller_quotas["ops"] == QuotaSettings(rate_per_second=5, burst=10)
    assert "default" in tunables.caller_quotas
    with pytest.raises(ValueError, match=r"caller_quotas\.ops\.burst"):
        parse_tunables({"caller_quotas": {"ops": {"burst": -1}}})
    with pytest.raises(ValueError, match=r"caller_quotas\.ops\.rate"):
        parse_tunables({"caller_quotas": {"ops": {"rate": 5}}})
