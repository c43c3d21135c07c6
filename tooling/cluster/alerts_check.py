"""Monitoring on what Airflow really emits (README "Day two"): the stack's ServiceMonitor scraped by a
Prometheus the operator runs, its rules loaded, its alerts firing for a failing DAG and a stopped
scheduler and resolving after, and every dashboard query answering on the live series.

The alerts' windows are shortened through ``airflow:monitoring.alerts``, as a user tunes them, so an alert
fires and resolves within minutes; the expressions, the scrape interval and the metric names stay the
program's. Nothing here feeds Prometheus a series: every sample is one Airflow sent to statsd-exporter.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from components.kube import RELEASE_NAME
from components.observability.alerts import STATSD_JOB
from components.observability.dashboards import queries
from components.observability.settings import MonitoringSettings, duration_seconds
from tooling.cluster.mid_run import terminating
from tooling.cluster.prometheus import PrometheusApi
from tooling.cluster.timeline import CheckFailed
from tooling.cluster.workspace import Workspace
from tooling.rehearsal.api import Api, run_dag

__all__ = [
    "ALERT_WINDOWS",
    "AlertWatch",
    "check_alerts",
    "check_dashboards",
    "check_scraped",
    "dashboard_queries",
    "names_carrying_ids",
    "resolve_variables",
]

# What the check sets before it starts (``pulumi config set --path``): short windows, same expressions.
ALERT_WINDOWS = {
    "airflow:monitoring.alerts.schedulerHeartbeatMissingFor": "30s",
    "airflow:monitoring.alerts.failedDagRunsWindow": "3m",
    "airflow:monitoring.alerts.taskFailuresWindow": "3m",
}
FAILURE_WINDOW = ALERT_WINDOWS["airflow:monitoring.alerts.failedDagRunsWindow"]
RULE_TYPE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
FAILING_DAG = "cluster_probe_fails"  # tooling/cluster/dags/cluster_probe.py
FAILING_TASK = "fails"
PER_DAG_DASHBOARD_DAG = "cluster_probe"  # the per-DAG dashboard is asked about the probe DAG
SCHEDULER = f"{RELEASE_NAME}-scheduler"
POLL_SECONDS = 5
_LABEL_VALUES = re.compile(r"label_values\((?P<match>.+),\s*(?P<label>[a-zA-Z_][a-zA-Z0-9_]*)\)")


@dataclass(frozen=True)
class AlertWatch:
    """The active alerts of one stack's namespace, as ``/api/v1/alerts`` lists them."""

    prometheus: PrometheusApi
    namespace: str

    def state(self, name: str, labels: dict[str, str]) -> str | None:
        """``pending``, ``firing``, or None where no such alert is active."""
        for alert in self.prometheus.alerts():
            found = alert["labels"]
            wanted = {"alertname": name} | labels
            # The stack's own alerts only: absent() and by-less rules carry the namespace as a label too.
            if (
                all(found.get(key) == value for key, value in wanted.items())
                and found.get("namespace", self.namespace) == self.namespace
            ):
                return alert["state"]
        return None

    def wait(self, name: str, labels: dict[str, str], want: str | None, timeout: float) -> float:
        """Seconds until the alert is ``want`` (``firing``, or None: resolved); a CheckFailed naming the
        rule's own health and last error otherwise."""
        started = time.monotonic()
        state = self.state(name, labels)
        while state != want:
            if time.monotonic() - started > timeout:
                rule = next((r for r in self.prometheus.rules() if r["name"] == name), {})
                raise CheckFailed(
                    f"{name} {labels or ''} did not {'fire' if want else 'resolve'} within {timeout:.0f} s: "
                    f"it is {state or 'inactive'}; rule health {rule.get('health', 'not loaded')}"
                    + (f", last error {rule['lastError']}" if rule.get("lastError") else "")
                )
            time.sleep(POLL_SECONDS)
            state = self.state(name, labels)
        return time.monotonic() - started


