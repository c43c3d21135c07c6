"""The alerts and dashboards checks' own logic, against a Prometheus API played by a fake: which alert
counts as the stack's, how a wait that never ends explains itself, and the queries Grafana would send."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.observability.dashboards import dashboards
from components.observability.settings import MonitoringSettings
from tooling.cluster import alerts_check
from tooling.cluster.alerts_check import (
    AlertWatch,
    check_dashboards,
    dashboard_queries,
    names_carrying_ids,
    resolve_variables,
    wait_for_scrape_and_rules,
)
from tooling.cluster.timeline import CheckFailed


class FakePrometheus:
    """Answers as ``/api/v1`` does, from what the test put in it."""

    def __init__(self) -> None:
        self.active: list[dict[str, Any]] = []
        self.loaded: list[dict[str, Any]] = []
        self.scraped: list[dict[str, Any]] = []
        self.up: list[dict[str, Any]] = []
        self.series: dict[str, list[dict[str, Any]]] = {}
        self.labels: dict[str, list[str]] = {}
        self.served: list[str] = []  # the metric names statsd-exporter serves now

    def alerts(self) -> list[dict[str, Any]]:
        return self.active

    def rules(self) -> list[dict[str, Any]]:
        return self.loaded

    def targets(self) -> list[dict[str, Any]]:
        return self.scraped

    def query(self, expr: str) -> list[dict[str, Any]]:
        if expr.startswith("count by (__name__)"):
            return [{"metric": {"__name__": name}, "value": [0, "1"]} for name in self.served]
        return self.up if expr.startswith("up{") else []

    def query_range(self, expr: str, seconds: float, step: float = 30) -> list[dict[str, Any]]:
        return self.series.get(expr, [])

    def label_values(self, label: str, match: str) -> list[str]:
        return self.labels.get(label, [])


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(alerts_check, "POLL_SECONDS", 0)
    monkeypatch.setattr(alerts_check.time, "sleep", lambda seconds: None)


def _alert(name: str, state: str, **labels: str) -> dict[str, Any]:
    return {"labels": {"alertname": name, **labels}, "state": state}


def test_an_alert_of_another_stacks_namespace_is_not_this_stacks() -> None:
    prometheus = FakePrometheus()
    prometheus.active = [_alert("AirflowSchedulerHeartbeatMissing", "firing", namespace="airflow-dev")]
    watch = AlertWatch(prometheus, "airflow-local")  # type: ignore[arg-type]
    assert watch.state("AirflowSchedulerHeartbeatMissing", {}) is None
    prometheus.active.append(_alert("AirflowSchedulerHeartbeatMissing", "pending", namespace="airflow-local"))
    assert watch.state("AirflowSchedulerHeartbeatMissing", {}) == "pending"


def test_an_alert_is_matched_by_its_labels() -> None:
    prometheus = FakePrometheus()
    prometheus.active = [_alert("AirflowDagRunFailed", "firing", namespace="ns", dag_id="other")]
    watch = AlertWatch(prometheus, "ns")  # type: ignore[arg-type]
    assert watch.state("AirflowDagRunFailed", {"dag_id": "cluster_probe_fails"}) is None
    assert watch.state("AirflowDagRunFailed", {"dag_id": "other"}) == "firing"


def test_an_alert_that_never_fires_names_its_rules_health() -> None:
    prometheus = FakePrometheus()
    prometheus.loaded = [
        {"name": "AirflowDagRunFailed", "health": "err", "lastError": "bad_data", "duration": 0}
    ]
    watch = AlertWatch(prometheus, "ns")  # type: ignore[arg-type]
    with pytest.raises(
        CheckFailed, match=r"did not fire within 0 s: it is inactive; rule health err.*bad_data"
    ):
        watch.wait("AirflowDagRunFailed", {"dag_id": "d"}, "firing", 0)


def test_an_alert_still_firing_does_not_count_as_resolved() -> None:
    prometheus = FakePrometheus()
    prometheus.active = [_alert("AirflowSchedulerHeartbeatMissing", "firing", namespace="ns")]
    watch = AlertWatch(prometheus, "ns")  # type: ignore[arg-type]
    with pytest.raises(CheckFailed, match=r"did not resolve .* it is firing"):
        watch.wait("AirflowSchedulerHeartbeatMissing", {}, None, 0)
    prometheus.active = []
    assert watch.wait("AirflowSchedulerHeartbeatMissing", {}, None, 0) >= 0


def _rule_object(**durations: str) -> dict[str, Any]:
    return {
        "spec": {
            "groups": [{"name": "airflow", "rules": [{"alert": a, "for": d} for a, d in durations.items()]}]
        }
    }


STATSD_POD = "airflow-statsd-6f8d-k2p"


def _cluster(rules: dict[str, Any], statsd_pods: tuple[str, ...] = (STATSD_POD,)):
    """``kubectl get ... -o json``: the PrometheusRule, and the running statsd-exporter pods."""

    def get(*args: str) -> dict[str, Any]:
        if args[1] == "pods":
            return {"items": [{"metadata": {"name": n}, "status": {"phase": "Running"}} for n in statsd_pods]}
        return rules

    return get


def _up(pod: str) -> list[dict[str, Any]]:
    return [{"metric": {"pod": pod}, "value": [0, "1"]}]


def test_a_servicemonitor_prometheus_did_not_select_is_named() -> None:
    prometheus = FakePrometheus()
    with pytest.raises(
        CheckFailed,
        match=r"no target of job airflow-statsd for the running pods \['airflow-statsd-6f8d-k2p'\] in ns",
    ):
        wait_for_scrape_and_rules(prometheus, _cluster(_rule_object()), "ns", timeout=0)  # type: ignore[arg-type]


def test_a_scrape_the_network_refuses_names_the_targets_error() -> None:
    prometheus = FakePrometheus()
    prometheus.scraped = [
        {
            "labels": {"job": "airflow-statsd", "namespace": "ns", "pod": STATSD_POD},
            "scrapeUrl": "http://10.0.0.5:9102/metrics",
            "health": "down",
            "lastError": "context deadline exceeded",
        }
    ]
    with pytest.raises(CheckFailed, match=r"9102/metrics down: context deadline exceeded"):
        wait_for_scrape_and_rules(prometheus, _cluster(_rule_object()), "ns", timeout=0)  # type: ignore[arg-type]


def test_rules_count_as_loaded_only_with_the_for_the_cluster_holds() -> None:
    prometheus = FakePrometheus()
    prometheus.up = _up(STATSD_POD)
    prometheus.loaded = [{"name": "AirflowSchedulerHeartbeatMissing", "duration": 180}]
    rules = _rule_object(AirflowSchedulerHeartbeatMissing="30s")
    with pytest.raises(CheckFailed, match=r"Prometheus has .*180"):
        wait_for_scrape_and_rules(prometheus, _cluster(rules), "ns", timeout=0)  # type: ignore[arg-type]
    prometheus.loaded = [{"name": "AirflowSchedulerHeartbeatMissing", "duration": 30}]
    assert wait_for_scrape_and_rules(prometheus, _cluster(rules), "ns", timeout=0) == [  # type: ignore[arg-type]
        "AirflowSchedulerHeartbeatMissing"
    ]


def test_the_replaced_pods_last_scrape_does_not_count() -> None:
    """Right after a rollout, the old statsd pod's `up` is still 1 while the new one may be refused."""
    prometheus = FakePrometheus()
    prometheus.up = _up("airflow-statsd-old-pod")
    prometheus.scraped = [
        {
            "labels": {"job": "airflow-statsd", "namespace": "ns", "pod": STATSD_POD},
            "scrapeUrl": "http://10.0.0.9:9102/metrics",
            "health": "down",
            "lastError": "context deadline exceeded",
        }
    ]
    with pytest.raises(
        CheckFailed, match=r"every running statsd-exporter pod .*: http://10.0.0.9:9102/\S* down"
    ):
        wait_for_scrape_and_rules(prometheus, _cluster(_rule_object()), "ns", timeout=0)  # type: ignore[arg-type]


