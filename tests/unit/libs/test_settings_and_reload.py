from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from service_runtime.main import run_on_event_loop
from service_runtime.reloader import ConfigReloader
from service_runtime.settings import ConfigError, env_int, env_list, load_common


def test_load_common_defaults_and_overrides() -> None:
    common = load_common(
        {
            "GRPC_PORT": "6000",
            "LOG_FORMAT": "json",
            "ARGO_CLOCK_START": "2026-11-17T10:00:00-05:00",
        },
        service_name="tracker",
        default_grpc_port=50053,
        default_admin_port=9103,
    )
    assert (common.grpc_port, common.admin_port, common.log_format) == (6000, 9103, "json")
    assert common.clock_start is not None and common.clock_start.hour == 15
    assert common.event_loop == "uvloop"
    standard = load_common(
        {"ARGO_EVENT_LOOP": "asyncio"}, service_name="x", default_grpc_port=1, default_admin_port=2
    )
    assert standard.event_loop == "asyncio"


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        pytest.param({"GRPC_PORT": "abc"}, "GRPC_PORT", id="not-int"),
        pytest.param({"ADMIN_PORT": "70000"}, "ADMIN_PORT", id="range"),
        pytest.param({"LOG_FORMAT": "xml"}, "LOG_FORMAT", id="choice"),
        pytest.param({"ARGO_CLOCK_START": "2026-11-17T10:00"}, "ARGO_CLOCK_START", id="naive"),
        pytest.param({"ARGO_EVENT_LOOP": "trio"}, "ARGO_EVENT_LOOP", id="loop"),
    ],
)
def test_bad_value_fails_fast_naming_the_variable(environ: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        load_common(environ, service_name="x", default_grpc_port=1, default_admin_port=2)


def test_env_helpers_reject_empty_lists_and_keep_defaults() -> None:
    assert env_int({}, "CYCLE_SECONDS", 5) == 5
    assert env_list({"SYMBOLS": "AAPL, MSFT"}, "SYMBOLS", ()) == ("AAPL", "MSFT")
    with pytest.raises(ConfigError, match="SYMBOLS"):
        env_list({"SYMBOLS": " , "}, "SYMBOLS", ())


class _Target:
    def __init__(self) -> None:
        self.applied: list[dict[str, object]] = []

    def apply(self, raw: object) -> None:
        assert isinstance(raw, dict)
        if raw.get("weight", 0) < 0:  # type: ignore[operator]
            raise ValueError("weight: must be >= 0")
        self.applied.append(raw)


def test_reload_applies_changes_and_keeps_last_good_config_on_bad_file(tmp_path: Path) -> None:
    path = tmp_path / "argo.yaml"
    path.write_text("weight: 1\n")
    target = _Target()
    reloader = ConfigReloader(str(path), target.apply)
    reloader.load_initial()
    assert reloader.check_once() is False  # unchanged content is not re-applied

    path.write_text("weight: [unclosed\n")  # not YAML
    assert reloader.check_once() is False
    path.write_text("weight: -3\n")  # rejected by the service
    assert reloader.check_once() is False
    path.write_text("weight: 2\n")
    assert reloader.check_once() is True
    assert target.applied == [{"weight": 1}, {"weight": 2}]


def test_bad_file_at_start_fails_fast_naming_argo_config(tmp_path: Path) -> None:
    path = tmp_path / "argo.yaml"
    path.write_text("- a list, not a mapping\n")
    with pytest.raises(ConfigError, match="ARGO_CONFIG"):
        ConfigReloader(str(path), _Target().apply).load_initial()


@pytest.mark.parametrize(("setting", "module"), [("uvloop", "uvloop"), ("asyncio", "asyncio")])
def test_services_run_on_the_configured_event_loop(setting: str, module: str) -> None:
    seen: list[str] = []

    async def main() -> None:
        seen.append(type(asyncio.get_running_loop()).__module__.partition(".")[0])

    run_on_event_loop(main(), setting)
    assert seen == [module]
