"""The shipped example config is accepted by every service's hot-reload parser."""

from __future__ import annotations

from pathlib import Path

import pytest

from market_gateway.config import parse_tunables as gateway_tunables
from service_runtime.reloader import read_config_file
from signal_engine.config import parse_tunables as engine_tunables
from tracker.config import parse_tunables as tracker_tunables

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "argo.example.yaml"


@pytest.mark.parametrize(
    "parse",
    [
        pytest.param(gateway_tunables, id="market-gateway"),
        pytest.param(engine_tunables, id="signal-engine"),
        pytest.param(tracker_tunables, id="tracker"),
    ],
)
def test_each_service_accepts_its_section_of_the_shared_example(parse) -> None:
    raw, _ = read_config_file(str(EXAMPLE))
    assert parse(raw) == parse({})  # the example spells out the defaults


def test_a_bad_value_in_a_section_is_rejected_with_its_key() -> None:
    with pytest.raises(ValueError, match="skip_threshold_pct"):
        engine_tunables({"signal_engine": {"skip_threshold_pct": -1}})
