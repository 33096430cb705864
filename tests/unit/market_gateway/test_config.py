"""Settings from the environment and hot-reloaded tunables."""

from __future__ import annotations

from dataclasses import fields
from datetime import date

import pytest

from market_gateway.config import Settings, Tunables, load_settings, parse_tunables
from service_runtime.settings import ConfigError


def test_defaults_name_the_service_and_its_ports() -> None:
    settings = load_settings({})
    assert settings.common.service_name == "market-gateway"
    assert (settings.common.grpc_port, settings.common.admin_port) == (50051, 9101)
    assert (settings.synthetic_seed, settings.synthetic_anchor) == (42, None)


def test_synthetic_market_is_configured_from_the_environment() -> None:
    settings = load_settings(
        {"SYNTHETIC_SEED": "7", "SYNTHETIC_ANCHOR_DATE": "2026-11-02", "GRPC_PORT": "6000"}
    )
    assert settings.synthetic_seed == 7 and settings.synthetic_anchor == date(2026, 11, 2)
    assert settings.common.grpc_port == 6000


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SYNTHETIC_SEED", "abc"),
        ("SYNTHETIC_SEED", "-1"),
        ("SYNTHETIC_ANCHOR_DATE", "17/11/2026"),
        ("SYNTHETIC_HISTORY_DAYS", "0"),
    ],
)
def test_bad_values_fail_naming_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        load_settings({variable: value})


def test_provider_credentials_are_not_read_yet() -> None:
    settings = load_settings({"POLYGON_API_KEY": "secret-value"})
    assert "secret-value" not in repr(settings)
    assert not any("key" in f.name for f in fields(Settings))


def test_missing_tunables_keep_their_defaults_and_other_services_keys_are_left_alone() -> None:
    assert parse_tunables({}) == Tunables()
    assert parse_tunables({"cycle_seconds": 5}) == Tunables()


def test_tunables_are_read_from_their_keys() -> None:
    tunables = parse_tunables(
        {
            "quote_ttl_seconds": 2,
            "off_hours_ttl_multiplier": 4.5,
            "stream_interval_seconds": 0.5,
            "synthetic": {"volatility_scale": 1.5},
            "providers": {"synthetic": {"enabled": False}},
        }
    )
    assert tunables == Tunables(
        quote_ttl_seconds=2.0,
        off_hours_ttl_multiplier=4.5,
        stream_interval_seconds=0.5,
        synthetic_volatility_scale=1.5,
        disabled_providers=frozenset({"synthetic"}),
    )


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"quote_ttl_seconds": "fast"}, "quote_ttl_seconds"),
        ({"quote_ttl_seconds": -1}, "quote_ttl_seconds"),
        ({"stream_interval_seconds": 0}, "stream_interval_seconds"),
        ({"off_hours_ttl_multiplier": True}, "off_hours_ttl_multiplier"),
        ({"synthetic": {"volatility_scale": float("nan")}}, "synthetic.volatility_scale"),
        ({"synthetic": {"volatilty": 1}}, "synthetic.volatilty"),
        ({"synthetic": 3}, "synthetic"),
        ({"providers": {"nosuch": {"enabled": True}}}, "providers.nosuch"),
        ({"providers": {"synthetic": {"enabled": "no"}}}, "providers.synthetic.enabled"),
    ],
)
def test_bad_tunables_are_rejected_naming_the_key(raw: dict[str, object], key: str) -> None:
    with pytest.raises(ValueError, match=key.replace(".", r"\.")):
        parse_tunables(raw)


def test_tunables_are_read_from_the_market_gateway_section_of_a_shared_file() -> None:
    from market_gateway.config import parse_tunables

    shared = {
        "market_gateway": {"quote_ttl_seconds": 3},
        "signal_engine": {"skip_threshold_pct": 0.5},
    }
    assert parse_tunables(shared).quote_ttl_seconds == 3