def _config_maps() -> list[dict[str, Any]]:
    return [{"data": {name: json.dumps(model)}} for name, model in dashboards().items()]


def test_every_dashboard_query_leaves_no_variable_once_chosen() -> None:
    found = dashboard_queries(_config_maps())
    assert {uid for uid, _, _ in found} == {"airflow-overview", "airflow-dag"}
    for _, title, expr in found:
        resolved = resolve_variables(expr, {"namespace": "airflow-local", "dag_id": "cluster_probe"})
        assert "$" not in resolved, title
        assert (
            'namespace="airflow-local"' in resolved
            or "label_values(airflow_scheduler_heartbeat_total," in resolved
        )


def test_longer_variable_names_are_replaced_first() -> None:
    assert resolve_variables("$dag_id $dag", {"dag": "a", "dag_id": "b"}) == "b a"


def _kubectl(
    config_maps: list[dict[str, Any]],
    pods: tuple[str, ...] = ("airflow-scheduler-5d9c7-x2x", "airflow-statsd-6f8d-k2p"),
):
    """``kubectl get ... -o json`` of the namespace: the dashboards' ConfigMaps, and its pods."""

    def get(*args: str) -> dict[str, Any]:
        if args[1] == "configmaps":
            return {"items": config_maps}
        return {
            "items": [
                {
                    "metadata": {"name": name, "labels": {"component": name.split("-")[1]}},
                    "status": {"phase": "Running", "startTime": "2026-12-06T00:30:00Z"},
                }
                for name in pods
            ]
        }

    return get


