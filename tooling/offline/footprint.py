"""What a release asks of the cluster: replicas and per-pod requests of each long-running workload.

Read from the Helm values, so the number reported is the one the chart will apply. Task pods of the
Kubernetes executor and the one-off hook Jobs are not counted: they come and go.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from components.quantity import cpu_cores, memory_bytes

__all__ = ["WorkloadFootprint", "total", "workloads"]


@dataclass(frozen=True)
class WorkloadFootprint:
    """What one workload asks of the cluster: replicas and per-pod requests, sidecars included."""

    name: str
    replicas: int
    cpu: Decimal  # per pod, all containers
    memory: int
    memory_limit: int


def workloads(values: dict[str, Any]) -> list[WorkloadFootprint]:
    """The long-running workloads the chart would run with ``values`` and what each requests, so the
    summary can total what a stack needs before anyone deploys it."""
    # With a standalone dag-processor, the chart adds git-sync sidecars to the pods that read DAG files
    # and not to the scheduler.
    sync = values.get("dags", {}).get("gitSync", {})
    git_sync = [sync["resources"]] if sync.get("enabled") else []
    found = [
        _airflow("scheduler", values["scheduler"]),
        _airflow("api-server", values["apiServer"]),
        _airflow("triggerer", values["triggerer"], git_sync),
        _airflow("dag-processor", values["dagProcessor"], git_sync),
        _pod("statsd", 1, [values["statsd"]["resources"]]),
    ]
    if "CeleryExecutor" in values["executor"]:
        found.append(_airflow("celery-worker", values["workers"]["celery"], git_sync))
    if values["redis"]["enabled"]:
        found.append(_pod("redis", 1, [values["redis"]["resources"]]))
    bouncer = values.get("pgbouncer", {})
    if bouncer.get("enabled"):
        sidecar = bouncer["metricsExporterSidecar"]["resources"]
        found.append(_pod("pgbouncer", bouncer["replicas"], [bouncer["resources"], sidecar]))
    if values["postgresql"]["enabled"]:
        found.append(_pod("postgresql", 1, [values["postgresql"]["primary"]["resources"]]))
    return found


def total(found: list[WorkloadFootprint]) -> tuple[Decimal, int, int]:
    """Cluster-wide CPU cores, memory bytes and memory-limit bytes."""
    return (
        sum((w.cpu * w.replicas for w in found), Decimal(0)),
        sum(w.memory * w.replicas for w in found),
        sum(w.memory_limit * w.replicas for w in found),
    )


def _airflow(
    name: str, component: dict[str, Any], sidecars: list[dict[str, Any]] | None = None
) -> WorkloadFootprint:
    containers = [component["resources"], *(sidecars or [])]
    if "logGroomerSidecar" in component:
        containers.append(component["logGroomerSidecar"]["resources"])
    return _pod(name, component["replicas"], containers)


def _pod(name: str, replicas: int, containers: list[dict[str, Any]]) -> WorkloadFootprint:
    return WorkloadFootprint(
        name=name,
        replicas=replicas,
        cpu=sum((cpu_cores(c["requests"]["cpu"]) for c in containers), Decimal(0)),
        memory=sum(memory_bytes(c["requests"]["memory"]) for c in containers),
        memory_limit=sum(memory_bytes(c["limits"]["memory"]) for c in containers),
    )
