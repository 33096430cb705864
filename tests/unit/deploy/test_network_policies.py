"""The network-policies component, evaluated flow by flow on each rendered overlay: the
allowed call graph (engine -> gateway, engine -> tracker, tracker -> gateway), datastores
and collector, provider egress from the gateway only, and everything else denied."""

from __future__ import annotations

import pytest

from tests.unit.deploy.manifests import of_kind, render
from tests.unit.deploy.netpol import Cluster, Endpoint, External, Pod, pods_of

NAMESPACES = {"dev": "argo-dev", "prod": "argo"}
PUBLIC_V4 = External("203.0.113.10")  # a provider API
PUBLIC_V6 = External("2001:db8::10")
PRIVATE = External("10.0.0.7")  # a node, or anything else inside the VPC
METADATA = External("169.254.169.254")  # cloud instance metadata
DNS = Pod("coredns", "kube-system", {"k8s-app": "kube-dns"}, {"dns": 53})
PUSHGATEWAY = Pod("pushgateway", "monitoring", {"app.kubernetes.io/name": "pushgateway"})
PROMETHEUS = Pod("prometheus", "monitoring", {"app.kubernetes.io/name": "prometheus"})
CLIENT = Pod("client", "team-a", {"app": "portfolio"})
STRANGER = Pod("stranger", "other", {"app": "whatever"})
Flow = tuple[str | Endpoint, str | Endpoint, int]
COLLECTOR = Pod(
    "jaeger", "observability", {"app.kubernetes.io/name": "jaeger"}, {"otlp-grpc": 4317}
)


def _world(overlay: str) -> tuple[Cluster, dict[str, Endpoint]]:
    docs = render(overlay)
    namespace = NAMESPACES[overlay]
    labels = {
        ns: {"kubernetes.io/metadata.name": ns}
        for ns in (namespace, "kube-system", "monitoring", "team-a", "other", "observability")
    }
    labels["team-a"]["argo-signals/client"] = "true"
    endpoints: dict[str, Endpoint] = dict(pods_of(docs, namespace))
    if overlay == "prod":  # managed datastores outside the cluster, collector in its namespace
        endpoints.update(
            redis=External("10.20.0.5"), postgres=External("10.20.0.6"), jaeger=COLLECTOR
        )
    return Cluster(of_kind(docs, "NetworkPolicy"), labels), endpoints


SERVERS = ("market-gateway", "signal-engine", "tracker")
JOBS = ("tracker-migrate", "tracker-archive", "tracker-calibrate")

ALLOWED = [
    ("signal-engine", "market-gateway", 50051),
    ("signal-engine", "tracker", 50053),
    ("tracker", "market-gateway", 50051),
    ("market-gateway", "redis", 6379),
    ("signal-engine", "redis", 6379),
    ("tracker", "postgres", 5432),
    ("tracker-migrate", "postgres", 5432),
    ("tracker-archive", "postgres", 5432),
    ("tracker-calibrate", "postgres", 5432),
    *[(name, "jaeger", 4317) for name in SERVERS + JOBS],
    ("market-gateway", PUBLIC_V4, 443),
    ("market-gateway", PUBLIC_V6, 443),
    ("tracker", PUBLIC_V4, 443),  # RunArchive to object storage
    ("tracker-archive", PUBLIC_V4, 443),
    (CLIENT, "market-gateway", 50051),
    (CLIENT, "signal-engine", 50052),
    (CLIENT, "tracker", 50053),
    *[(job, PUSHGATEWAY, 9091) for job in JOBS],  # jobs push their metrics on exit
    (PROMETHEUS, "market-gateway", 9101),
    (PROMETHEUS, "signal-engine", 9102),
    (PROMETHEUS, "tracker", 9103),
]
DENIED = [
    ("market-gateway", "signal-engine", 50052),
    ("market-gateway", "tracker", 50053),
    ("tracker", "signal-engine", 50052),
    ("signal-engine", "market-gateway", 9101),
    ("tracker-migrate", "market-gateway", 50051),
    ("tracker", "redis", 6379),
    ("market-gateway", "postgres", 5432),
    ("signal-engine", "postgres", 5432),
    ("signal-engine", PUBLIC_V4, 443),
    ("tracker-migrate", PUBLIC_V4, 443),
    ("tracker-calibrate", PUBLIC_V4, 443),
    ("market-gateway", PUBLIC_V4, 80),
    ("market-gateway", PRIVATE, 443),
    ("market-gateway", METADATA, 80),
    ("market-gateway", METADATA, 443),
    ("tracker", METADATA, 443),
    (STRANGER, "signal-engine", 50052),
    (STRANGER, "market-gateway", 50051),
    (CLIENT, "signal-engine", 9102),
    ("market-gateway", PUSHGATEWAY, 9091),
    ("tracker", PUSHGATEWAY, 9091),
    (PROMETHEUS, "signal-engine", 50052),
]
DEV_ONLY_DENIED = [
    (STRANGER, "redis", 6379),
    (STRANGER, "postgres", 5432),
    ("redis", "jaeger", 4317),
    ("postgres", PUBLIC_V4, 443),
]


def _allowed(overlay: str, flow: Flow) -> bool:
    cluster, endpoints = _world(overlay)
    source, destination, port = flow
    return cluster.allows(
        endpoints[source] if isinstance(source, str) else source,
        endpoints[destination] if isinstance(destination, str) else destination,
        port,
    )


def _label(flow: Flow) -> str:
    def name(x: str | Endpoint) -> str:
        return x if isinstance(x, str) else (x.name if isinstance(x, Pod) else x.ip)

    return f"{name(flow[0])}->{name(flow[1])}:{flow[2]}"


@pytest.mark.parametrize("overlay", sorted(NAMESPACES))
@pytest.mark.parametrize("flow", ALLOWED, ids=_label)
def test_allowed_flows(overlay: str, flow: Flow) -> None:
    assert _allowed(overlay, flow)


@pytest.mark.parametrize("overlay", sorted(NAMESPACES))
@pytest.mark.parametrize("flow", DENIED, ids=_label)
def test_denied_flows(overlay: str, flow: Flow) -> None:
    assert not _allowed(overlay, flow)


@pytest.mark.parametrize("flow", DEV_ONLY_DENIED, ids=_label)
def test_dev_datastores_admit_only_the_suite(flow: Flow) -> None:
    assert not _allowed("dev", flow)


@pytest.mark.parametrize("overlay", sorted(NAMESPACES))
def test_every_pod_resolves_names(overlay: str) -> None:
    cluster, endpoints = _world(overlay)
    for endpoint in endpoints.values():
        if isinstance(endpoint, Pod):
            assert cluster.allows(endpoint, DNS, 53, "UDP"), endpoint.name


def test_without_the_policies_everything_would_be_open() -> None:
    """The evaluator is not vacuous: the same flows pass when no policy exists."""
    _, endpoints = _world("dev")
    open_cluster = Cluster([], {})
    assert open_cluster.allows(endpoints["market-gateway"], endpoints["tracker"], 50053)
    assert open_cluster.allows(endpoints["signal-engine"], PUBLIC_V4, 443)
