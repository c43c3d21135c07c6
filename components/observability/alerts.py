"""Alert rules for one Airflow stack, as the ``groups`` of a PrometheusRule (the Prometheus rules-file
format, so promtool checks and unit-tests the very same rules).

Every expression is scoped to the stack's namespace, so two Airflow stacks in one cluster alert
separately. Metric names are those ``statsd_mappings`` produces (a test holds them to it).

Two Prometheus subtleties are handled on purpose:
- A counter that appears for the first time (the first failure of a DAG) has no earlier sample, so
  ``increase()`` reads 0 for it; the rules add ``unless ... offset`` to catch a brand-new series.
- statsd-exporter keeps the last value of a counter when its sender dies, so a dead scheduler shows as
  a heartbeat rate of 0, not as a missing series; ``absent()`` covers a scheduler that never started.
"""

from __future__ import annotations

from typing import Any

from components.database.settings import CLEANUP_EVERY_SECONDS
from components.kube import RELEASE_NAME
from components.observability.settings import AlertSettings

__all__ = ["STATSD_JOB", "alert_rules"]

STATSD_JOB = "airflow-statsd"  # the chart's Service <release>-statsd; the ServiceMonitor's job label


def _rule(name: str, expr: str, for_: str, severity: str, summary: str, runbook: str) -> dict[str, Any]:
    return {
        "alert": name,
        "expr": expr,
        "for": for_,
        "labels": {"severity": severity, "team": "airflow"},
        "annotations": {"summary": summary, "description": summary, "runbook": runbook},
    }


def _new_or_increased(metric: str, selector: str, by: str, window: str) -> str:
    """Events in ``window``: the increase of a counter, or the whole count of a series that is new."""
    series = f"{metric}{{{selector}}}"
    return (
        f"(sum by ({by}) (increase({series}[{window}])) > 0)"
        f" or (sum by ({by}) ({series} unless {series} offset {window}) > 0)"
    )


