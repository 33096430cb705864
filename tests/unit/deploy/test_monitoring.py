"""The monitoring component: its custom resources (no schema in kubernetes-validate, so their
structure is checked here), the alerts the issue asks for, and the Grafana dashboard; every
metric they query is defined by the code, or is one of the few names listed below that the
engineers building that feature have agreed to use."""

from __future__ import annotations

import json
import re

from tests.unit.deploy.manifests import K8S, REPO, Doc, named, of_kind, render, selector_matches

COMPONENT = K8S / "components" / "monitoring"
DASHBOARD = COMPONENT / "dashboards" / "argo-signals.json"
# Queried before the code defines them: the price of market-data calls in the gateway's cost
# ledger (issue 4; AI token cost is argo_market_gateway_ai_cost_usd_total). Keep this list
# short and tell the owner.
PENDING_METRICS = {"argo_market_gateway_call_cost_usd_total"}
# Not ours: Prometheus itself and kube-state-metrics (CronJob / Job outcomes).
EXTERNAL_METRICS = {"up", "kube_job_status_failed", "kube_cronjob_status_last_successful_time"}
REQUIRED_ALERTS = {
    "ArgoProviderCircuitOpen",
    "ArgoProviderRateLimited",
    "ArgoCacheHitRateLow",
    "ArgoSignalCycleSlow",
    "ArgoOutboxGrowing",
    "ArgoArchiveFailed",
}
REQUIRED_PANELS = {
    "Signal cycle time",
    "Calls per provider",
    "Cache hit rate",
    "Skip rate",
    "429s and rate-limit pushback",
    "Circuit breaker states",
    "Cost per hour",
    "Outbox depth",
    "Outcomes per hour",
    "Win rate",
}
_CONSTRUCTOR = re.compile(r"\b(Counter|Gauge|Histogram|Summary)\(\s*\"(argo_[a-z0-9_]+)\"")


def defined_metrics() -> set[str]:
    """Series names the code exposes, from every prometheus_client constructor in it."""
    names: set[str] = set()
    for path in [*(REPO / "libs").rglob("*.py"), *(REPO / "services").rglob("*.py")]:
        for kind, name in _CONSTRUCTOR.findall(path.read_text()):
            if kind == "Counter":
                base = name.removesuffix("_total")
                names |= {base + "_total", base + "_created"}
            elif kind in ("Histogram", "Summary"):
                names |= {name + "_bucket", name + "_sum", name + "_count", name}
            else:
                names.add(name)
    return names


def queried_metrics(expr: str) -> set[str]:
    """Metric names in a PromQL expression (argo_*, plus the few external ones)."""
    without_strings = re.sub(r'"[^"]*"', '""', expr)
    names = set(re.findall(r"\b(argo_[a-z0-9_]+)\b", without_strings))
    names |= {n for n in EXTERNAL_METRICS if re.search(rf"\b{n}\b\s*[{{\[]", without_strings)}
    return names


def _balanced(expr: str) -> bool:
    stack = []
    pairs = {")": "(", "]": "[", "}": "{"}
    for char in re.sub(r'"[^"]*"', '""', expr):
        if char in "([{":
            stack.append(char)
        elif char in pairs and (not stack or stack.pop() != pairs[char]):
            return False
    return not stack


def _rules() -> list[Doc]:
    rule = named(render("prod"), "PrometheusRule", "argo-signals")
    return [r for group in rule["spec"]["groups"] for r in group["rules"]]


def test_service_monitor_scrapes_each_server_admin_port() -> None:
    docs = render("prod")
    monitor = named(docs, "ServiceMonitor", "argo-signals")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] == "http-metrics"
    assert endpoint["path"] == "/metrics"
    scraped = [
        s["metadata"]["name"]
        for s in of_kind(docs, "Service")
        if selector_matches(monitor["spec"]["selector"], s["metadata"]["labels"])
        and any(p["name"] == endpoint["port"] for p in s["spec"]["ports"])
    ]
    assert sorted(scraped) == ["market-gateway", "signal-engine", "tracker"]


def test_rules_are_well_formed() -> None:
    rule = named(render("prod"), "PrometheusRule", "argo-signals")
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert set(rule["spec"]) == {"groups"}
    for group in rule["spec"]["groups"]:
        assert set(group) == {"name", "rules"}
    names = [r["alert"] for r in _rules()]
    assert len(names) == len(set(names))
    for r in _rules():
        assert set(r) <= {"alert", "expr", "for", "labels", "annotations"}, r["alert"]
        assert r["labels"]["severity"] in ("warning", "critical"), r["alert"]
        assert {"summary", "description"} <= set(r["annotations"]), r["alert"]
        assert re.fullmatch(r"\d+[smh]", r.get("for", "0s")), r["alert"]
        assert _balanced(r["expr"]), r["alert"]


def test_the_alerts_the_issue_asks_for_exist() -> None:
    assert REQUIRED_ALERTS <= {r["alert"] for r in _rules()}


def test_rules_and_dashboard_query_only_metrics_that_exist_or_are_agreed() -> None:
    known = defined_metrics() | PENDING_METRICS | EXTERNAL_METRICS
    exprs = [r["expr"] for r in _rules()]
    exprs += [
        t["expr"] for p in json.loads(DASHBOARD.read_text())["panels"] for t in p.get("targets", [])
    ]
    unknown = {name for expr in exprs for name in queried_metrics(expr)} - known
    assert not unknown, f"queried but never defined: {sorted(unknown)}"


def test_metric_name_check_would_catch_a_typo() -> None:
    assert queried_metrics('rate(argo_cache_hitz_total{cache="x"}[5m])') - defined_metrics()


def test_dashboard_is_well_formed_and_covers_the_issue() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] == "argo-signals"
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    assert variables == {"datasource", "namespace"}
    panels = dashboard["panels"]
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids))
    assert REQUIRED_PANELS <= {p["title"] for p in panels}
    for panel in panels:
        assert set(panel["gridPos"]) == {"h", "w", "x", "y"}
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        for target in panel["targets"]:
            assert 'namespace="$namespace"' in target["expr"], panel["title"]
            assert _balanced(target["expr"]), panel["title"]


def test_dashboard_ships_as_a_sidecar_config_map() -> None:
    config_map = named(render("prod"), "ConfigMap", "argo-signals-dashboard")
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(config_map["data"]["argo-signals.json"]) == json.loads(DASHBOARD.read_text())
    # Client-side `kubectl apply` keeps a copy in an annotation limited to 256 KiB.
    assert len(DASHBOARD.read_bytes()) < 200_000
