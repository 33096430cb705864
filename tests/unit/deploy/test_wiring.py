"""Objects that refer to each other agree: Services select the right pods on ports those
pods name, references to ConfigMaps/Secrets/claims/accounts resolve, PDBs and HPAs cover
the servers, and each overlay has the shape the issue asks for."""

from __future__ import annotations

import pytest

from tests.unit.deploy.manifests import (
    OVERLAYS,
    TARGETS,
    Doc,
    containers,
    is_server,
    named,
    of_kind,
    ours,
    pod_template,
    render,
    secret_templates,
    selector_matches,
    workloads,
)

SERVERS = ("market-gateway", "signal-engine", "tracker")


def _pods(docs: tuple[Doc, ...]) -> list[tuple[Doc, Doc]]:
    return [(w, pod_template(w)) for w in workloads(docs)]


def _secret_keys(docs: tuple[Doc, ...], name: str) -> set[str]:
    """Keys of a rendered Secret, else of its out-of-band template (deploy/k8s/secrets)."""
    for secret in of_kind(docs, "Secret"):
        if secret["metadata"]["name"] == name:
            return set(secret["data"])
    for template in secret_templates():
        if template["metadata"]["name"] == name:
            return set(template["stringData"])
    return set()


@pytest.mark.parametrize("target", TARGETS)
def test_services_select_exactly_their_server_pods_on_named_ports(target: str) -> None:
    docs = render(target)
    for service in of_kind(docs, "Service"):
        selected = [
            (w, t)
            for w, t in _pods(docs)
            if selector_matches(
                {"matchLabels": service["spec"]["selector"]}, t["metadata"]["labels"]
            )
        ]
        name = service["metadata"]["name"]
        assert len(selected) == 1, f"Service {name} selects {len(selected)} workloads"
        workload, template = selected[0]
        assert workload["kind"] in ("Deployment", "StatefulSet"), f"{name} selects a job"
        port_names = {p["name"] for c in containers(workload) for p in c.get("ports", [])}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in port_names, f"{name}:{port['name']}"


@pytest.mark.parametrize("target", TARGETS)
def test_in_suite_clients_use_the_headless_services(target: str) -> None:
    docs = render(target)
    for name in ("market-gateway", "tracker"):
        assert named(docs, "Service", f"{name}-headless")["spec"]["clusterIP"] == "None"
    engine = named(docs, "Deployment", "signal-engine")
    env = {e["name"]: e.get("value") for e in pod_template(engine)["spec"]["containers"][0]["env"]}
    assert env["MARKET_GATEWAY_ADDR"] == "market-gateway-headless:50051"
    assert env["TRACKER_ADDR"] == "tracker-headless:50053"


@pytest.mark.parametrize("target", TARGETS)
def test_references_resolve(target: str) -> None:
    docs = render(target)
    names = {(d["kind"], d["metadata"]["name"]) for d in docs}
    for workload, template in _pods(docs):
        spec = template["spec"]
        where = f"{workload['kind']}/{workload['metadata']['name']}"
        if "serviceAccountName" in spec:
            assert ("ServiceAccount", spec["serviceAccountName"]) in names, where
        claims = {t["metadata"]["name"] for t in workload["spec"].get("volumeClaimTemplates", [])}
        for volume in spec.get("volumes", []):
            if "configMap" in volume:
                assert ("ConfigMap", volume["configMap"]["name"]) in names, where
            if "persistentVolumeClaim" in volume:
                claim = volume["persistentVolumeClaim"]["claimName"]
                assert ("PersistentVolumeClaim", claim) in names, where
        mounted = {m["name"] for c in containers(workload) for m in c.get("volumeMounts", [])}
        assert mounted <= {v["name"] for v in spec.get("volumes", [])} | claims, where
        for container in containers(workload):
            for var in container.get("env", []):
                ref = var.get("valueFrom", {})
                if "configMapKeyRef" in ref and not ref["configMapKeyRef"].get("optional"):
                    key_ref = ref["configMapKeyRef"]
                    assert key_ref["key"] in named(docs, "ConfigMap", key_ref["name"])["data"]
                if "secretKeyRef" in ref and not ref["secretKeyRef"].get("optional"):
                    key_ref = ref["secretKeyRef"]
                    keys = _secret_keys(docs, key_ref["name"])
                    assert key_ref["key"] in keys, f"{where}: {key_ref} resolves nowhere"


