"""statsd-exporter mappings for the metric names Airflow 3.2.2 emits, with dag, task, pool and
executor parts turned into labels.

They replace the chart's own mappings (``statsd.overrideMappings``) rather than extend them: the chart's
set was written for Airflow 2 (``pool.used_slots``, ``dag_processing.last_runtime``, no ``ti.finish``),
hard-codes the ``airflow.`` prefix, and matches ``dag.*.*.duration`` by glob, which misses every task in
a TaskGroup (its task_id has a dot). With an override, the set below is everything that runs, so the
tests can prove each dashboard and alert query has a mapping behind it.

Names are those of Airflow's metrics registry (``airflow/_shared/observability/metrics/
metrics_template.yaml``). With plain StatsD, Airflow sends the "legacy" names that carry ids in the
name (``ti.finish.<dag_id>.<task_id>.<state>``) and, for some, the same name without them
(``ti.finish``); the latter is a sum over every dag and pool and is dropped where the labelled one
exists, so no series means two things.

Mappings with ids use regular expressions (anchored, Go RE2): a dag_id has no dot in practice, a
task_id does inside TaskGroups, so the task_id takes the rest. Go expands ``$1x`` as a group named
``1x``; ``${1}`` is used throughout.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["DURATION_BUCKETS", "HISTOGRAM_SUFFIXES", "mapped_metric_names", "statsd_mappings"]

# Seconds (the exporter turns StatsD milliseconds into seconds): 1 s to 12 h.
DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 43200]
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")

# (statsd name after the prefix, metric name) for names without ids: exact globs.
_PLAIN: list[tuple[str, str]] = [
    ("scheduler_heartbeat", "airflow_scheduler_heartbeat_total"),
    ("dag_processor_heartbeat", "airflow_dag_processor_heartbeat_total"),
    ("triggerer_heartbeat", "airflow_triggerer_heartbeat_total"),
    ("ti_failures", "airflow_ti_failures_total"),
    ("ti_successes", "airflow_ti_successes_total"),
    ("scheduler.tasks.starving", "airflow_scheduler_tasks_starving"),
    ("scheduler.tasks.executable", "airflow_scheduler_tasks_executable"),
    ("scheduler.dagruns.running", "airflow_scheduler_dagruns_running"),
    ("dag_processing.total_parse_time", "airflow_dag_processing_total_parse_time"),
    ("dag_processing.import_errors", "airflow_dag_processing_import_errors"),
    ("dagbag_size", "airflow_dagbag_size"),
    ("task_instances_without_heartbeats_killed", "airflow_task_instances_without_heartbeats_killed_total"),
]

# The edge provider's per-worker metrics (edge_worker.<name>.<worker>): gauges, and one counter.
_EDGE_WORKER = [
    "connected",
    "maintenance",
    "jobs_active",
    "concurrency",
    "free_concurrency",
    "num_queues",
    "heartbeat_count",
]

# Base names Airflow also sends without the ids that the labelled mappings below carry. Without tags a
# gauge's plain name holds whichever task or pod wrote last, a counter's the sum the labelled series give.
_UNLABELLED_DUPLICATES = [
    "ti.finish",
    "ti.start",
    "task.duration",
    "task.queued_duration",
    "task.scheduled_duration",
    "dagrun.duration.success",
    "dagrun.duration.failed",
    "dag_processing.last_duration",
    "pool.open_slots",
    "pool.queued_slots",
    "pool.running_slots",
    "pool.deferred_slots",
    "pool.scheduled_slots",
    "pool.starving_tasks",
    "operator_failures",
    "operator_successes",
    "dagrun.dependency-check",
    "dagrun.schedule_delay",
    "dagrun.first_task_scheduling_delay",
    "local_task_job.task_exit",
    "task_removed_from_dag",
    "task_restored_to_dag",
    "task_instance_created",
    "triggers.running",
    "triggerer.capacity_left",
    "ti.scheduled",
    "ti.queued",
    "ti.running",
    "ti.deferred",
    "ol.emit.attempts",
    "edge_worker.ti.start",
    "edge_worker.ti.finish",
    *(f"edge_worker.{gauge}" for gauge in _EDGE_WORKER),
]

# Names that carry ids, as (regex after the prefix, metric name, one label per group, is a timer).
_DAG, _TASK = r"([^.]+)", r"(.+)"
_WITH_IDS: list[tuple[str, str, tuple[str, ...], bool]] = [
    (
        rf"ti\.finish\.{_DAG}\.{_TASK}\.([^.]+)",
        "airflow_ti_finish_total",
        ("dag_id", "task_id", "state"),
        False,
    ),
    (rf"ti\.start\.{_DAG}\.{_TASK}", "airflow_ti_start_total", ("dag_id", "task_id"), False),
    (rf"dag\.{_DAG}\.{_TASK}\.duration", "airflow_task_duration_seconds", ("dag_id", "task_id"), True),
    (
        rf"dag\.{_DAG}\.{_TASK}\.queued_duration",
        "airflow_task_queued_duration_seconds",
        ("dag_id", "task_id"),
        True,
    ),
    (
        rf"dag\.{_DAG}\.{_TASK}\.scheduled_duration",
        "airflow_task_scheduled_duration_seconds",
        ("dag_id", "task_id"),
        True,
    ),
    (r"dagrun\.dependency-check\.(.+)", "airflow_dagrun_dependency_check_seconds", ("dag_id",), True),
    (r"dagrun\.schedule_delay\.(.+)", "airflow_dagrun_schedule_delay_seconds", ("dag_id",), True),
    (
        r"dagrun\.duration\.(success|failed)\.(.+)",
        "airflow_dagrun_duration_seconds",
        ("state", "dag_id"),
        True,
    ),
    (
        r"dag_processing\.last_duration\.([^.]+)\.(.+)",
        "airflow_dag_processing_last_duration_seconds",
        ("bundle", "file"),
        True,
    ),
    (
        r"dag_processing\.last_run\.seconds_ago\.(.+)",
        "airflow_dag_processing_last_run_seconds_ago",
        ("file",),
        False,
    ),
    (r"operator_failures_(.+)", "airflow_operator_failures_total", ("operator",), False),
    (r"operator_successes_(.+)", "airflow_operator_successes_total", ("operator",), False),
    # Found on the real cluster: with no mapping, each of these made one metric name per task or per pod
    # (airflow_ti_running_default_<dag>_<task>, airflow_triggerer_capacity_left_<pod>). The job id of
    # task_exit is left out: one series per job would grow without end.
    *(
        (
            rf"ti\.{state}\.([^.]+)\.{_DAG}\.{_TASK}",
            f"airflow_ti_{state}",
            ("queue", "dag_id", "task_id"),
            False,
        )
        for state in ("scheduled", "queued", "running", "deferred")
    ),
    (r"triggers\.running\.(.+)", "airflow_triggers_running", ("hostname",), False),
    (r"triggerer\.capacity_left\.(.+)", "airflow_triggerer_capacity_left", ("hostname",), False),
    (
        rf"local_task_job\.task_exit\.[^.]+\.{_DAG}\.{_TASK}\.([^.]+)",
        "airflow_local_task_job_task_exit_total",
        ("dag_id", "task_id", "return_code"),
        False,
    ),
    (r"task_removed_from_dag\.(.+)", "airflow_task_removed_from_dag_total", ("dag_id",), False),
    (r"task_restored_to_dag\.(.+)", "airflow_task_restored_to_dag_total", ("dag_id",), False),
    (r"task_instance_created_(.+)", "airflow_task_instance_created_total", ("operator",), False),
    (
        rf"dagrun\.{_DAG}\.first_task_scheduling_delay",
        "airflow_dagrun_first_task_scheduling_delay_seconds",
        ("dag_id",),
        True,
    ),
    (
        r"ol\.emit\.attempts\.([^.]+)\.([^.]+)",
        "airflow_openlineage_emit_attempts_seconds",
        ("event_type", "transport"),
        True,
    ),
    (
        rf"edge_worker\.ti\.start\.([^.]+)\.{_DAG}\.{_TASK}",
        "airflow_edge_worker_ti_start_total",
        ("queue", "dag_id", "task_id"),
        False,
    ),
    (
        rf"edge_worker\.ti\.finish\.([^.]+)\.([^.]+)\.{_DAG}\.{_TASK}",
        "airflow_edge_worker_ti_finish_total",
        ("queue", "state", "dag_id", "task_id"),
        False,
    ),
    *(
        (
            rf"edge_worker\.{name}\.(.+)",
            f"airflow_edge_worker_{name}" + ("_total" if name == "heartbeat_count" else ""),
            ("worker",),
            False,
        )
        for name in _EDGE_WORKER
    ),
]

_POOL_GAUGES = [
    "open_slots",
    "queued_slots",
    "running_slots",
    "deferred_slots",
    "scheduled_slots",
    "starving_tasks",
]
_EXECUTOR_GAUGES = ["open_slots", "queued_tasks", "running_tasks"]


def statsd_mappings(prefix: str = "airflow") -> list[dict[str, Any]]:
    """The ``mappings`` list of statsd-exporter's config for Airflow metrics sent with ``prefix``."""
    p = re.escape(prefix)
    mappings: list[dict[str, Any]] = [{"match": f"{prefix}.{stat}", "name": name} for stat, name in _PLAIN]
    mappings += [
        {"match": f"{prefix}.{stat}", "name": "dropped", "action": "drop"} for stat in _UNLABELLED_DUPLICATES
    ]
    mappings += [
        # One executor: executor.open_slots; several: executor.open_slots.<ExecutorClass>.
        {
            "match": f"{prefix}.executor.{gauge}",
            "name": f"airflow_executor_{gauge}",
            "labels": {"executor": "all"},
        }
        for gauge in _EXECUTOR_GAUGES
    ]
    mappings += [
        {
            "match": f"{prefix}.executor.{gauge}.*",
            "name": f"airflow_executor_{gauge}",
            "labels": {"executor": "$1"},
        }
        for gauge in _EXECUTOR_GAUGES
    ]
    mappings += [
        {"match": f"{prefix}.pool.{gauge}.*", "name": f"airflow_pool_{gauge}", "labels": {"pool": "$1"}}
        for gauge in _POOL_GAUGES
    ]
    for pattern, name, labels, observer in _WITH_IDS:
        mapping: dict[str, Any] = {
            "match": f"^{p}\\.{pattern}$",
            "match_type": "regex",
            "name": name,
            "labels": {label: f"${{{i}}}" for i, label in enumerate(labels, start=1)},
        }
        if observer:
            mapping |= {
                "match_metric_type": "observer",
                "observer_type": "histogram",
                "histogram_options": {"buckets": DURATION_BUCKETS},
            }
        mappings.append(mapping)
    return mappings


def mapped_metric_names(prefix: str = "airflow") -> set[str]:
    """Every Prometheus metric name the mappings can produce, histogram series included."""
    names = set()
    for mapping in statsd_mappings(prefix):
        if mapping.get("action") == "drop":
            continue
        if mapping.get("observer_type") == "histogram":
            names |= {mapping["name"] + suffix for suffix in HISTOGRAM_SUFFIXES}
        else:
            names.add(mapping["name"])
    return names
