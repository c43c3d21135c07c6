"""Grafana dashboards, built with grafanalib: an overview of Airflow's health and a per-DAG view.

Both select the stack with a ``namespace`` variable and take Prometheus as a datasource variable, so
they work on any Grafana that has the Prometheus the ServiceMonitor feeds. Metric names are those
``statsd_mappings`` produces (a test holds every query to it).
"""

from __future__ import annotations

import json
from typing import Any

from grafanalib._gen import DashboardEncoder
from grafanalib.core import (
    Dashboard,
    GridPos,
    Stat,
    Target,
    Template,
    Templating,
    Time,
    TimeSeries,
)

__all__ = ["dashboards", "queries"]

DATASOURCE = "${datasource}"
NS = 'namespace="$namespace"'


def _variables(*extra: Template) -> Templating:
    return Templating(
        list=[
            Template(name="datasource", label="Prometheus", query="prometheus", type="datasource"),
            Template(
                name="namespace",
                label="Airflow namespace",
                dataSource=DATASOURCE,
                query="label_values(airflow_scheduler_heartbeat_total, namespace)",
                refresh=2,
            ),
            *extra,
        ]
    )


def _series(
    title: str, queries: list[tuple[str, str]], pos: tuple[int, int, int, int], unit: str = "short"
) -> TimeSeries:
    h, w, x, y = pos
    return TimeSeries(
        title=title,
        dataSource=DATASOURCE,
        targets=[
            Target(expr=expr, legendFormat=legend, refId=chr(65 + i))
            for i, (expr, legend) in enumerate(queries)
        ],
        gridPos=GridPos(h=h, w=w, x=x, y=y),
        unit=unit,
    )


def _stat(title: str, expr: str, pos: tuple[int, int, int, int], unit: str = "short") -> Stat:
    h, w, x, y = pos
    return Stat(
        title=title,
        dataSource=DATASOURCE,
        targets=[Target(expr=expr, refId="A")],
        gridPos=GridPos(h=h, w=w, x=x, y=y),
        format=unit,
        reduceCalc="lastNotNull",
    )


def _dashboard(title: str, uid: str, since: str, templating: Templating, panels: list[Any]) -> Dashboard:
    return Dashboard(
        title=title,
        uid=uid,
        tags=["airflow"],
        timezone="utc",
        refresh="1m",
        time=Time(since, "now"),
        templating=templating,
        panels=panels,
    ).auto_panel_ids()


def overview() -> Dashboard:
    """The whole stack at a glance (scheduler heartbeats, DAG import errors and parse time, running,
    queued and starving tasks...), on the series the statsd-exporter mappings name."""
    return _dashboard(
        "Airflow: overview",
        "airflow-overview",
        "now-6h",
        _variables(),
        [
            _stat(
                "Scheduler heartbeats / min",
                f"sum(rate(airflow_scheduler_heartbeat_total{{{NS}}}[2m])) * 60",
                (4, 6, 0, 0),
            ),
            _stat("DAG import errors", f"max(airflow_dag_processing_import_errors{{{NS}}})", (4, 6, 6, 0)),
            _stat(
                "DAG parse time", f"max(airflow_dag_processing_total_parse_time{{{NS}}})", (4, 6, 12, 0), "s"
            ),
            _stat("Starving tasks", f"max(airflow_scheduler_tasks_starving{{{NS}}})", (4, 6, 18, 0)),
            _series(
                "Tasks: running, queued, starving",
                [
                    (f"sum by (executor) (airflow_executor_running_tasks{{{NS}}})", "running {{executor}}"),
                    (f"sum by (executor) (airflow_executor_queued_tasks{{{NS}}})", "queued {{executor}}"),
                    (f"max(airflow_scheduler_tasks_starving{{{NS}}})", "starving"),
                ],
                (8, 12, 0, 4),
            ),
            _series(
                "Executor open slots",
                [(f"sum by (executor) (airflow_executor_open_slots{{{NS}}})", "{{executor}}")],
                (8, 12, 12, 4),
            ),
            _series(
                "Pool slots",
                [
                    (f"sum by (pool) (airflow_pool_open_slots{{{NS}}})", "open {{pool}}"),
                    (f"sum by (pool) (airflow_pool_running_slots{{{NS}}})", "running {{pool}}"),
                    (f"sum by (pool) (airflow_pool_queued_slots{{{NS}}})", "queued {{pool}}"),
                    (f"sum by (pool) (airflow_pool_starving_tasks{{{NS}}})", "starving {{pool}}"),
                ],
                (8, 12, 0, 12),
            ),
            _series(
                "DAG runs finished per hour",
                [
                    (
                        f"sum by (state) (increase(airflow_dagrun_duration_seconds_count{{{NS}}}[1h]))",
                        "{{state}}",
                    )
                ],
                (8, 12, 12, 12),
            ),
            _series(
                "DAG parse time",
                [
                    (f"max(airflow_dag_processing_total_parse_time{{{NS}}})", "all files"),
                    (
                        "topk(5, max by (file) ("
                        f"rate(airflow_dag_processing_last_duration_seconds_sum{{{NS}}}[10m])"
                        f" / rate(airflow_dag_processing_last_duration_seconds_count{{{NS}}}[10m])))",
                        "{{file}}",
                    ),
                ],
                (8, 12, 0, 20),
                "s",
            ),
            _series(
                "Task failures per hour",
                [
                    (
                        f'sum by (dag_id) (increase(airflow_ti_finish_total{{{NS},state="failed"}}[1h]))',
                        "{{dag_id}}",
                    )
                ],
                (8, 12, 12, 20),
            ),
        ],
    )


