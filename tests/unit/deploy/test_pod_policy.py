"""The hardening every container gets, asserted over every workload of every overlay
(the suite's servers and jobs and the dev overlay's datastores alike)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.unit.deploy.manifests import (
    LONG_RUNNING_KINDS,
    TARGETS,
    Doc,
    containers,
    is_server,
    ours,
    pod_template,
    render,
    workloads,
)

# gRPC health service name each server reports readiness under (DESIGN.md §2).
HEALTH_NAMES = {
    "market-gateway": ("argo.marketdata.v1.MarketGateway", 50051, 9101),
    "signal-engine": ("argo.signals.v1.SignalEngine", 50052, 9102),
    "tracker": ("argo.tracker.v1.Tracker", 50053, 9103),
}
DEFAULT_DRAIN_GRACE_SECONDS = 10.0  # service_runtime.settings: SHUTDOWN_GRACE_SECONDS
IMAGE = re.compile(
    r"^(?P<repo>[a-z0-9][a-z0-9./_-]*)(:(?P<tag>[\w][\w.-]*))?(@sha256:[0-9a-f]{64})?$"
)


def _cases() -> list[Any]:
    cases = []
    for target in TARGETS:
        for workload in workloads(render(target)):
            name = f"{target}/{workload['kind']}/{workload['metadata']['name']}"
            cases.append(pytest.param(target, workload, id=name))
    return cases


CASES = _cases()


def _effective(container: Doc, pod: Doc, key: str) -> Any:
    """A securityContext field as the kubelet applies it: container level wins."""
    value = container.get("securityContext", {}).get(key)
    return pod.get("securityContext", {}).get(key) if value is None else value


@pytest.mark.parametrize(("target", "workload"), CASES)
def test_containers_run_non_root_read_only_without_capabilities(target: str, workload: Doc) -> None:
    pod = pod_template(workload)["spec"]
    for container in containers(workload):
        context = container.get("securityContext", {})
        assert _effective(container, pod, "runAsNonRoot") is True, container["name"]
        assert (_effective(container, pod, "runAsUser") or 0) != 0, container["name"]
        assert context.get("readOnlyRootFilesystem") is True, container["name"]
        assert context.get("allowPrivilegeEscalation") is False, container["name"]
        assert context.get("privileged", False) is False, container["name"]
        assert context.get("capabilities", {}).get("drop") == ["ALL"], container["name"]
        assert not context.get("capabilities", {}).get("add"), container["name"]
        seccomp = _effective(container, pod, "seccompProfile") or {}
        assert seccomp.get("type") == "RuntimeDefault", container["name"]
    assert pod.get("hostNetwork", False) is False
    assert pod.get("hostPID", False) is False
    assert pod.get("automountServiceAccountToken") is False


@pytest.mark.parametrize(("target", "workload"), CASES)
def test_containers_have_requests_and_limits(target: str, workload: Doc) -> None:
    for container in containers(workload):
        resources = container.get("resources", {})
        for bound in ("requests", "limits"):
            assert set(resources.get(bound, {})) >= {"cpu", "memory"}, (container["name"], bound)


@pytest.mark.parametrize(("target", "workload"), CASES)
def test_images_are_pinned_never_latest(target: str, workload: Doc) -> None:
    for container in containers(workload):
        image = container["image"]
        match = IMAGE.match(image)
        assert match, image
        assert match.group("tag") or "@sha256:" in image, f"{image}: no tag or digest"
        assert match.group("tag") != "latest", image
        assert container.get("imagePullPolicy") == "IfNotPresent", image


@pytest.mark.parametrize(("target", "workload"), CASES)
def test_ports_are_named(target: str, workload: Doc) -> None:
    for container in containers(workload):
        for port in container.get("ports", []):
            assert re.fullmatch(r"[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?", port.get("name", "")), port


# Jobs run to completion: probes apply to the long-running workloads.
@pytest.mark.parametrize(
    ("target", "workload"), [c for c in CASES if c.values[1]["kind"] in LONG_RUNNING_KINDS]
)
def test_long_running_containers_have_readiness_and_liveness_probes(
    target: str, workload: Doc
) -> None:
    for container in containers(workload):
        assert "readinessProbe" in container, container["name"]
        assert "livenessProbe" in container, container["name"]


SERVER_CASES = [c for c in CASES if is_server(c.values[1])]


def test_every_target_has_the_three_servers() -> None:
    for target in TARGETS:
        names = {c.values[1]["metadata"]["name"] for c in SERVER_CASES if c.values[0] == target}
        assert names == set(HEALTH_NAMES), target


@pytest.mark.parametrize(("target", "workload"), SERVER_CASES)
def test_servers_use_native_grpc_probes_on_their_health_names(target: str, workload: Doc) -> None:
    health_name, grpc_port, admin_port = HEALTH_NAMES[workload["metadata"]["name"]]
    (container,) = pod_template(workload)["spec"]["containers"]
    assert container["readinessProbe"]["grpc"] == {"port": grpc_port, "service": health_name}
    assert container["livenessProbe"]["grpc"] == {"port": grpc_port}
    assert container["startupProbe"]["grpc"] == {"port": grpc_port}
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"grpc": grpc_port, "http-metrics": admin_port}
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["GRPC_PORT"] == str(grpc_port)
    assert env["ADMIN_PORT"] == str(admin_port)


@pytest.mark.parametrize(("target", "workload"), SERVER_CASES)
def test_termination_grace_outlasts_the_drain_and_the_pre_stop_pause(
    target: str, workload: Doc
) -> None:
    pod = pod_template(workload)["spec"]
    (container,) = pod["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    drain = float(env.get("SHUTDOWN_GRACE_SECONDS") or DEFAULT_DRAIN_GRACE_SECONDS)
    pre_stop = container.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command")
    pause = float(pre_stop[-1]) if pre_stop and pre_stop[0] == "sleep" else 0.0
    # Kubernetes default is 30 s; the server needs the drain plus the pause plus closing.
    assert pod.get("terminationGracePeriodSeconds", 30) > drain + pause


@pytest.mark.parametrize(("target", "workload"), [c for c in CASES if ours(c.values[1])])
def test_our_pods_write_only_to_volumes(target: str, workload: Doc) -> None:
    pod = pod_template(workload)["spec"]
    (container,) = pod["containers"]
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes[mounts["/tmp"]["name"]].get("emptyDir") is not None
    config = mounts["/etc/argo"]
    assert config.get("readOnly") is True
    assert "subPath" not in config, "a subPath mount never sees ConfigMap updates"
    assert volumes[config["name"]]["configMap"]["name"] == "argo-config"
    env = {e["name"]: e.get("value") for e in container.get("env", [])}
    for variable in ("ENGINE_OUTBOX_DIR",):
        if variable in env:
            assert env[variable] in mounts, f"{variable} is not on a volume"
    assert env.get("ARGO_CONFIG") == "/etc/argo/argo.yaml"
