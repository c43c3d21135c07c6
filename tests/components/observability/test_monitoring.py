"""Monitoring under mocks: what each mode registers, its labels and order; Grafana's password stays secret."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pulumi
import pytest

from components.observability.dashboards import dashboards
from components.observability.monitoring import KUBE_PROMETHEUS_STACK
from tests.conftest import run_stack
from tests.helpers import generated_values
from tooling.offline.runtime import Recording, is_secret, plain

SERVICE_MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"
PROMETHEUS_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
CONFIGMAP = "kubernetes:core/v1:ConfigMap"


def test_off_creates_no_monitoring_resource() -> None:
    recording = run_stack("dev", monitoring={"mode": "off"})
    assert recording.of_type(SERVICE_MONITOR) == []
    assert recording.of_type(PROMETHEUS_RULE) == []
    assert recording.of_component(CONFIGMAP, "dashboard") == []
    assert [r.inputs["name"] for r in recording.of_type("kubernetes:helm.sh/v3:Release")] == ["airflow"]
    assert recording.stack_outputs["grafanaAdminPassword"] == (None, False)


def test_existing_labels_everything_for_the_clusters_operator_and_installs_nothing() -> None:
    recording = run_stack("prod")
    (monitor,) = recording.of_type(SERVICE_MONITOR)
    (rule,) = recording.of_type(PROMETHEUS_RULE)
    for resource in (monitor, rule):
        assert resource.inputs["metadata"]["labels"]["release"] == "kube-prometheus-stack"
        assert resource.inputs["metadata"]["namespace"] == "airflow"
    assert monitor.inputs["spec"] == {
        "selector": {"matchLabels": {"tier": "airflow", "component": "statsd", "release": "airflow"}},
        "endpoints": [{"port": "statsd-scrape", "interval": "30s", "path": "/metrics"}],
    }
    alerts = [r["alert"] for r in rule.inputs["spec"]["groups"][0]["rules"]]
    assert len(alerts) == 9
    assert "AirflowDatabaseCleanupFailing" in alerts  # the cleanup CronJob is on by default
    assert [r.inputs["name"] for r in recording.of_type("kubernetes:helm.sh/v3:Release")] == ["airflow"]
    assert not any("grafana" in r.name for r in recording.registrations)


def test_dashboards_are_configmaps_for_the_grafana_sidecar() -> None:
    recording = run_stack(
        "prod", monitoring={"mode": "existing", "dashboardLabels": {"grafana_dashboard": "yes"}}
    )
    boards = recording.of_component(CONFIGMAP, "dashboard")
    assert sorted(b.inputs["metadata"]["name"] for b in boards) == [
        "airflow-dag-dashboard",
        "airflow-overview-dashboard",
    ]
    for board in boards:
        assert board.inputs["metadata"]["labels"]["grafana_dashboard"] == "yes"
        ((file_name, text),) = board.inputs["data"].items()
        model = json.loads(text)
        assert file_name == f"{model['uid']}.json"
        assert model["panels"]


def test_install_releases_the_pinned_stack_with_a_generated_grafana_password() -> None:
    recording = run_stack("dev")
    release = recording.release("monitoring")
    inputs = plain(release.inputs)
    assert (inputs["chart"], inputs["version"], inputs["repositoryOpts"]["repo"]) == (
        KUBE_PROMETHEUS_STACK.name,
        KUBE_PROMETHEUS_STACK.version,
        "https://prometheus-community.github.io/helm-charts",
    )
    assert inputs["namespace"] == "monitoring"
    grafana = inputs["values"]["grafana"]
    assert grafana["admin"] == {
        "existingSecret": "grafana-admin",
        "userKey": "admin-user",
        "passwordKey": "admin-password",
    }
    assert grafana["sidecar"]["dashboards"]["searchNamespace"] == "ALL"
    secret = recording.named("airflow-grafana-admin")
    assert secret.inputs["metadata"]["namespace"] == "monitoring"
    assert is_secret(secret.inputs["stringData"])
    assert recording.named("airflow-grafana-admin").urn in release.dependencies
    password, is_secret_output = recording.stack_outputs["grafanaAdminPassword"]
    assert is_secret_output is True
    assert password not in json.dumps(release.inputs)


def test_install_creates_the_operator_objects_after_the_stack_and_selects_them_all() -> None:
    recording = run_stack("dev")
    release_urn = recording.release("monitoring").urn
    for resource in (
        *recording.of_type(SERVICE_MONITOR),
        *recording.of_type(PROMETHEUS_RULE),
        *recording.of_component(CONFIGMAP, "dashboard"),
    ):
        assert release_urn in resource.dependencies, resource.name
    spec = plain(recording.release("monitoring").inputs)["values"]["prometheus"]["prometheusSpec"]
    assert spec["serviceMonitorSelectorNilUsesHelmValues"] is False
    assert spec["ruleSelectorNilUsesHelmValues"] is False
    assert "release" not in recording.of_type(SERVICE_MONITOR)[0].inputs["metadata"]["labels"]


def test_no_generated_value_reaches_a_release() -> None:
    recording = run_stack("dev")
    releases = json.dumps([r.inputs for r in recording.of_type("kubernetes:helm.sh/v3:Release")])
    for value in generated_values(recording):
        assert value not in releases


def test_monitoring_namespace_is_not_restricted_but_baseline() -> None:
    labels = run_stack("dev").named("airflow-monitoring-namespace").inputs["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "baseline"


def test_dashboards_are_grafanalib_models_with_the_variables_on_call_needs() -> None:
    models = dashboards()
    assert set(models) == {"airflow-overview.json", "airflow-dag.json"}
    per_dag = models["airflow-dag.json"]
    assert [v["name"] for v in per_dag["templating"]["list"]] == ["datasource", "namespace", "dag_id"]
    titles = {p["title"] for p in models["airflow-overview.json"]["panels"]}
    assert {
        "Scheduler heartbeats / min",
        "Tasks: running, queued, starving",
        "Pool slots",
        "DAG parse time",
    } <= titles
    assert json.dumps(models, sort_keys=True) == json.dumps(dashboards(), sort_keys=True)  # deterministic


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"monitoring": {"mode": "prometheus"}},
            "airflow:monitoring.mode in Pulumi.dev.yaml: must be one of 'install'",
        ),
        (
            {"monitoring": {"mode": "existing", "dashboardLabels": {"a": "1", "b": "2"}}},
            "dashboardLabels must hold exactly one label",
        ),
        (
            {"monitoring": {"mode": "install", "alerts": {"tasksStarvingFor": "15 minutes"}}},
            "airflow:monitoring.alerts.tasksStarvingFor in Pulumi.dev.yaml: must be a Prometheus duration",
        ),
        (
            {"monitoring": {"mode": "install", "alerts": {"poolOpenSlotsRatio": 10}}},
            "airflow:monitoring.alerts.poolOpenSlotsRatio in Pulumi.dev.yaml: Input should be less than 1",
        ),
        ({"monitoring": {"statsdPrefix": "Air.flow"}}, "airflow:monitoring.statsdPrefix in Pulumi.dev.yaml"),
    ],
)
def test_bad_monitoring_config_stops_before_any_resource(overrides: dict[str, Any], message: str) -> None:
    recording = Recording()
    with pytest.raises(pulumi.RunError) as caught:
        run_stack("dev", recording=recording, **overrides)
    assert message in str(caught.value)
    assert recording.registrations == []


@pytest.mark.parametrize("mode", ["install", "existing", "off"])
def test_airflow_values_stay_valid_in_every_mode(chart_schema: dict[str, Any], mode: str) -> None:
    values = plain(run_stack("dev", monitoring={"mode": mode}).release().inputs)["values"]
    jsonschema.validate(values, chart_schema)
    assert values["statsd"]["overrideMappings"]


def test_without_the_cleanup_cronjob_its_alert_goes_too() -> None:
    recording = run_stack(
        "prod",
        database={
            "cleanup": {"enabled": False},
            "mode": "external",
            "existingSecretName": "airflow-metadata-connection",
        },
    )
    (rule,) = recording.of_type(PROMETHEUS_RULE)
    alerts = [r["alert"] for r in rule.inputs["spec"]["groups"][0]["rules"]]
    assert "AirflowDatabaseCleanupFailing" not in alerts
    assert recording.release().inputs["values"]["databaseCleanup"]["enabled"] is False
