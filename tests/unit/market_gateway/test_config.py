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