@pytest.mark.parametrize("target", TARGETS)
def test_every_server_has_a_disruption_budget(target: str) -> None:
    docs = render(target)
    budgets = of_kind(docs, "PodDisruptionBudget")
    for workload, template in _pods(docs):
        if not is_server(workload):
            continue
        covering = [
            b
            for b in budgets
            if selector_matches(b["spec"]["selector"], template["metadata"]["labels"])
        ]
        assert len(covering) == 1, workload["metadata"]["name"]
        assert covering[0]["spec"]["maxUnavailable"] == 1


@pytest.mark.parametrize("target", TARGETS)
def test_autoscaled_deployments_leave_replicas_to_the_autoscaler(target: str) -> None:
    docs = render(target)
    for hpa in of_kind(docs, "HorizontalPodAutoscaler"):
        ref = hpa["spec"]["scaleTargetRef"]
        deployment = named(docs, ref["kind"], ref["name"])
        assert "replicas" not in deployment["spec"], "apply would reset the autoscaler's count"


def _replicas(docs: tuple[Doc, ...], name: str) -> tuple[int, int]:
    hpas = [h for h in of_kind(docs, "HorizontalPodAutoscaler") if h["metadata"]["name"] == name]
    if hpas:
        return hpas[0]["spec"]["minReplicas"], hpas[0]["spec"]["maxReplicas"]
    count = named(docs, "Deployment", name)["spec"].get("replicas", 1)
    return count, count


def test_dev_runs_one_replica_each_with_in_cluster_datastores_and_jaeger() -> None:
    docs = render("dev")
    assert {name: _replicas(docs, name) for name in SERVERS} == {n: (1, 1) for n in SERVERS}
    assert named(docs, "StatefulSet", "postgres")["spec"]["replicas"] == 1
    assert named(docs, "Deployment", "redis")
    assert named(docs, "Deployment", "jaeger")
    assert named(docs, "Service", "jaeger-collector")
    assert named(docs, "Service", "jaeger-query")
    labels = named(docs, "Namespace", "argo-dev")["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


def test_prod_sizes_and_spreads_the_servers_and_uses_external_datastores() -> None:
    docs = render("prod")
    assert _replicas(docs, "market-gateway")[0] == 3
    assert _replicas(docs, "signal-engine")[0] == 2
    assert _replicas(docs, "tracker") == (2, 2)
    for name in SERVERS:
        affinity = pod_template(named(docs, "Deployment", name))["spec"]["affinity"]
        assert affinity["podAntiAffinity"], name
    tracker_affinity = pod_template(named(docs, "Deployment", "tracker"))["spec"]["affinity"]
    assert tracker_affinity["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert not of_kind(docs, "Secret"), "prod Secrets are created out of band, never rendered"
    assert not of_kind(docs, "StatefulSet")
    for workload in workloads(docs):
        for container in containers(workload):
            assert container["image"].startswith("registry.example.com/argo-signals/")


@pytest.mark.parametrize("target", OVERLAYS)
def test_overlays_turn_on_tracing_and_network_policies(target: str) -> None:
    docs = render(target)
    assert named(docs, "ConfigMap", "argo-tracing")
    assert named(docs, "NetworkPolicy", "default-deny-all")
    for workload in workloads(docs):
        if ours(workload):
            env = {e["name"] for c in containers(workload) for e in c.get("env", [])}
            assert {"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_RESOURCE_ATTRIBUTES"} <= env
