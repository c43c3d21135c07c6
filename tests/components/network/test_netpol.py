"""The NetworkPolicy evaluator the flow tests rely on, against the API's own rules."""

from __future__ import annotations

from typing import Any

import pytest

from tests.components.network.netpol import Pod, allowed

WEB = Pod("web", "app", {"role": "web"}, {"http": 8080})
CLIENT = Pod("client", "app", {"role": "client"})
STRANGER = Pod("stranger", "other", {"role": "client"})


def _policy(spec: dict[str, Any], namespace: str = "app") -> dict[str, Any]:
    return {"kind": "NetworkPolicy", "metadata": {"name": "p", "namespace": namespace}, "spec": spec}


def _ingress(*peers: dict[str, Any], ports: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    rule: dict[str, Any] = {"from": list(peers)}
    if ports is not None:
        rule["ports"] = ports
    return _policy(
        {"podSelector": {"matchLabels": {"role": "web"}}, "policyTypes": ["Ingress"], "ingress": [rule]}
    )


def test_an_unselected_pod_is_open() -> None:
    assert allowed([], CLIENT, WEB, 8080)


def test_a_selected_pod_without_rules_is_closed() -> None:
    deny = _policy({"podSelector": {}, "policyTypes": ["Ingress"]})
    assert not allowed([deny], CLIENT, WEB, 8080)


@pytest.mark.parametrize(
    ("peer", "source", "expected"),
    [
        ({"podSelector": {"matchLabels": {"role": "client"}}}, CLIENT, True),
        # A pod selector alone means the policy's own namespace.
        ({"podSelector": {"matchLabels": {"role": "client"}}}, STRANGER, False),
        ({"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "other"}}}, STRANGER, True),
        (
            {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "other"}},
                "podSelector": {"matchLabels": {"role": "server"}},
            },
            STRANGER,
            False,
        ),
        (
            {"podSelector": {"matchExpressions": [{"key": "role", "operator": "In", "values": ["client"]}]}},
            CLIENT,
            True,
        ),
        ({"podSelector": {"matchExpressions": [{"key": "role", "operator": "DoesNotExist"}]}}, CLIENT, False),
        ({"ipBlock": {"cidr": "0.0.0.0/0"}}, CLIENT, False),
    ],
)
def test_peers(peer: dict[str, Any], source: Pod, expected: bool) -> None:
    assert allowed([_ingress(peer)], source, WEB, 8080) is expected


@pytest.mark.parametrize(
    ("ports", "port", "protocol", "expected"),
    [
        ([{"port": 8080}], 8080, "TCP", True),
        ([{"port": 8080}], 8081, "TCP", False),
        ([{"port": 8080}], 8080, "UDP", False),
        ([{"port": "http", "protocol": "TCP"}], 8080, "TCP", True),
        ([{"port": 8000, "endPort": 8100}], 8080, "TCP", True),
        ([{"protocol": "UDP"}], 9125, "UDP", True),
    ],
)
def test_ports(ports: list[dict[str, Any]], port: int, protocol: str, expected: bool) -> None:
    peer = {"podSelector": {}}
    assert allowed([_ingress(peer, ports=ports)], CLIENT, WEB, port, protocol) is expected


def test_policies_add_up() -> None:
    deny = _policy({"podSelector": {}, "policyTypes": ["Ingress"]})
    door = _ingress({"podSelector": {"matchLabels": {"role": "client"}}})
    assert allowed([deny, door], CLIENT, WEB, 8080)


def test_egress_of_the_source_counts_too() -> None:
    no_egress = _policy({"podSelector": {"matchLabels": {"role": "client"}}, "policyTypes": ["Egress"]})
    assert not allowed([no_egress], CLIENT, WEB, 8080)


def test_a_policy_of_another_namespace_does_not_isolate() -> None:
    deny_elsewhere = _policy({"podSelector": {}, "policyTypes": ["Ingress"]}, namespace="other")
    assert allowed([deny_elsewhere], CLIENT, WEB, 8080)
