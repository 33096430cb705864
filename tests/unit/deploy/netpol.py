"""A small evaluator of Kubernetes NetworkPolicy semantics, enough to ask "may A reach B on
this port?" of a rendered overlay.

It follows the API's rules: a pod is isolated for a direction once any policy in its
namespace selects it for that direction; a flow is then allowed only if some selecting
policy has a rule whose peers and ports both match; a connection needs the source's
egress and the destination's ingress. Named ports resolve against the destination pod.
ipBlock peers match only addresses outside the cluster here (whether pod IPs match them
is implementation-defined, so policies must not rely on it).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.unit.deploy.manifests import Doc, pod_template, selector_matches, workloads


@dataclass(frozen=True)
class Pod:
    name: str
    namespace: str
    labels: Mapping[str, str]
    ports: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class External:
    ip: str


Endpoint = Pod | External


def pods_of(docs: Iterable[Doc], namespace: str) -> dict[str, Pod]:
    """One representative pod per workload of a rendered overlay, keyed by workload name."""
    pods = {}
    for workload in workloads(tuple(docs)):
        template = pod_template(workload)
        ports = {
            p["name"]: p["containerPort"]
            for c in template["spec"]["containers"]
            for p in c.get("ports", [])
        }
        name = workload["metadata"]["name"]
        pods[name] = Pod(name, namespace, template["metadata"]["labels"], ports)
    return pods


class Cluster:
    def __init__(self, policies: Iterable[Doc], namespace_labels: Mapping[str, Mapping[str, str]]):
        self._policies = list(policies)
        self._namespaces = namespace_labels

    def allows(
        self, source: Endpoint, destination: Endpoint, port: int, protocol: str = "TCP"
    ) -> bool:
        egress = isinstance(source, External) or self._permits(
            source, "Egress", destination, destination, port, protocol
        )
        ingress = isinstance(destination, External) or self._permits(
            destination, "Ingress", source, destination, port, protocol
        )
        return egress and ingress

    def _permits(
        self, pod: Pod, direction: str, peer: Endpoint, target: Endpoint, port: int, protocol: str
    ) -> bool:
        selecting = [
            p
            for p in self._policies
            if p["metadata"]["namespace"] == pod.namespace
            and direction in _types(p)
            and selector_matches(p["spec"]["podSelector"], pod.labels)
        ]
        if not selecting:
            return True
        key, peers_key = ("egress", "to") if direction == "Egress" else ("ingress", "from")
        for policy in selecting:
            for rule in policy["spec"].get(key) or []:
                peers = rule.get(peers_key) or []
                ports = rule.get("ports") or []
                namespace = policy["metadata"]["namespace"]
                if peers and not any(self._peer_matches(x, namespace, peer) for x in peers):
                    continue
                if ports and not any(_port_matches(x, port, protocol, target) for x in ports):
                    continue
                return True
        return False

    def _peer_matches(self, peer_rule: Mapping[str, Any], namespace: str, peer: Endpoint) -> bool:
        if "ipBlock" in peer_rule:
            if not isinstance(peer, External):
                return False
            address = ipaddress.ip_address(peer.ip)
            block = peer_rule["ipBlock"]
            network = ipaddress.ip_network(block["cidr"])
            if address.version != network.version or address not in network:
                return False
            return not any(
                address in ipaddress.ip_network(e)
                for e in block.get("except", [])
                if ipaddress.ip_network(e).version == address.version
            )
        if isinstance(peer, External):
            return False
        if "namespaceSelector" in peer_rule:
            labels = self._namespaces.get(peer.namespace, {})
            if not selector_matches(peer_rule["namespaceSelector"], labels):
                return False
        elif peer.namespace != namespace:
            return False
        return selector_matches(peer_rule.get("podSelector", {}), peer.labels)


def _types(policy: Doc) -> list[str]:
    spec = policy["spec"]
    if "policyTypes" in spec:
        return list(spec["policyTypes"])
    return ["Ingress", *(["Egress"] if "egress" in spec else [])]


def _port_matches(rule: Mapping[str, Any], port: int, protocol: str, target: Endpoint) -> bool:
    if rule.get("protocol", "TCP") != protocol:
        return False
    wanted = rule.get("port")
    if wanted is None:
        return True
    if isinstance(wanted, str):
        return isinstance(target, Pod) and target.ports.get(wanted) == port
    return int(wanted) <= port <= int(rule.get("endPort", wanted))