def test_every_optimisation_switch_and_section_is_read() -> None:
    off = dict.fromkeys(("cache", "batching", "single_flight", "hedging", "streams"), False)
    tunables = parse_tunables(
        {
            "optimizations": off,
            "ttl": {"base_seconds": 60, "multipliers": {"sentiment": 4}},
            "routing": {"quotes": ["yahoo", "polygon"], "synthetic_fallback": False},
            "resilience": {"breaker_failure_threshold": 3, "retry_attempts": 2},
            "hedging": {"percentile": 0.5},
            "batching": {"window_seconds": 0.01, "max_batch": 20},
            "agreement": {"providers": ["polygon", "alpaca"], "threshold_bps": 25},
            "streams": {"max_symbols": 10},
            "providers": {"polygon": {"price_per_call_usd": 0.001, "rate_per_second": 50}},
        }
    )
    switches = tunables.optimizations
    assert not (switches.cache or switches.batching or switches.hedging or switches.streams)
    assert switches.incremental_bars and switches.agreement and switches.single_source
    assert tunables.ttl.base_seconds == 60 and tunables.ttl.multipliers["sentiment"] == 4
    assert tunables.ttl.multipliers["indicators"] == 1.5  # the others keep their defaults
    assert tunables.routing.quotes == ("yahoo", "polygon")
    assert not tunables.routing.synthetic_fallback
    assert tunables.resilience.breaker_failure_threshold == 3
    assert tunables.resilience.retry_attempts == 2
    assert (tunables.hedging.percentile, tunables.batching.max_batch) == (0.5, 20)
    assert tunables.agreement.providers == ("polygon", "alpaca")
    assert tunables.streams.max_symbols == 10
    polygon = tunables.provider("polygon")
    assert polygon.price_per_call_usd == 0.001
    assert (polygon.quota.rate_per_second, polygon.quota.burst) == (50, 10)  # burst kept
    assert (
        Tunables().optimizations.all_off()
        == parse_tunables(
            {
                "optimizations": dict.fromkeys(
                    (
                        "cache",
                        "batching",
                        "single_flight",
                        "hedging",
                        "streams",
                        "incremental_bars",
                        "agreement",
                        "single_source",
                    ),
                    False,
                )
            }  # fmt: skip
        ).optimizations
    )


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"optimizations": {"cache": "yes"}}, "optimizations.cache"),
        ({"optimizations": {"turbo": True}}, "optimizations.turbo"),
        ({"ttl": {"multipliers": {"sentiment": -1}}}, "ttl.multipliers.sentiment"),
        ({"ttl": {"multipliers": {"gossip": 2}}}, "ttl.multipliers.gossip"),
        ({"ttl": {"min_seconds": 100, "max_seconds": 50}}, "ttl.min_seconds"),
        ({"routing": {"quotes": ["polygon", "bloomberg"]}}, "routing.quotes"),
        ({"routing": {"bars": "polygon"}}, "routing.bars"),
        ({"resilience": {"retry_attempts": 2.5}}, "resilience.retry_attempts"),
        ({"batching": {"max_batch": 0}}, "batching.max_batch"),
        ({"agreement": {"min_providers_to_demote": 2}}, "agreement.min_providers_to_demote"),
        ({"providers": {"polygon": {"burst": -1}}}, "providers.polygon.burst"),
        ({"providers": {"xai": {"price_per_call_usd": "free"}}}, "providers.xai.price_per_call"),
    ],
)
def test_bad_new_tunables_are_rejected_naming_the_key(raw: dict[str, object], key: str) -> None:
    with pytest.raises(ValueError, match=key.replace(".", r"\.")):
        parse_tunables(raw)


def test_redis_and_replicas_are_read_from_the_environment() -> None:
    settings = load_settings({"REDIS_URL": "redis://cache:6379/1", "MARKET_GATEWAY_REPLICAS": "3"})
    assert (settings.redis_url, settings.replicas) == ("redis://cache:6379/1", 3)
    assert settings.redis_prefix == "argo:market-gateway"
    assert load_settings({}).redis_url is None
    with pytest.raises(ConfigError, match="REDIS_URL"):
        load_settings({"REDIS_URL": "http://nope"})
    assert settings.redis_max_connections == 64
    assert load_settings({"REDIS_MAX_CONNECTIONS": "8"}).redis_max_connections == 8
    with pytest.raises(ConfigError, match="REDIS_MAX_CONNECTIONS"):
        load_settings({"REDIS_MAX_CONNECTIONS": "0"})
    assert settings.redis_pool_wait_seconds == 0.5
    assert load_settings({"REDIS_POOL_WAIT_SECONDS": "2"}).redis_pool_wait_seconds == 2.0
    with pytest.raises(ConfigError, match="REDIS_POOL_WAIT_SECONDS"):
        load_settings({"REDIS_POOL_WAIT_SECONDS": "0"})
    with pytest.raises(ConfigError, match=r"REDIS_URL: set REDIS_MAX_CONNECTIONS instead"):
        load_settings({"REDIS_URL": "redis://redis:6379/0?max_connections=5"})
    with pytest.raises(ConfigError, match=r"REDIS_URL: set REDIS_POOL_WAIT_SECONDS instead"):
        load_settings({"REDIS_URL": "redis://redis:6379/0?socket_timeout=1&timeout=9"})
    assert load_settings({"REDIS_URL": "redis://r:6379/0?socket_timeout=1"}).redis_url


def test_default_quotas_and_breaker_are_the_seeds() -> None:
    from market_gateway.app.guard import breaker_config, quota_of
    from resilience.presets import SEED_BREAKER, SEED_QUOTAS

    tunables = Tunables()
    for ours, seeds in (("polygon", "polygon"), ("alphavantage", "alpha_vantage"), ("xai", "xai")):
        assert quota_of(tunables.provider(ours).quota) == SEED_QUOTAS[seeds]
    sonar = set(SEED_QUOTAS["sonar"].windows)
    assert sonar < set(quota_of(tunables.provider("perplexity").quota).windows)  # + 50/min
    assert quota_of(tunables.provider("synthetic").quota).windows == ()
    breaker = breaker_config(tunables.resilience)
    for option in ("failure_threshold", "success_threshold", "wait_duration_in_open_state"):
        assert getattr(breaker, option) == getattr(SEED_BREAKER, option)
