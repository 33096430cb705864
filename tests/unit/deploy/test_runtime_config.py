"""What the manifests hand the processes is what the processes accept: each container's
environment (resolved from its ConfigMaps and Secrets) passes the service's own
`load_settings`, the mounted tunables file passes every service's `parse_tunables`, and
every variable set is one the code (or a library it uses) actually reads."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import pytest
import yaml

from market_gateway import config as gateway_config
from signal_engine import config as engine_config
from tests.unit.deploy.manifests import (
    OVERLAYS,
    REPO,
    TARGETS,
    containers,
    named,
    ours,
    render,
    resolve_env,
    workloads,
)
from tracker import config as tracker_config

LOADERS: dict[str, Callable[[Mapping[str, str]], Any]] = {
    "market-gateway": gateway_config.load_settings,
    "signal-engine": engine_config.load_settings,
    "tracker": tracker_config.load_settings,
}
PARSERS = (
    gateway_config.parse_tunables,
    engine_config.parse_tunables,
    tracker_config.parse_tunables,
)
SOURCES = {
    "market-gateway": "services/market_gateway",
    "signal-engine": "services/signal_engine",
    "tracker": "services/tracker",
}
# Read by libraries rather than our code (OpenTelemetry SDK, boto3), only used to build
# other values through $(VAR) expansion, or contract names (DESIGN.md §2) the gateway reads
# once its provider adapters and Redis tier land (issue 4).
LIBRARY_OR_CONTRACT = re.compile(
    r"OTEL_[A-Z_]+|AWS_[A-Z_]+|POD_NAME|POD_NAMESPACE|NODE_NAME"
    r"|(POLYGON|ALPHAVANTAGE|XAI|PERPLEXITY|DEEPSEEK|QWEN|GLM)_API_KEY"
    r"|ALPACA_API_KEY_ID|ALPACA_API_SECRET_KEY|REDIS_URL"
)


def _our_containers(target: str) -> list[Any]:
    cases = []
    for workload in workloads(render(target)):
        if ours(workload):
            for container in containers(workload):
                name = workload["metadata"]["labels"]["app.kubernetes.io/name"]
                case_id = f"{target}/{workload['kind']}/{workload['metadata']['name']}"
                cases.append(pytest.param(target, name, container, id=case_id))
    return cases


CASES = [case for target in TARGETS for case in _our_containers(target)]


@pytest.mark.parametrize(("target", "service", "container"), CASES)
def test_the_service_accepts_its_environment(target: str, service: str, container: Any) -> None:
    env = resolve_env(container, render(target))
    settings = LOADERS[service](env)
    assert settings.common.log_format == "json"
    assert settings.common.config_path == "/etc/argo/argo.yaml"
    if service == "tracker":  # never the SQLite default under the read-only root
        assert settings.database_url.startswith("postgresql://")


@pytest.mark.parametrize(("target", "service", "container"), CASES)
def test_every_variable_set_is_read_by_something(target: str, service: str, container: Any) -> None:
    code = "".join(
        p.read_text() for root in ("libs", SOURCES[service]) for p in (REPO / root).rglob("*.py")
    )
    unread = [
        var["name"]
        for var in container.get("env", [])
        if not LIBRARY_OR_CONTRACT.fullmatch(var["name"]) and f'"{var["name"]}"' not in code
    ]
    assert not unread, f"{service} never reads {unread}"


@pytest.mark.parametrize("target", TARGETS)
def test_the_mounted_tunables_file_is_accepted_by_every_service(target: str) -> None:
    config_map = named(render(target), "ConfigMap", "argo-config")
    assert set(config_map["data"]) == {"argo.yaml"}
    raw = yaml.safe_load(config_map["data"]["argo.yaml"])
    assert set(raw) == {"market_gateway", "signal_engine", "tracker"}
    for parse in PARSERS:
        parse(raw)


def test_a_bad_tunable_would_be_caught() -> None:
    raw = yaml.safe_load(named(render("base"), "ConfigMap", "argo-config")["data"]["argo.yaml"])
    raw["signal_engine"]["skip_threshold_pct"] = "lots"
    with pytest.raises(ValueError, match="skip_threshold_pct"):
        engine_config.parse_tunables(raw)


@pytest.mark.parametrize("target", OVERLAYS)
def test_every_gateway_replica_gets_the_same_synthetic_anchor(target: str) -> None:
    docs = render(target)
    (container,) = containers(named(docs, "Deployment", "market-gateway"))
    env = resolve_env(container, docs)
    settings = gateway_config.load_settings(env)
    assert settings.synthetic_anchor is not None, "replicas would each pick their start date"


def test_engine_replicas_share_redis_and_name_their_leases_after_the_pod() -> None:
    docs = render("prod")
    (container,) = containers(named(docs, "Deployment", "signal-engine"))
    env = resolve_env(container, docs, pod_name="signal-engine-7d9f-abcde")
    assert env["ENGINE_REPLICA_ID"] == "signal-engine-7d9f-abcde"
    assert env["REDIS_URL"].startswith("redis")


def test_dev_tracker_archives_to_its_mounted_volume() -> None:
    docs = render("dev")
    for kind, name in (("Deployment", "tracker"), ("CronJob", "tracker-archive")):
        (container,) = containers(named(docs, kind, name))
        env = resolve_env(container, docs)
        assert env["ARCHIVE_URL"] == "file:///var/lib/argo/archive"
        mounts = {m["mountPath"] for m in container["volumeMounts"]}
        assert "/var/lib/argo/archive" in mounts, name
