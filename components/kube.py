"""What every Kubernetes object of the stack shares: the release's name, the labels the program puts
on its own objects, the Pod Security "restricted" contexts every pod runs with, and the charts it
releases by reference."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "AIRFLOW_CONTEXTS",
    "AIRFLOW_POD",
    "AIRFLOW_SCRATCH",
    "AIRFLOW_UID",
    "MANAGED_LABELS",
    "READ_ONLY_CONTAINER",
    "RELEASE_NAME",
    "RESTRICTED_CONTAINER",
    "ChartRef",
    "merge_values",
    "restricted_contexts",
    "restricted_pod",
]

RELEASE_NAME = "airflow"
# On every object the program creates, so `kubectl get -l app.kubernetes.io/managed-by=pulumi` finds them.
MANAGED_LABELS = {"app.kubernetes.io/name": "airflow", "app.kubernetes.io/managed-by": "pulumi"}

AIRFLOW_UID = 50000  # the official image's "airflow" user; its group is 0 (root group, not root user)

RESTRICTED_CONTAINER: dict[str, Any] = {
    "runAsNonRoot": True,
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def restricted_pod(uid: int, gid: int, fs_group: int) -> dict[str, Any]:
    """A pod ``securityContext`` that passes Pod Security "restricted" for an image's own user: non-root
    and the runtime's seccomp profile, set per component because the chart applies no global default to
    non-Airflow images."""
    return {
        "runAsUser": uid,
        "runAsGroup": gid,
        "fsGroup": fs_group,
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


AIRFLOW_POD = restricted_pod(AIRFLOW_UID, 0, 0)
# Airflow's own containers write only to their volumes (logs, DAGs) and to /tmp, an emptyDir of every
# Airflow pod (AIRFLOW_SCRATCH): whatever else a compromised task or DAG writes fails.
READ_ONLY_CONTAINER: dict[str, Any] = {**RESTRICTED_CONTAINER, "readOnlyRootFilesystem": True}
AIRFLOW_SCRATCH = {
    "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}}],
    "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
}


def restricted_contexts(pod: dict[str, Any]) -> dict[str, Any]:
    """A chart component's ``securityContexts``: ``pod`` for the pod, "restricted" for each container,
    each with a read-only root (StatsD's exporter, PgBouncer and Redis write only to their volumes)."""
    return {"pod": pod, "container": READ_ONLY_CONTAINER}


AIRFLOW_CONTEXTS = restricted_contexts(AIRFLOW_POD)


def merge_values(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    """``top`` laid over ``base`` as Helm merges values files: maps merge, everything else replaces."""
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_values(merged[key], value)
        else:
            merged[key] = value
    return merged


@dataclass(frozen=True)
class ChartRef:
    """A Helm chart by name, version and repository: the Airflow chart, and the monitoring stack's."""

    name: str
    version: str
    repository: str
