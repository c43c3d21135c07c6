"""The cluster test's own DAGs, copied into the deployed project's ``dags/`` only (never the clone's),
so nothing depends on the DAGs a user ships. ``cluster_probe``: one task on a Celery worker, one in a
pod of the KubernetesExecutor. ``cluster_probe_waits``: one of each that runs until the test releases
it, so a deploy rolls out while they run (``tooling/cluster/mid_run.py``). ``cluster_probe_fails``: one
Celery task that fails, so the failure alerts fire on what Airflow emits (``alerts_check.py``).
``cluster_probe_settings``: a task on each executor prints the connection, variable, airflow.cfg option
and environment variable the stack file sets (``tooling/cluster/stack_settings.py``).
Unscheduled, so unpausing starts no run of its own; no retries, so a task a deploy kills shows as failed
instead of retried."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

from airflow.sdk import Connection, Variable, dag, get_current_context, task

# The DAG-edit checks add a tag here and wait for the new version (tooling/cluster/probe_edits.py).
TAGS = ["cluster-test"]
# The variable the deploy-mid-run check sets to a run's id once the deploy has rolled out.
RELEASE_VARIABLE = "cluster_probe_release"
RELEASE_POLL_SECONDS = 3
RELEASE_LIMIT_SECONDS = 1200

DEFAULTS = {
    "schedule": None,
    "start_date": datetime(2026, 1, 1, tzinfo=UTC),
    "catchup": False,
    "max_active_runs": 1,
    "default_args": {"owner": "cluster-test", "retries": 0},
    "tags": TAGS,
}


@dag(dag_id="cluster_probe", **DEFAULTS)
def cluster_probe() -> None:
    @task(queue="default")
    def on_celery() -> int:
        print("cluster-probe: on a Celery worker")
        return 21

    @task(executor="KubernetesExecutor")
    def in_a_pod(number: int) -> int:
        print(f"cluster-probe: in a pod, {number} doubled is {number * 2}")
        return number * 2

    in_a_pod(on_celery())


def wait_for_release(
    run_id: str, *, poll: float = RELEASE_POLL_SECONDS, limit: float = RELEASE_LIMIT_SECONDS
) -> str:
    """Runs until ``RELEASE_VARIABLE`` holds ``run_id``, reading it through the API server as any task
    reads a Variable; fails after ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if Variable.get(RELEASE_VARIABLE, default=None) == run_id:
            print(f"cluster-probe: released after the deploy ({run_id})")
            return run_id
        time.sleep(poll)
    raise TimeoutError(f"{RELEASE_VARIABLE} was not set to {run_id} within {limit:.0f} s")


@dag(dag_id="cluster_probe_waits", **DEFAULTS)
def cluster_probe_waits() -> None:
    @task(queue="default")
    def waits_on_celery() -> str:
        return wait_for_release(get_current_context()["run_id"])

    @task(executor="KubernetesExecutor")
    def waits_in_a_pod() -> str:
        return wait_for_release(get_current_context()["run_id"])

    waits_on_celery()
    waits_in_a_pod()


# What the failing task raises: the alerts check reads it back from the task's log.
FAILURE_MESSAGE = "cluster-probe: fails on purpose, so the failure alerts have something to fire on"


@dag(dag_id="cluster_probe_fails", **DEFAULTS)
def cluster_probe_fails() -> None:
    @task(queue="default")
    def fails() -> None:
        raise RuntimeError(FAILURE_MESSAGE)

    fails()


def settings_seen() -> str:
    """What a task sees of the stack file's connection, variable, airflow.cfg option and environment."""
    from airflow.configuration import conf

    connection = Connection.get("cluster_probe_db")
    seen = (
        f"cluster-probe: connection {connection.conn_type} {connection.host}:{connection.port}; "
        f"variable {Variable.get('cluster_probe_greeting')!r}; "
        f"parallelism {conf.get('core', 'parallelism')}; env {os.environ.get('CLUSTER_PROBE_ENV')!r}"
    )
    print(seen)
    return seen


@dag(dag_id="cluster_probe_settings", **DEFAULTS)
def cluster_probe_settings() -> None:
    @task(queue="default", pool="cluster_probe_pool")  # airflow:pools of the stack file
    def reads_on_celery() -> str:
        return settings_seen()

    @task(executor="KubernetesExecutor")
    def reads_in_a_pod() -> str:
        return settings_seen()

    reads_on_celery()
    reads_in_a_pod()


cluster_probe()
cluster_probe_waits()
cluster_probe_fails()
cluster_probe_settings()
