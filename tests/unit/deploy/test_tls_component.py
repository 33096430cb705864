"""The opt-in TLS component (deploy/k8s/components/tls) on top of the prod overlay: it
renders and validates strictly, every server mounts its own cert-manager-style Secret,
points the TLS variables into it, and probes the admin HTTP port (kubelet's gRPC probes
cannot speak TLS). No overlay enables it, so `make k8s-check` alone would never see it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml
from kubernetes_validate import utils as kubernetes_validate

from tests.unit.deploy.manifests import (
    K8S,
    KUBERNETES_VERSIONS,
    REPO,
    Doc,
    is_server,
    kubectl,
    pod_template,
)
from tests.unit.deploy.test_render_and_validate import CUSTOM_KINDS

MOUNT = "/etc/argo-tls"
EXPECTED_ENV = {
    "TLS_CERT_FILE": f"{MOUNT}/tls.crt",
    "TLS_KEY_FILE": f"{MOUNT}/tls.key",
    "TLS_CLIENT_CA_FILE": f"{MOUNT}/ca.crt",
    "TLS_CA_FILE": f"{MOUNT}/ca.crt",
    "TLS_CLIENT_CERT_FILE": f"{MOUNT}/tls.crt",
    "TLS_CLIENT_KEY_FILE": f"{MOUNT}/tls.key",
}


@pytest.fixture(scope="module")
def prod_with_tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Doc, ...]:
    overlay = tmp_path_factory.mktemp("prod-tls")
    # kustomize refuses absolute paths: reach the tree relative to the temporary overlay.
    relative = Path(os.path.relpath(K8S, overlay))
    (overlay / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "resources": [str(relative / "overlays" / "prod")],
                "components": [str(relative / "components" / "tls")],
            }
        )
    )
    result = subprocess.run(
        [kubectl(), "kustomize", str(overlay)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return tuple(d for d in yaml.safe_load_all(result.stdout) if d)


def _servers(docs: tuple[Doc, ...]) -> list[Doc]:
    servers = [d for d in docs if d["kind"] == "Deployment" and is_server(d)]
    names = {s["metadata"]["name"] for s in servers}
    assert names == {"market-gateway", "signal-engine", "tracker"}
    return servers


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_prod_with_tls_validates_strictly(prod_with_tls: tuple[Doc, ...], version: str) -> None:
    failures = []
    for doc in prod_with_tls:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            if (doc["apiVersion"], doc["kind"]) not in CUSTOM_KINDS:
                failures.append(f"{doc['kind']}/{doc['metadata']['name']}: no schema")
        except kubernetes_validate.ValidationError as e:
            failures.append(f"{doc['kind']}/{doc['metadata']['name']}: {e.message}")
    assert not failures, "\n".join(failures)


def test_each_server_mounts_its_own_secret_and_points_the_tls_variables_into_it(
    prod_with_tls: tuple[Doc, ...],
) -> None:
    for server in _servers(prod_with_tls):
        name = server["metadata"]["name"]
        spec = pod_template(server)["spec"]
        volumes = {v["name"]: v for v in spec["volumes"]}
        assert volumes["tls"]["secret"]["secretName"] == f"{name}-tls"
        (container,) = spec["containers"]
        mounts = {m["name"]: m for m in container["volumeMounts"]}
        assert mounts["tls"] == {"name": "tls", "mountPath": MOUNT, "readOnly": True}
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert {k: env.get(k) for k in EXPECTED_ENV} == EXPECTED_ENV, name


def test_probes_use_the_admin_port_and_readiness_follows_the_services_state(
    prod_with_tls: tuple[Doc, ...],
) -> None:
    admin_source = (REPO / "libs" / "service_runtime" / "admin.py").read_text()
    assert 'add_get("/healthz"' in admin_source  # the path the readiness probe asks
    assert 'add_get("/livez"' in admin_source  # the path the liveness probe asks
    for server in _servers(prod_with_tls):
        (container,) = pod_template(server)["spec"]["containers"]
        ports = {p["name"] for p in container["ports"]}
        readiness = container["readinessProbe"]
        assert readiness["httpGet"] == {"path": "/healthz", "port": "http-metrics"}
        assert container["startupProbe"]["tcpSocket"] == {"port": "http-metrics"}
        # liveness asks the event loop (/livez: 200 until shutdown), never readiness
        assert container["livenessProbe"]["httpGet"] == {"path": "/livez", "port": "http-metrics"}
        assert "http-metrics" in ports
        probes = [container[p] for p in ("readinessProbe", "livenessProbe", "startupProbe")]
        assert not any("grpc" in probe for probe in probes)
