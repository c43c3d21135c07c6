"""Per-task resources for the Kubernetes executor: a light, a heavy and a GPU task.

Each task runs in its own pod from the chart's pod template; ``executor_config["pod_override"]`` merges
into it. The container must be named ``base`` (the template's Airflow container) for the resources to
land on it. The pod template already carries the restricted security context the namespace enforces.
On a stack that runs both executors, ``executor="KubernetesExecutor"`` sends these tasks to pods while
the rest of the DAGs stay on Celery.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import dag, task
from kubernetes.client import models as k8s


def pod_override(
    requests: dict[str, str],
    limits: dict[str, str],
    node_selector: dict[str, str] | None = None,
    tolerations: list[k8s.V1Toleration] | None = None,
) -> dict[str, k8s.V1Pod]:
    return {
        "pod_override": k8s.V1Pod(
            spec=k8s.V1PodSpec(
                containers=[
                    k8s.V1Container(
                        name="base", resources=k8s.V1ResourceRequirements(requests=requests, limits=limits)
                    )
                ],
                node_selector=node_selector,
                tolerations=tolerations,
            )
        )
    }


LIGHT = pod_override({"cpu": "100m", "memory": "256Mi"}, {"memory": "512Mi"})
HEAVY = pod_override({"cpu": "2", "memory": "8Gi"}, {"memory": "8Gi"})
# A GPU node pool is usually tainted so only pods that ask for a GPU land there.
GPU = pod_override(
    {"cpu": "1", "memory": "4Gi", "nvidia.com/gpu": "1"},
    {"memory": "8Gi", "nvidia.com/gpu": "1"},
    node_selector={"nvidia.com/gpu.present": "true"},
    tolerations=[k8s.V1Toleration(key="nvidia.com/gpu", operator="Exists", effect="NoSchedule")],
)


@dag(
    dag_id="kubernetes_task_resources",
    schedule=None,
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    default_args={"owner": "ml-platform", "retries": 1, "execution_timeout": timedelta(hours=2)},
    tags=["example", "kubernetes-executor"],
)
def kubernetes_task_resources() -> None:
    @task(executor="KubernetesExecutor", executor_config=LIGHT)
    def light() -> int:
        return sum(range(1_000))

    @task(executor="KubernetesExecutor", executor_config=HEAVY)
    def heavy(seed: int) -> int:
        return sum(i * i for i in range(seed * 1_000))

    @task(executor="KubernetesExecutor", executor_config=GPU)
    def train_on_gpu(features: int) -> str:
        return f"trained on {features} features"

    train_on_gpu(heavy(light()))


kubernetes_task_resources()