def per_dag() -> Dashboard:
    """The panels of one DAG, chosen by its ``dag_id``: for the on-call whom an alert named it to."""
    dag = 'dag_id="$dag_id"'
    return _dashboard(
        "Airflow: DAG",
        "airflow-dag",
        "now-24h",
        _variables(
            Template(
                name="dag_id",
                label="DAG",
                dataSource=DATASOURCE,
                query='label_values(airflow_ti_finish_total{namespace="$namespace"}, dag_id)',
                refresh=2,
            )
        ),
        [
            _series(
                "DAG run duration (p50, p95)",
                [
                    (
                        f"histogram_quantile({q}, sum by (le) "
                        f"(rate(airflow_dagrun_duration_seconds_bucket{{{NS},{dag}}}[1h])))",
                        f"p{int(q * 100)}",
                    )
                    for q in (0.5, 0.95)
                ],
                (8, 12, 0, 0),
                "s",
            ),
            _series(
                "DAG runs by outcome",
                [
                    (
                        f"sum by (state) (increase(airflow_dagrun_duration_seconds_count{{{NS},{dag}}}[1h]))",
                        "{{state}}",
                    )
                ],
                (8, 12, 12, 0),
            ),
            _series(
                "Task duration p95",
                [
                    (
                        "histogram_quantile(0.95, sum by (task_id, le) "
                        f"(rate(airflow_task_duration_seconds_bucket{{{NS},{dag}}}[1h])))",
                        "{{task_id}}",
                    )
                ],
                (8, 12, 0, 8),
                "s",
            ),
            _series(
                "Task outcomes per hour",
                [
                    (
                        f"sum by (task_id, state) (increase(airflow_ti_finish_total{{{NS},{dag}}}[1h]))",
                        "{{task_id}} {{state}}",
                    )
                ],
                (8, 12, 12, 8),
            ),
        ],
    )


def dashboards() -> dict[str, dict[str, Any]]:
    """Dashboard file name -> Grafana JSON model, as the Grafana sidecar loads them from ConfigMaps."""
    return {
        f"{board.uid}.json": json.loads(
            json.dumps(board.to_json_data(), cls=DashboardEncoder, sort_keys=True)
        )
        for board in (overview(), per_dag())
    }


def queries(model: dict[str, Any]) -> list[tuple[str, str]]:
    """(panel title, PromQL) of every panel target and query variable of a dashboard model."""
    found = [
        (panel["title"], target["expr"]) for panel in model["panels"] for target in panel.get("targets", [])
    ]
    found += [
        (f"variable {v['name']}", v["query"])
        for v in model["templating"]["list"]
        if v.get("type") == "query" and isinstance(v.get("query"), str)
    ]
    return found
