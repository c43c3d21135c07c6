"""Network policies and the api-server Ingress: values the chart accepts, policies the program adds."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from components.model import ConfigError
from components.network.values import exposure_values
from components.validation import parse_settings
from tests.conftest import run_stack
from tooling.offline.runtime import plain

POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"


def _settings(raw: dict[str, Any]) -> Any:
    return parse_settings({"protectStatefulResources": "false"} | raw, source="Pulumi.test.yaml")


def _exposure(raw: dict[str, Any]) -> dict[str, Any]:
    settings = _settings(raw)
    return exposure_values(
        enabled=settings.network_policies,
        ingress=settings.ingress,
        prometheus_namespace=settings.prometheus_namespace,
    )


def test_chart_policies_are_on_and_prometheus_may_scrape_statsd() -> None:
    values = _exposure({"monitoring": {"mode": "existing", "namespace": "observability"}})
    assert values["networkPolicies"] == {"enabled": True}
    assert values["statsd"]["extraNetworkPolicies"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "observability"}}}
    ]


def test_no_scrape_door_without_monitoring() -> None:
    assert "statsd" not in _exposure({"monitoring": {"mode": "off"}})


def test_ingress_serves_the_api_server_with_a_cert_manager_certificate(chart_schema: dict[str, Any]) -> None:
    values = plain(
        run_stack(
            "prod", ingress={"enabled": True, "host": "airflow.example.com", "clusterIssuer": "letsencrypt"}
        )
        .release()
        .inputs
    )["values"]
    api = values["ingress"]["apiServer"]
    assert api["enabled"] is True
    assert api["annotations"] == {"cert-manager.io/cluster-issuer": "letsencrypt"}
    assert api["hosts"] == [
        {"name": "airflow.example.com", "tls": {"enabled": True, "secretName": "airflow-api-server-tls"}}
    ]
    jsonschema.validate(values, chart_schema)


def test_ingress_can_use_an_existing_tls_secret() -> None:
    values = _exposure(
        {"ingress": {"enabled": True, "host": "af.example.org", "tlsSecretName": "wildcard-tls"}}
    )
    assert values["ingress"]["apiServer"]["hosts"][0]["tls"] == {
        "enabled": True,
        "secretName": "wildcard-tls",
    }
    assert values["ingress"]["apiServer"]["annotations"] == {}


@pytest.mark.parametrize(
    ("ingress", "message"),
    [
        ({"enabled": True, "clusterIssuer": "x"}, "enabled needs host"),
        ({"enabled": True, "host": "a.example.com"}, "the UI is never served without TLS"),
        (
            {"enabled": True, "host": "a.example.com", "clusterIssuer": "x", "tlsSecretName": "y"},
            "exactly one of clusterIssuer",
        ),
        (
            {"enabled": True, "host": "not a host", "clusterIssuer": "x"},
            "airflow:ingress.host in Pulumi.test.yaml",
        ),
    ],
)
def test_bad_ingress_is_named(ingress: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _settings({"ingress": ingress})


def test_default_deny_and_the_postgres_door_with_a_bundled_database() -> None:
    policies = {r.inputs["metadata"]["name"]: r.inputs["spec"] for r in run_stack("dev").of_type(POLICY)}
    assert policies["airflow-default-deny-ingress"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    assert policies["airflow-postgresql"]["ingress"] == [
        {
            "from": [{"podSelector": {"matchLabels": {"tier": "airflow", "release": "airflow"}}}],
            "ports": [{"protocol": "TCP", "port": 5432}],
        }
    ]


def test_prod_has_no_postgres_door_and_policies_can_be_turned_off() -> None:
    names = {r.inputs["metadata"]["name"] for r in run_stack("prod").of_type(POLICY)}
    assert "airflow-default-deny-ingress" in names
    assert "airflow-postgresql" not in names
    recording = run_stack("dev", networkPolicies="false")
    assert recording.of_type(POLICY) == []
    assert plain(recording.release().inputs)["values"]["networkPolicies"] == {"enabled": False}


def _api_server_peers(raw: dict[str, Any]) -> list[dict[str, Any]]:
    return _exposure(raw)["apiServer"]["networkPolicy"]["ingress"]["from"]


def test_api_server_admits_the_release_and_the_ingress_controller_namespace() -> None:
    release = {"podSelector": {"matchLabels": {"tier": "airflow", "release": "airflow"}}}
    assert _api_server_peers({}) == [release]
    ingress = {"enabled": True, "host": "a.example.com", "clusterIssuer": "x", "controllerNamespace": "edge"}
    assert _api_server_peers({"ingress": ingress}) == [
        release,
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "edge"}}},
    ]


@pytest.mark.parametrize(
    ("monitoring", "pgbouncer", "expected"), [("existing", True, True), ("off", True, False)]
)
def test_prometheus_may_scrape_pgbouncer_only_with_monitoring(
    monitoring: str, pgbouncer: bool, expected: bool
) -> None:
    database = {
        "mode": "external",
        "existingSecretName": "airflow-metadata-connection",
        "pgbouncer": {"enabled": pgbouncer},
    }
    names = {
        r.inputs["metadata"]["name"]
        for r in run_stack("prod", monitoring={"mode": monitoring}, database=database).of_type(POLICY)
    }
    assert ("airflow-pgbouncer-metrics" in names) is expected