def _no_run() -> None:
    """The probe DAG's run, which these fakes need not see."""


def _answering(expr: str) -> list[dict[str, Any]]:
    return [{"metric": {}, "values": [[0, "1"]]}]


def test_dashboards_answer_when_every_query_has_a_number(monkeypatch: pytest.MonkeyPatch) -> None:
    prometheus = FakePrometheus()
    prometheus.labels = {"namespace": ["ns"], "dag_id": ["cluster_probe"]}
    monkeypatch.setattr(prometheus, "query_range", lambda expr, seconds, step=30: _answering(expr))
    maps = _config_maps()
    result = check_dashboards(prometheus, _kubectl(maps), "ns", _monitoring(), _no_run, timeout=0)  # type: ignore[arg-type]
    assert result.startswith(f"{len(dashboard_queries(maps))} queries of 2 dashboards")


def test_a_panel_of_nan_or_nothing_and_a_variable_without_the_stack_are_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    prometheus = FakePrometheus()
    prometheus.labels = {"namespace": ["another"], "dag_id": ["cluster_probe"]}

    def answers(expr: str, seconds: float, step: float = 30) -> list[dict[str, Any]]:
        if "histogram_quantile(0.95, sum by (task_id" in expr:
            return [{"metric": {}, "values": [[0, "NaN"], [30, "NaN"]]}]
        if "airflow_pool_starving_tasks" in expr:
            return []
        return _answering(expr)

    monkeypatch.setattr(prometheus, "query_range", answers)
    maps = _config_maps()
    with pytest.raises(CheckFailed) as failed:
        check_dashboards(prometheus, _kubectl(maps), "ns", _monitoring(), _no_run, timeout=0)  # type: ignore[arg-type]
    message = str(failed.value)
    assert "Task duration p95" in message
    assert "Pool slots" in message
    assert "variable namespace offers ['another'], not ns" in message
    assert "DAG runs by outcome" not in message


def test_no_dashboard_configmap_is_a_failure() -> None:
    with pytest.raises(CheckFailed, match="no dashboard ConfigMap labelled grafana_dashboard=1"):
        check_dashboards(FakePrometheus(), lambda *a: {"items": []}, "ns", _monitoring(), _no_run)  # type: ignore[arg-type]


def _monitoring() -> MonitoringSettings:
    return MonitoringSettings(mode="existing")


def test_a_metric_name_made_of_a_pod_name_or_a_dag_id_is_found() -> None:
    names = [
        "airflow_triggerer_capacity_left",
        "airflow_triggerer_capacity_left_airflow_triggerer_6b47dbc87_js4qj",
        "airflow_ti_running_default_cluster_probe_waits_waits_in_a_pod",
        "airflow_scheduler_heartbeat_total",
    ]
    ids = ["airflow-triggerer-6b47dbc87-js4qj", "cluster_probe_waits", "airflow-scheduler-5d9c7-x2x"]
    assert names_carrying_ids(names, ids) == [
        "airflow_ti_running_default_cluster_probe_waits_waits_in_a_pod",
        "airflow_triggerer_capacity_left_airflow_triggerer_6b47dbc87_js4qj",
    ]


def test_a_query_that_answers_after_the_probes_run_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A duration quantile answers only once a second run of the DAG is scraped."""
    prometheus = FakePrometheus()
    prometheus.labels = {"namespace": ["ns"], "dag_id": ["cluster_probe"]}
    runs: list[str] = []

    def answers(expr: str, seconds: float, step: float = 30) -> list[dict[str, Any]]:
        if "histogram_quantile" in expr and not runs:
            return [{"metric": {}, "values": [[0, "NaN"]]}]
        return _answering(expr)

    monkeypatch.setattr(prometheus, "query_range", answers)
    maps = _config_maps()
    done = check_dashboards(
        prometheus,
        _kubectl(maps),
        "ns",
        _monitoring(),
        lambda: runs.append("run"),
        timeout=0,  # type: ignore[arg-type]
    )
    assert runs == ["run"]
    assert "each answered" in done


def test_the_windows_the_check_sets_are_keys_of_the_alert_settings() -> None:
    """Each key the alerts check sets is one the program reads (a misspelt one would be refused at
    the preview, after the cluster started), and both failure windows are the same."""
    from components.observability.settings import AlertSettings
    from tooling.cluster.alerts_check import ALERT_WINDOWS, FAILURE_WINDOW

    aliases = {field.alias for field in AlertSettings.model_fields.values()}
    for key, value in ALERT_WINDOWS.items():
        assert key.startswith("airflow:monitoring.alerts.")
        assert key.removeprefix("airflow:monitoring.alerts.") in aliases
        AlertSettings.model_validate({key.rsplit(".", 1)[-1]: value})
    assert set(ALERT_WINDOWS.values()) - {"30s"} == {FAILURE_WINDOW}
