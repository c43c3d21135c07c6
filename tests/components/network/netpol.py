"""Evaluates Kubernetes NetworkPolicies the way the API defines them, to ask whether one pod may reach
another on a port.

The rules (``networking.k8s.io/v1``): a pod is isolated for a direction when some policy of its
namespace selects it and lists that direction in ``policyTypes``; traffic to an isolated pod is allowed
when at least one of those policies has a rule whose peers match the source (no ``from``: every
source) and whose ports match (no ``ports``: every port). A peer with only ``podSelector`` means pods
of the policy's own namespace; only ``namespaceSelector``, every pod of the matching namespaces; both,
pods matching the first in namespaces matching the second. Egress is evaluated the same way from the
source's side. ``ipBlock`` peers never match a pod (they are for traffic leaving the cluster).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Pod", "allowed", "pods_of", "selects"]


@dataclass(frozen=True)
class Pod:
    name: str
    namespace: str
    labels: dict[str, str]
    # Named container ports, for policies that name a port instead of numbering it.
    ports: dict[str, int] = field(default_factory=dict)


def selects(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """A label selector against labels; an empty selector selects everything."""
    selector = selector or {}
    if any(labels.get(key) != value for key, value in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
        present = key in labels
        ok = {
            "In": present and labels.get(key) in values,
            "NotIn": not present or labels.get(key) not in values,
            "Exists": present,
            "DoesNotExist": not present,
        }[operator]
        if not ok:
            return False
    return True


def _peer_matches(
    peer: dict[str, Any], policy_namespace: str, pod: Pod, namespace_labels: dict[str, dict[str, str]]
) -> bool:
    if "ipBlock" in peer:
        return False
    pod_selector, ns_selector = peer.get("podSelector"), peer.get("namespaceSelector")
    if ns_selector is None:
        in_namespace = pod.namespace == policy_namespace
    else:
        in_namespace = selects(ns_selector, namespace_labels.get(pod.namespace, {}))
    return in_namespace and (pod_selector is None or selects(pod_selector, pod.labels))


def _port_matches(rule_ports: list[dict[str, Any]] | None, target: Pod, port: int, protocol: str) -> bool:
    if not rule_ports:
        return True
    for entry in rule_ports:
        if entry.get("protocol", "TCP") != protocol:
            continue
        declared = entry.get("port")
        if declared is None:
            return True
        if isinstance(declared, str) and not declared.isdigit():
            start = target.ports.get(declared)  # a named port: the target's container port of that name
            if start is None:
                continue
        else:
            start = int(declared)
        if start <= port <= int(entry.get("endPort", start)):
            return True
    return False


def _direction_allows(
    policies: list[dict[str, Any]],
    direction: str,
    subject: Pod,
    peer: Pod,
    port_owner: Pod,
    port: int,
    protocol: str,
    namespace_labels: dict[str, dict[str, str]],
) -> bool:
    kind = "Ingress" if direction == "ingress" else "Egress"
    peers_key = "from" if direction == "ingress" else "to"
    isolating = [
        p
        for p in policies
        if p["metadata"].get("namespace") == subject.namespace
        and kind in _policy_types(p)
        and selects(p["spec"].get("podSelector"), subject.labels)
    ]
    if not isolating:
        return True
    for policy in isolating:
        for rule in policy["spec"].get(direction) or []:
            peers = rule.get(peers_key)
            peer_ok = not peers or any(
                _peer_matches(candidate, policy["metadata"]["namespace"], peer, namespace_labels)
                for candidate in peers
            )
            if peer_ok and _port_matches(rule.get("ports"), port_owner, port, protocol):
                return True
    return False


def _policy_types(policy: dict[str, Any]) -> list[str]:
    spec = policy["spec"]
    if "policyTypes" in spec:
        return spec["policyTypes"]
    return ["Ingress", "Egress"] if "egress" in spec else ["Ingress"]


def allowed(
    policies: list[dict[str, Any]],
    source: Pod,
    target: Pod,
    port: int,
    protocol: str = "TCP",
    namespace_labels: dict[str, dict[str, str]] | None = None,
) -> bool:
    """Whether ``source`` may open a connection to ``target`` on ``port``: egress from the source and
    ingress to the target must both allow it."""
    labels = {
        ns: {"kubernetes.io/metadata.name": ns} | extra for ns, extra in (namespace_labels or {}).items()
    }
    for pod in (source, target):
        labels.setdefault(pod.namespace, {"kubernetes.io/metadata.name": pod.namespace})
    return _direction_allows(
        policies, "egress", source, target, target, port, protocol, labels
    ) and _direction_allows(policies, "ingress", target, source, target, port, protocol, labels)


_WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job")


def pods_of(objects: list[dict[str, Any]], namespace: str) -> list[Pod]:
    """One pod per workload, labelled as its template labels it (CronJobs through their job template)."""
    found = []
    for obj in objects:
        template = None
        if obj["kind"] in _WORKLOADS:
            template = obj["spec"]["template"]
        elif obj["kind"] == "CronJob":
            template = obj["spec"]["jobTemplate"]["spec"]["template"]
        elif obj["kind"] == "Pod":
            template = obj
        if template is None:
            continue
        containers = template["spec"].get("containers", [])
        ports = {p["name"]: p["containerPort"] for c in containers for p in c.get("ports", []) if "name" in p}
        found.append(
            Pod(
                name=f"{obj['kind']}/{obj['metadata']['name']}",
                namespace=obj["metadata"].get("namespace", namespace),
                labels=dict(template["metadata"].get("labels") or {}),
                ports=ports,
            )
        )
    return found
