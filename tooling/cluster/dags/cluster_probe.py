"""The cluster test's own DAG, copied into the deployed project's ``dags/`` only (never the clone's):
one task on a Celery worker, one in a pod of the KubernetesExecutor, and nothing that depends on the
DAGs a user ships. Unscheduled, so unpausing it starts no run of its own; no retries, so a failure shows
at once instead of after a retry delay."""

from __future__ import annotations

from datetime import UTC, datetime

from airflow.sdk import dag, task

TAGS = ["cluster-test"]  # the DAG-edit check adds one here and waits for the new version


@dag(
    dag_id="cluster_probe",
    schedule=None,
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 0},
    tags=TAGS,
)
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


cluster_probe()
