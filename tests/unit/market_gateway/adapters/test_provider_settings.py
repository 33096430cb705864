"""Provider settings from the environment: off without credentials, real hosts by default."""

from __future__ import annotations

import pytest

from market_gateway.config import load_settings
from market_gateway.provider_settings import load_provider_settings
from service_runtime.settings import ConfigError


def test_no_credentials_means_every_provider_is_off() -> None:
    providers = load_settings({}).providers
    assert providers.enabled_market == () and providers.enabled_ai == ()
    assert providers.get("polygon").base_url == "https://api.massive.com"
    assert providers.get("polygon").ws_url == "wss://socket.massive.com"
    assert providers.get("alpaca").ws_url == "wss://stream.data.alpaca.markets"
    assert providers.get("yahoo").base_url == "https://query2.finance.yahoo.com"
    assert {a.name: a.base_url for a in providers.ai}["xai"] == "https://api.x.ai/v1"


def test_keys_turn_providers_on_in_preference_order_and_never_show_in_repr() -> None:
    environ = {
        "ALPHAVANTAGE_API_KEY": "av-secret",
        "POLYGON_API_KEY": "pg-secret",
        "ALPACA_API_KEY_ID": "alp-id",
        "ALPACA_API_SECRET_KEY": "alp-secret",
        "PERPLEXITY_API_KEY": "pplx-secret",
        "PERPLEXITY_MODEL": "sonar-pro",
    }
    settings = load_settings(environ)
    providers = settings.providers
    assert [p.name for p in providers.enabled_market] == ["polygon", "alpaca", "alphavantage"]
    [perplexity] = providers.enabled_ai
    assert (perplexity.model, perplexity.input_price_per_1k) == ("sonar-pro", 0.001)
    for secret in ("av-secret", "pg-secret", "alp-id", "alp-secret", "pplx-secret"):
        assert secret not in repr(settings)


@pytest.mark.parametrize(
    ("environ", "enabled"),
    [
        ({}, False),
        ({"YAHOO_ENABLED": "true"}, True),
        ({"YAHOO_BASE_URL": "http://127.0.0.1:8000"}, True),
        ({"YAHOO_BASE_URL": "http://127.0.0.1:8000", "YAHOO_ENABLED": "false"}, False),
    ],
)
def test_yahoo_needs_no_key_but_is_off_unless_asked(environ: dict[str, str], enabled: bool) -> None:
    assert load_provider_settings(environ).get("yahoo").enabled is enabled


def test_urls_point_anywhere_e_g_the_simulator() -> None:
    providers = load_provider_settings(
        {
            "POLYGON_API_KEY": "k",
            "POLYGON_BASE_URL": "http://127.0.0.1:9000/polygon/",
            "POLYGON_WS_URL": "ws://127.0.0.1:9000/polygon",
        }
    )
    polygon = providers.get("polygon")
    assert (polygon.base_url, polygon.ws_url) == (
        "http://127.0.0.1:9000/polygon",
        "ws://127.0.0.1:9000/polygon",
    )


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({"ALPACA_API_KEY_ID": "only-the-id"}, "ALPACA_API_SECRET_KEY"),
        ({"ALPACA_API_SECRET_KEY": "only-the-secret"}, "ALPACA_API_KEY_ID"),
        ({"POLYGON_BASE_URL": "api.massive.com"}, "POLYGON_BASE_URL"),
        ({"ALPACA_WS_URL": "https://stream"}, "ALPACA_WS_URL"),
        ({"ALPACA_FEED": "otc"}, "ALPACA_FEED"),
        ({"AI_SENTIMENT_MODE": "loudest"}, "AI_SENTIMENT_MODE"),
        ({"XAI_INPUT_PRICE_PER_1K": "-1"}, "XAI_INPUT_PRICE_PER_1K"),
        ({"YAHOO_ENABLED": "maybe"}, "YAHOO_ENABLED"),
    ],
)
def test_bad_values_fail_naming_the_variable(environ: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError, match=variable) as caught:
        load_provider_settings(environ)
    assert "only-the" not in str(caught.value)
