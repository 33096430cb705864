"""Settings from the environment and tunables from the YAML mapping."""

from __future__ import annotations

import pytest

from service_runtime.settings import ConfigError
from signal_engine.config import load_settings, parse_tunables
from signal_engine.domain import TECHNICAL_SOURCES, Tunables


def test_defaults() -> None:
    settings = load_settings({})
    assert settings.common.service_name == "signal-engine"
    assert (settings.common.grpc_port, settings.common.admin_port) == (50052, 9102)
    assert settings.market_gateway_addr == "127.0.0.1:50051"
    assert settings.tracker_addr == "127.0.0.1:50053"
    assert settings.symbols == ("AAPL", "NVDA", "TSLA", "MSFT", "BTC-USD", "ETH-USD")
    assert settings.cycle_seconds == 5.0
    assert (settings.outbox_dir, settings.outbox_max_signals) == ("./var/outbox", 100_000)
    assert settings.redis_url is None and settings.lease_seconds == 10.0
    assert settings.redis_key_prefix == "argo:signal-engine" and settings.replica_id == ""


def test_engine_variables() -> None:
    settings = load_settings(
        {
            "ENGINE_OUTBOX_DIR": "/data/outbox",
            "ENGINE_OUTBOX_MAX_SIGNALS": "500",
            "REDIS_URL": "redis://:secret@redis:6379/0",
            "ENGINE_LEASE_SECONDS": "3",
            "ENGINE_REDIS_KEY_PREFIX": "test:engine",
            "ENGINE_REPLICA_ID": "engine-0",
        }
    )
    assert (settings.outbox_dir, settings.outbox_max_signals) == ("/data/outbox", 500)
    assert settings.redis_url == "redis://:secret@redis:6379/0"
    assert (settings.lease_seconds, settings.redis_key_prefix) == (3.0, "test:engine")
    assert settings.replica_id == "engine-0"


def test_a_bad_redis_url_is_named_without_echoing_it() -> None:
    with pytest.raises(ConfigError, match="REDIS_URL") as caught:
        load_settings({"REDIS_URL": "http://user:secret@redis"})
    assert "secret" not in str(caught.value)


def test_environment_overrides_and_symbols_are_canonical() -> None:
    settings = load_settings(
        {
            "SYMBOLS": "aapl, btc/usd,AAPL",
            "CYCLE_SECONDS": "0.5",
            "MARKET_GATEWAY_ADDR": "gateway:6000",
            "TRACKER_ADDR": "tracker:6001",
            "GATEWAY_DEADLINE_SECONDS": "1.5",
        }
    )
    assert settings.symbols == ("AAPL", "BTC-USD")
    assert settings.cycle_seconds == 0.5
    assert settings.market_gateway_addr == "gateway:6000"
    assert settings.tracker_addr == "tracker:6001"
    assert settings.gateway_deadline_seconds == 1.5


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({"CYCLE_SECONDS": "0"}, "CYCLE_SECONDS"),
        ({"CYCLE_SECONDS": "soon"}, "CYCLE_SECONDS"),
        ({"SYMBOLS": "AAPL,??"}, "SYMBOLS"),
        ({"MARKET_GATEWAY_ADDR": "nohost"}, "MARKET_GATEWAY_ADDR"),
        ({"TRACKER_ADDR": "tracker:99999"}, "TRACKER_ADDR"),
        ({"ENGINE_OUTBOX_MAX_SIGNALS": "0"}, "ENGINE_OUTBOX_MAX_SIGNALS"),
        ({"ENGINE_LEASE_SECONDS": "0.1"}, "ENGINE_LEASE_SECONDS"),
        ({"ENGINE_REDIS_KEY_PREFIX": "a{b}"}, "ENGINE_REDIS_KEY_PREFIX"),
    ],
)
def test_bad_values_name_the_variable(environ: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        load_settings(environ)


def test_empty_file_gives_default_tunables() -> None:
    assert parse_tunables({}) == Tunables()


def test_tunables_from_top_level_or_section() -> None:
    raw = {"buy_threshold": 0.3, "weights": {"rsi": 0.0}, "max_concurrency": 4}
    for mapping in (raw, {"signal_engine": raw}):
        tunables = parse_tunables(mapping)
        assert tunables.buy_threshold == 0.3
        assert tunables.max_concurrency == 4
        assert tunables.weights["rsi"] == 0.0
        assert tunables.weights["macd"] == Tunables().weights["macd"]  # others keep defaults


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"weights": {"rsi": -1}}, "weights.rsi"),
        ({"weights": {"astrology": 1}}, "weights.astrology"),
        ({"weights": {s: 0 for s in TECHNICAL_SOURCES}}, "weights"),
        ({"weights": {"sentiment:": 1}}, "weights.sentiment:"),
        ({"dedup_window_seconds": -1}, "dedup_window_seconds"),
        ({"quiet_poll_multiplier": 0.5}, "quiet_poll_multiplier"),
        ({"sentiment_refresh_seconds": 0}, "sentiment_refresh_seconds"),
        ({"buy_threshold": 0}, "buy_threshold"),
        ({"sell_threshold": 1.5}, "sell_threshold"),
        ({"skip_threshold_pct": -0.1}, "skip_threshold_pct"),
        ({"skip_threshold_pct": "half"}, "skip_threshold_pct"),
        ({"max_concurrency": 0}, "max_concurrency"),
        ({"max_concurrency": 2.5}, "max_concurrency"),
        ({"horizon_seconds": 0}, "horizon_seconds"),
        ({"thresholds": 1}, "thresholds"),
    ],
)
def test_bad_tunables_name_the_key(raw: dict[str, object], key: str) -> None:
    with pytest.raises(ValueError, match=key):
        parse_tunables(raw)
