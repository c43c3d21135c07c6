"""The release's own settings: where the chart comes from (``airflow:chart``) and how tasks run on its
workers (``airflow:tasks``): time limits, concurrency, autoscaling, and whether they may exec into pods."""

from __future__ import annotations

import tarfile
from pathlib import Path

import yaml
from pydantic import Field, field_validator, model_validator

from components.model import ConfigModel, Placement

__all__ = [
    "CHART_NAME",
    "CHART_VERSION",
    "AutoscalingSettings",
    "ChartSettings",
    "TaskSettings",
    "chart_problem",
]

# Chart 1.22.0 deploys Airflow 3.2.2 (its defaultAirflowTag); the values are built for exactly it.
CHART_NAME = "airflow"
CHART_VERSION = "1.22.0"
AIRFLOW_VERSION = "3.2.2"  # chart 1.22.0's appVersion: the Airflow whose schema it migrates to


def chart_problem(tarball: Path) -> str | None:
    """Why ``tarball`` is not the packaged chart airflow 1.22.0, or None when it is."""
    try:
        with tarfile.open(tarball, "r:gz") as archive:
            member = archive.extractfile(f"{CHART_NAME}/Chart.yaml")
            chart = yaml.safe_load(member.read(65536)) if member is not None else None
    except (OSError, tarfile.TarError, KeyError, yaml.YAMLError) as err:
        return f"is not a readable chart tarball ({type(err).__name__})"
    if not isinstance(chart, dict) or (chart.get("name"), str(chart.get("version"))) != (
        CHART_NAME,
        CHART_VERSION,
    ):
        found = f"{chart.get('name')} {chart.get('version')}" if isinstance(chart, dict) else "no Chart.yaml"
        return f"holds {found}, not {CHART_NAME} {CHART_VERSION}"
    return None


class ChartSettings(ConfigModel):
    """Where Helm takes the chart from. By default its repository, https://airflow.apache.org;
    ``tarball`` is the packaged chart on the machine that runs ``pulumi up`` instead (``helm pull
    apache-airflow/airflow --version 1.22.0``), for machines that cannot reach the repository:
    air-gapped networks, CI. Either way it must be airflow 1.22.0, which is checked before any resource.
    A relative path is relative to the project folder, where Pulumi runs the program."""

    tarball: str | None = Field(None, min_length=1, max_length=4096)

    @field_validator("tarball")
    @classmethod
    def _tarball_is_the_pinned_chart(cls, tarball: str | None) -> str | None:
        if tarball is not None:
            problem = chart_problem(Path(tarball))
            if problem is not None:
                raise ValueError(f"{tarball!r} {problem}")
        return tarball


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
    # Where KubernetesExecutor task pods run; without it, where the stack-wide airflow:placement says.
    placement: Placement = Placement()

    @property
    def grace_period_seconds(self) -> int:
        """The longest task, plus half a minute for the worker to report and exit."""
        return self.max_task_minutes * 60 + 30
