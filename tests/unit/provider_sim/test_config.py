"""Configuration layers, validation with the key named, and the CLI's environment layer."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tools.provider_sim.__main__ import env_layer, load
from tools.provider_sim.config import QuotaWindow, SimConfig
from tools.provider_sim.listeners import provider_ports


def test_defaults_are_the_real_quotas_and_realistic_latency() -> None:
    config = SimConfig.parse()
    assert config.provider("alpaca").quotas == (QuotaWindow(limit=200, seconds=60),)
    assert QuotaWindow(limit=25, seconds=86_400) in config.provider("alphavantage").quotas
    assert config.provider("deepseek").quotas == ()
    assert config.provider("polygon").latency.median_ms == 120
    assert config.provider("xai").latency.median_ms == 1_500
    assert config.market.seed == 42


def test_user_defaults_override_builtin_per_provider_values_and_null_restores() -> None:
    config = SimConfig.parse({"defaults": {"latency": {"median_ms": 0}}})
    assert config.provider("xai").latency.median_ms == 0
    patched = config.patched({"providers": {"xai": {"latency": {"median_ms": 9}}}})
    assert patched.provider("xai").latency.median_ms == 9
    assert patched.provider("polygon").latency.median_ms == 0
    restored = patched.patched({"defaults": None, "providers": {"xai": None}})
    assert restored.provider("xai").latency.median_ms == 1_500


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ({"providers": {"polygon": {"faults": {"error_rate": 1.5}}}}, "providers.polygon.faults"),
        (
            {"providers": {"polygon": {"latency": {"median": 3}}}},
            "providers.polygon.latency.median",
        ),
        ({"providers": {"bloomberg": {}}}, "providers.bloomberg"),
        ({"market": {"anchor_date": "17/11/2026"}}, "market.anchor_date"),
        ({"listen": {"provider_ports": "some"}}, "listen"),
        (
            {"providers": {"yahoo": {"quotas": [{"limit": 0, "seconds": 1}]}}},
            "providers.yahoo.quotas[0]",
        ),
        (
            {"providers": {"yahoo": {"faults": {"outages": [{"start": "noon", "end": 5}]}}}},
            "outages[0]",
        ),
        ({"seed": "x"}, "seed"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_values_are_refused_naming_the_key(raw: dict[str, object], named: str) -> None:
    with pytest.raises(ValueError, match=named.replace("[", r"\[").replace("]", r"\]")):
        SimConfig.parse(raw)


def test_provider_ports_follow_the_shared_port() -> None:
    auto = SimConfig.parse().listen
    assert provider_ports(auto, 8900)["polygon"] == 8901
    assert provider_ports(auto, 8900)["glm"] == 8909
    assert set(provider_ports(auto, 0).values()) == {0}
    assert (
        provider_ports(SimConfig.parse({"listen": {"provider_ports": "none"}}).listen, 8900) == {}
    )


def test_cli_reads_the_gateways_market_variables_and_a_yaml_file(tmp_path: Path) -> None:
    assert env_layer({}) == {}
    assert env_layer({"ARGO_CLOCK_START": "2026-11-17T10:00:00-05:00", "SYNTHETIC_SEED": "7"}) == {
        "market": {"seed": 7, "anchor_date": "2026-11-17"}
    }
    path = tmp_path / "sim.yaml"
    path.write_text("providers:\n  polygon:\n    latency: {median_ms: 5, p99_ms: 50}\n")
    config = load(str(path), {"SYNTHETIC_ANCHOR_DATE": "2026-01-02"})
    assert config.provider("polygon").latency.p99_ms == 50
    assert config.market.anchor_date == date(2026, 1, 2)
    path.write_text("- not a mapping\n")
    with pytest.raises(ValueError, match="top level"):
        load(str(path), {})