def _wait(what: str, ready: Callable[[], Any], timeout: float, explain: Callable[[], str]) -> Any:
    """Polls ``ready`` until it returns something true; a CheckFailed with ``explain()`` otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        found = ready()
        if found:
            return found
        if time.monotonic() > deadline:
            raise CheckFailed(f"{what} not within {timeout:.0f} s: {explain()}")
        time.sleep(POLL_SECONDS)


def _statsd_pods(kubectl_json: Callable[..., Any], namespace: str) -> set[str]:
    """The statsd-exporter pods that run and are not stopping."""
    pods = kubectl_json("get", "pods", "-n", namespace, "-l", "component=statsd")["items"]
    return {
        pod["metadata"]["name"]
        for pod in pods
        if pod.get("status", {}).get("phase") == "Running" and not terminating(pod)
    }


def _scrape_explained(prometheus: PrometheusApi, namespace: str, running: set[str]) -> str:
    targets = [
        t
        for t in prometheus.targets()
        if t["labels"].get("job") == STATSD_JOB
        and t["labels"].get("namespace") == namespace
        and t["labels"].get("pod") in running
    ]
    if not targets:
        return (
            f"Prometheus has no target of job {STATSD_JOB} for the running pods {sorted(running)} in "
            f"{namespace}: it did not select the stack's ServiceMonitor (its labels, or the operator)"
        )
    return "; ".join(f"{t['scrapeUrl']} {t['health']}: {t.get('lastError') or 'no error'}" for t in targets)


def wait_for_scrape_and_rules(
    prometheus: PrometheusApi, kubectl_json: Callable[..., Any], namespace: str, timeout: float = 300
) -> list[str]:
    """Until statsd-exporter is scraped (``up == 1``) and every rule of the stack's PrometheusRule is
    loaded with its ``for`` as the cluster holds it; the alert names."""
    ns = f'namespace="{namespace}"'

    def every_running_pod_scraped() -> bool:
        # By pod: right after a rollout the old pod's last `up` is still 1 (seen on the cluster: a scrape
        # the NetworkPolicy refused passed on the replaced pod's sample).
        running = _statsd_pods(kubectl_json, namespace)
        up = {s["metric"].get("pod") for s in prometheus.query(f'up{{job="{STATSD_JOB}",{ns}}} == 1')}
        return bool(running) and running <= up

    _wait(
        f"a scrape of every running statsd-exporter pod (up{{job={STATSD_JOB}}} == 1)",
        every_running_pod_scraped,
        timeout,
        lambda: _scrape_explained(prometheus, namespace, _statsd_pods(kubectl_json, namespace)),
    )
    rule_object = kubectl_json("get", "prometheusrule", RELEASE_NAME, "-n", namespace)
    wanted = {
        rule["alert"]: duration_seconds(rule.get("for", "0s"))
        for group in rule_object["spec"]["groups"]
        for rule in group["rules"]
    }

    def loaded() -> bool:
        return {r["name"]: r["duration"] for r in prometheus.rules() if r["name"] in wanted} == wanted

    def differs() -> str:
        have = {r["name"]: r["duration"] for r in prometheus.rules()}
        return f"the PrometheusRule says {wanted}, Prometheus has {have}"

    _wait("the stack's alert rules loaded by Prometheus", loaded, timeout, differs)
    return sorted(wanted)


def check_scraped(prometheus: PrometheusApi, kubectl_json: Callable[..., Any], namespace: str) -> str:
    """The stack's ServiceMonitor selected and scraped through its NetworkPolicies, its rules loaded;
    what it found, for the timeline."""
    rules = wait_for_scrape_and_rules(prometheus, kubectl_json, namespace)
    return f"a Prometheus run by the operator scrapes statsd-exporter and loaded {len(rules)} alert rules"


def check_alerts(
    workspace: Workspace,
    prometheus: PrometheusApi,
    api: Api,
    kubectl_json: Callable[..., Any],
    kubectl: Callable[..., str],
    namespace: str,
) -> str:
    """Shortens the windows, fails a DAG and stops the scheduler: each alert fires, then resolves; what
    it measured, for the timeline."""
    for key, value in ALERT_WINDOWS.items():
        workspace.set_value(key, value, path=True)
    changed = {kind for kind, _ in workspace.run("preview", "--json").changes()}
    if changed != {RULE_TYPE}:
        raise CheckFailed(f"shortening the alerts' windows should change only the PrometheusRule: {changed}")
    workspace.run("up", "--yes", "--skip-preview", check=True)
    names = wait_for_scrape_and_rules(prometheus, kubectl_json, namespace)
    watch = AlertWatch(prometheus, namespace)
    heartbeat = f'sum(rate(airflow_scheduler_heartbeat_total{{namespace="{namespace}"}}[2m])) > 0'
    if not prometheus.query(heartbeat):
        raise CheckFailed(
            f"the running scheduler's heartbeat does not reach Prometheus: {heartbeat} is empty"
        )
    early = [name for name in names if watch.state(name, {}) == "firing"]
    if early:
        raise CheckFailed(f"alerts fire before anything is broken: {early}")

    _, state = run_dag(api, FAILING_DAG, timeout=300, parse_timeout=300, every=3)
    if state != "failed":
        raise CheckFailed(f"{FAILING_DAG} ended {state}, not failed")
    failed_at = time.monotonic()
    dag = {"dag_id": FAILING_DAG}
    run_fired = watch.wait("AirflowDagRunFailed", dag, "firing", 300)
    task_fired = watch.wait("AirflowTaskFailures", dag | {"task_id": FAILING_TASK}, "firing", 300)

    scheduler = kubectl_json("get", "deployment", SCHEDULER, "-n", namespace)
    replicas = scheduler["spec"].get("replicas", 1)
    kubectl("scale", "deployment", SCHEDULER, "-n", namespace, "--replicas=0")
    try:
        # The heartbeat's 2-minute rate reads 0 once the window holds no new beat, then the `for`.
        stopped_fired = watch.wait("AirflowSchedulerHeartbeatMissing", {}, "firing", 480)
    finally:
        kubectl("scale", "deployment", SCHEDULER, "-n", namespace, f"--replicas={replicas}")
    restarted_resolved = watch.wait("AirflowSchedulerHeartbeatMissing", {}, None, 420)
    # Both failure alerts look back one window (FAILURE_WINDOW) from the failure.
    watch.wait("AirflowDagRunFailed", dag, None, 420)
    watch.wait("AirflowTaskFailures", dag | {"task_id": FAILING_TASK}, None, 420)
    resolved = time.monotonic() - failed_at
    return (
        f"a failed run fired AirflowDagRunFailed in {run_fired:.0f} s and AirflowTaskFailures "
        f"{task_fired:.0f} s after it, both resolved {resolved:.0f} s after the failure "
        f"(window {FAILURE_WINDOW}); "
        f"a stopped scheduler fired AirflowSchedulerHeartbeatMissing in {stopped_fired:.0f} s, "
        f"resolved {restarted_resolved:.0f} s after its restart"
    )


def dashboard_queries(config_maps: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(dashboard uid, panel or variable, PromQL) of every dashboard the ConfigMaps hold, as Grafana's
    sidecar loads them."""
    found = []
    for config_map in config_maps:
        for text in config_map.get("data", {}).values():
            model = json.loads(text)
            found += [(model["uid"], title, expr) for title, expr in queries(model)]
    return found


