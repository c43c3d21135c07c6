"""One DAG, two executors: light steps on Celery workers, an isolated step in its own pod.

On a stack with ``CeleryExecutor,KubernetesExecutor`` the first executor (Celery) is the default, so
``summarise`` goes to a Celery worker through the ``default`` queue, while ``crunch`` names the
Kubernetes executor and gets a pod of its own. On a stack with one executor, tasks that name the other
are refused when the DAG is parsed, so keep such DAGs where both run (the prod stack).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import dag, task


@dag(
    dag_id="mixed_executors",
    schedule="@hourly",
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "data-platform", "retries": 2, "execution_timeout": timedelta(minutes=30)},
    tags=["example", "celery", "kubernetes-executor"],
)
def mixed_executors() -> None:
    @task(queue="default")
    def collect() -> list[int]:
        return list(range(10))

    @task(executor="KubernetesExecutor")
    def crunch(numbers: list[int]) -> int:
        return sum(n * n for n in numbers)

    @task(queue="default")
    def summarise(total: int) -> None:
        print(f"sum of squares: {total}")

    summarise(crunch(collect()))


mixed_executors()
