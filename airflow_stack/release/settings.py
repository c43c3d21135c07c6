"""How tasks run on the release's workers (``airflow:tasks``): time limits, concurrency, autoscaling, and
whether they may exec into pods."""

from __future__ import annotations

from pydantic import Field, model_validator

from airflow_stack.model import ConfigModel

__all__ = ["AutoscalingSettings", "TaskSettings"]


class AutoscalingSettings(ConfigModel):
    """Celery workers scaled by KEDA (the chart's ScaledObject on queued and running tasks); needs KEDA
    installed in the cluster. Off, ``workers.replicas`` is fixed."""

    enabled: bool = False
    min_replicas: int = Field(1, ge=0, le=100)
    max_replicas: int = Field(10, ge=1, le=200)
    cooldown_seconds: int = Field(300, ge=30, le=3600)

    @model_validator(mode="after")
    def _range(self) -> AutoscalingSettings:
        if self.max_replicas < self.min_replicas:
            raise ValueError(f"maxReplicas {self.max_replicas} is below minReplicas {self.min_replicas}")
        return self


class TaskSettings(ConfigModel):
    """How long a task may run, and what a worker does with it when it is stopped.

    ``maxTaskMinutes`` caps tasks without their own ``execution_timeout`` ([core]
    default_task_execution_timeout) and sets the grace period of Celery workers and task pods: on a
    deploy or scale-down, Kubernetes sends SIGTERM, Celery stops taking tasks (warm shutdown) and the
    pod gets this long for the running ones to finish before it is killed.
    """

    max_task_minutes: int = Field(60, ge=1, le=24 * 60)
    celery_concurrency: int = Field(16, ge=1, le=256)
    autoscaling: AutoscalingSettings = AutoscalingSettings()
    # Grants `pods/exec` to the Celery workers and task pods. KubernetesPodOperator needs it for
    # do_xcom_push=True, @task.kubernetes too (it reads the result from the xcom sidecar through exec) and
    # for Istio sidecars. Off, a worker's stolen token cannot run commands in the namespace's other pods
    # (the scheduler's, with the database credentials); the DAG gate names the tasks that would need it.
    pod_exec: bool = False

    @property
    def grace_period_seconds(self) -> int:
        """The longest task, plus half a minute for the worker to report and exit."""
        return self.max_task_minutes * 60 + 30
