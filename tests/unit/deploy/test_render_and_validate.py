"""Every overlay renders with kubectl kustomize and validates strictly (unknown fields are
errors) against the Kubernetes schemas of the oldest and newest versions we support."""

from __future__ import annotations

import pytest
from kubernetes_validate import utils as kubernetes_validate

from tests.unit.deploy.manifests import (
    KUBERNETES_VERSIONS,
    OVERLAYS,
    TARGETS,
    of_kind,
    render,
    secret_templates,
)

# The only kinds allowed to have no schema in kubernetes-validate (Prometheus Operator CRDs);
# test_monitoring.py checks their structure instead.
CUSTOM_KINDS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
    ("monitoring.coreos.com/v1", "PrometheusRule"),
}


def test_both_overlays_exist() -> None:
    assert OVERLAYS == ("dev", "prod")


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_object_validates_strictly(target: str, version: str) -> None:
    failures = []
    for doc in render(target):
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            if (doc["apiVersion"], doc["kind"]) not in CUSTOM_KINDS:
                failures.append(f"{doc['kind']}/{doc['metadata']['name']}: no schema")
        except kubernetes_validate.ValidationError as e:
            path = ".".join(str(p) for p in e.path)
            failures.append(f"{doc['kind']}/{doc['metadata']['name']}: {path}: {e.message}")
    assert not failures, "\n".join(failures)


def test_a_misspelt_field_is_rejected() -> None:
    """The validation above would catch a typo: strictness is really on."""
    deployment = dict(of_kind(render("dev"), "Deployment")[0])
    deployment["spec"] = {**deployment["spec"], "replica": 2}
    with pytest.raises(kubernetes_validate.ValidationError, match="replica"):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[0], strict=True)


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_secret_templates_validate_and_hold_no_values(version: str) -> None:
    templates = secret_templates()
    assert {t["metadata"]["name"] for t in templates} == {
        "argo-datastores",
        "argo-provider-keys",
        "argo-archive-credentials",
    }
    for template in templates:
        kubernetes_validate.validate(template, version, strict=True)
        assert "data" not in template
        assert set(template["stringData"].values()) == {""}, template["metadata"]["name"]


@pytest.mark.parametrize("target", TARGETS)
def test_names_are_unique_per_kind(target: str) -> None:
    seen = [(d["kind"], d["metadata"]["name"]) for d in render(target)]
    assert len(seen) == len(set(seen))


@pytest.mark.parametrize("target", OVERLAYS)
def test_overlays_put_everything_in_their_namespace(target: str) -> None:
    expected = {"dev": "argo-dev", "prod": "argo"}[target]
    for doc in render(target):
        if doc["kind"] == "Namespace":
            assert doc["metadata"]["name"] == expected
        else:
            assert doc["metadata"].get("namespace") == expected, doc["metadata"]["name"]