def resolve_variables(expr: str, values: dict[str, str]) -> str:
    """The query Grafana sends once ``$name`` variables are chosen (longest names first)."""
    for name in sorted(values, key=len, reverse=True):
        expr = expr.replace(f"${name}", values[name])
    return expr


def _a_number(series: dict[str, Any]) -> bool:
    """Whether a range query's series holds a value a panel draws (a quantile of no events is NaN)."""
    return any(value != "NaN" for _, value in series.get("values", []))


def check_dashboards(
    prometheus: PrometheusApi,
    kubectl_json: Callable[..., Any],
    namespace: str,
    monitoring: MonitoringSettings,
    run_probe: Callable[[], object],
    timeout: float = 150,
) -> str:
    """Every panel query and variable of the dashboards the stack deployed answers over the last half
    hour with at least one value that is a number, the variables set as a user picks them (the stack's
    namespace, the probe DAG); and no metric name statsd-exporter serves carries a pod name or a DAG id
    (an unmapped StatsD name with ids is one metric per pod or task, without end).

    The duration panels are rates of histograms, and the first run Prometheus sees of a DAG only makes
    its series appear (seen on the cluster: a probe DAG run once gave NaN quantiles): the probe DAG has
    run before (``dags-on-both-executors-logs-from-bucket``), ``run_probe`` runs it once more, and the
    queries get ``timeout`` seconds (a few scrapes) to answer."""
    selector = ",".join(f"{key}={value}" for key, value in monitoring.dashboard_labels.items())
    config_maps = kubectl_json("get", "configmaps", "-n", namespace, "-l", selector)["items"]
    found = dashboard_queries(config_maps)
    if not found:
        raise CheckFailed(f"no dashboard ConfigMap labelled {selector} in {namespace}")
    run_probe()
    chosen = {"namespace": namespace, "dag_id": PER_DAG_DASHBOARD_DAG, "datasource": "prometheus"}
    waiting = list(found)
    deadline = time.monotonic() + timeout
    while True:
        unanswered = [(query, _unanswered(prometheus, query, chosen)) for query in waiting]
        waiting = [query for query, why in unanswered if why]
        if not waiting:
            break
        if time.monotonic() > deadline:
            reasons = [why for _, why in unanswered if why]
            raise CheckFailed(
                f"{len(reasons)} of {len(found)} dashboard queries answer nothing: " + "; ".join(reasons)
            )
        time.sleep(POLL_SECONDS)
    # Served now: an instant query, not label values, whose time range Prometheus applies by whole
    # blocks (seen on the cluster: names an earlier commit's mappings made, hours gone, still listed).
    series = prometheus.query(f'count by (__name__) ({{job="{STATSD_JOB}",namespace="{namespace}"}})')
    names = sorted(s["metric"]["__name__"] for s in series)
    pods = [pod["metadata"]["name"] for pod in kubectl_json("get", "pods", "-n", namespace)["items"]]
    dag_ids = prometheus.label_values("dag_id", f'airflow_ti_finish_total{{namespace="{namespace}"}}')
    leaked = names_carrying_ids(names, [*pods, *dag_ids])
    if leaked:
        raise CheckFailed(f"metric names carry a pod name or a DAG id (one metric per pod or DAG): {leaked}")
    return (
        f"{len(found)} queries of {len({uid for uid, _, _ in found})} dashboards, each answered; "
        f"{len(names)} metric names, none carrying one of {len(pods)} pod names or {len(dag_ids)} DAG ids"
    )


def _unanswered(prometheus: PrometheusApi, query: tuple[str, str, str], chosen: dict[str, str]) -> str:
    """Why one dashboard query does not answer as Grafana would show it; empty when it does."""
    uid, title, expr = query
    resolved = resolve_variables(expr, chosen)
    variable = _LABEL_VALUES.fullmatch(resolved)
    if variable is not None:
        offered = prometheus.label_values(variable["label"], variable["match"])
        picked = chosen[variable["label"]]
        return "" if picked in offered else f"{uid}: {title} offers {offered}, not {picked}"
    if any(_a_number(series) for series in prometheus.query_range(resolved, seconds=1800)):
        return ""
    return f"{uid}: {title}: {resolved}"


def names_carrying_ids(names: list[str], ids: list[str]) -> list[str]:
    """The metric names an id became part of, as statsd-exporter spells an unmapped name (every
    character outside ``[a-zA-Z0-9_]`` turned into ``_``)."""
    spelled = {re.sub(r"[^a-zA-Z0-9_]", "_", value) for value in ids if value}
    return sorted(name for name in names if any(value in name for value in spelled))