def alert_rules(alerts: AlertSettings, namespace: str, database_cleanup: bool = True) -> list[dict[str, Any]]:
    """The rules; ``database_cleanup`` adds the one that watches the chart's ``airflow db clean`` CronJob."""
    ns = f'namespace="{namespace}"'
    parse_limit = f"{alerts.parse_time_seconds:g}"
    rules = [
        _rule(
            "AirflowSchedulerHeartbeatMissing",
            f"(sum by (namespace) (rate(airflow_scheduler_heartbeat_total{{{ns}}}[2m])) == 0)"
            f" or absent(airflow_scheduler_heartbeat_total{{{ns}}})",
            alerts.scheduler_heartbeat_missing_for,
            "critical",
            "No Airflow scheduler has sent a heartbeat: nothing is being scheduled.",
            f"kubectl -n {namespace} get pods -l component=scheduler; read the scheduler logs (database "
            "connection, OOMKilled, CrashLoopBackOff). Running tasks finish; no new ones start.",
        ),
        _rule(
            "AirflowTasksStarving",
            f"max by (namespace) (airflow_scheduler_tasks_starving{{{ns}}}) > 0",
            alerts.tasks_starving_for,
            "warning",
            "Tasks are ready but cannot be scheduled: their pool has no open slot.",
            "Look at Admin > Pools in the UI and the pool slot panels: raise the pool's slots, or find the "
            "tasks holding them (long-running or stuck in running/queued).",
        ),
        _rule(
            "AirflowDagParsingSlow",
            f"max by (namespace) (airflow_dag_processing_total_parse_time{{{ns}}}) > {parse_limit}",
            alerts.parse_time_for,
            "warning",
            f"Parsing all DAG files takes over {parse_limit} s: DAG changes reach the scheduler late.",
            "Find the slow files in the per-file parse time panel; move module-level imports and work into "
            "tasks (the DAG gate prints each file's parse time: python -m tooling.gate dags).",
        ),
        _rule(
            "AirflowDagImportErrors",
            f"max by (namespace) (airflow_dag_processing_import_errors{{{ns}}}) > 0",
            alerts.import_errors_for,
            "warning",
            "Some DAG files fail to import; their DAGs are not updated or are missing.",
            "Browse > DAG Import Errors in the UI names the file and the traceback; fix and redeploy.",
        ),
        _rule(
            "AirflowDagRunFailed",
            _new_or_increased(
                "airflow_dagrun_duration_seconds_count",
                f'{ns},state="failed"',
                "namespace, dag_id",
                alerts.failed_dag_runs_window,
            ),
            "0m",
            "warning",
            f"DAG {{{{ $labels.dag_id }}}} has failed runs in the last {alerts.failed_dag_runs_window}.",
            "Open the DAG's failed run in the UI, read the failed task's log, then clear the task to retry.",
        ),
        _rule(
            "AirflowPoolLowOpenSlots",
            f"sum by (namespace, pool) (airflow_pool_open_slots{{{ns}}})"
            f" / sum by (namespace, pool) (airflow_pool_open_slots{{{ns}}}"
            f" + airflow_pool_running_slots{{{ns}}} + airflow_pool_queued_slots{{{ns}}})"
            f" < {alerts.pool_open_slots_ratio:g}",
            alerts.pool_open_slots_for,
            "warning",
            f"Pool {{{{ $labels.pool }}}} has under {alerts.pool_open_slots_ratio:.0%} of its slots open.",
            "Tasks will soon queue for this pool: raise its slots (Admin > Pools) or spread work over time.",
        ),
        _rule(
            "AirflowTaskFailures",
            f"sum by (namespace, dag_id, task_id) ("
            f'increase(airflow_ti_finish_total{{{ns},state="failed"}}[{alerts.task_failures_window}]))'
            f" > {alerts.task_failures_threshold}"
            f' or (sum by (namespace, dag_id, task_id) (airflow_ti_finish_total{{{ns},state="failed"}}'
            f' unless airflow_ti_finish_total{{{ns},state="failed"}} offset {alerts.task_failures_window})'
            f" > {alerts.task_failures_threshold})",
            "0m",
            "warning",
            f"Task {{{{ $labels.dag_id }}}}.{{{{ $labels.task_id }}}} failed more than "
            f"{alerts.task_failures_threshold} time(s) in {alerts.task_failures_window}.",
            "Read the task's log in the UI. Failures after retries mean the run failed too.",
        ),
        _rule(
            "AirflowStatsdExporterDown",
            f'(up{{job="{STATSD_JOB}",{ns}}} == 0) or absent(up{{job="{STATSD_JOB}",{ns}}})',
            alerts.statsd_down_for,
            "warning",
            "Prometheus cannot scrape Airflow's statsd-exporter: every Airflow alert above is blind.",
            f"kubectl -n {namespace} get pods -l component=statsd; check the ServiceMonitor is selected by "
            "your Prometheus (its labels) and the NetworkPolicy allows the scrape on port 9102.",
        ),
    ]
    if database_cleanup:
        rules.append(_cleanup_rule(ns, namespace))
    return [{"name": "airflow", "rules": rules}]


def _cleanup_rule(ns: str, namespace: str) -> dict[str, Any]:
    """From kube-state-metrics (kube-prometheus-stack ships it; an ``existing`` Prometheus needs it too,
    or this rule never fires): a failed cleanup Job, or no success for two runs' time."""
    cronjob = f"{RELEASE_NAME}-database-cleanup"
    return _rule(
        "AirflowDatabaseCleanupFailing",
        f'(max by (namespace) (kube_job_status_failed{{{ns},job_name=~"{cronjob}-.*"}}) > 0)'
        f" or (time() - max by (namespace) (kube_cronjob_status_last_successful_time{{{ns},"
        f'cronjob="{cronjob}"}}) > {2 * CLEANUP_EVERY_SECONDS})',
        "15m",
        "warning",
        "The metadata database cleanup (airflow db clean) failed or has not succeeded for two weeks.",
        f"kubectl -n {namespace} logs job/<the failed {cronjob} job>; a database that is never cleaned "
        "grows until upgrades and queries slow down. Run it by hand with 'kubectl create job --from="
        f"cronjob/{cronjob} {cronjob}-manual'.",
    )
