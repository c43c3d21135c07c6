"""What the real cluster shows of the pods' hardening beyond Pod Security "restricted": every Airflow
container of the running pods, and of the task pods' template the scheduler uses, runs with a read-only
root filesystem and a writable /tmp that is an emptyDir. The check runs after the DAGs ran on both
executors, so the DAGs' success proves Airflow works that way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml

from tooling.cluster.timeline import CheckFailed

__all__ = ["check_read_only_roots", "read_only_root_problems"]

# The chart's `component` label of the pods whose containers run Airflow (git-sync sidecars excepted).
AIRFLOW_COMPONENTS = frozenset({"scheduler", "api-server", "triggerer", "dag-processor", "worker"})


def read_only_root_problems(where: str, spec: dict[str, Any]) -> list[str]:
    """One line per Airflow container of a pod spec whose root is writable or whose /tmp is no emptyDir."""
    volumes = {volume["name"]: volume for volume in spec.get("volumes") or []}
    problems = []
    for container in (spec.get("initContainers") or []) + spec["containers"]:
        if container["name"].startswith("git-sync"):
            continue
        name = f"{where} container {container['name']}"
        if (container.get("securityContext") or {}).get("readOnlyRootFilesystem") is not True:
            problems.append(f"{name}: root filesystem writable")
        tmp = next((m["name"] for m in container.get("volumeMounts") or [] if m["mountPath"] == "/tmp"), None)
        if "emptyDir" not in volumes.get(tmp or "", {}):
            problems.append(f"{name}: no emptyDir at /tmp")
    return problems


def check_read_only_roots(kubectl_json: Callable[..., Any], namespace: str) -> None:
    """The running Airflow pods and the live task pod template (``airflow-config``'s
    pod_template_file.yaml); raises CheckFailed naming each container that breaks the rule."""
    pods = [
        pod
        for pod in kubectl_json("get", "pods", "-n", namespace)["items"]
        if pod["metadata"].get("labels", {}).get("component") in AIRFLOW_COMPONENTS
        and pod["status"].get("phase") == "Running"
    ]
    if not pods:
        raise CheckFailed(f"no running Airflow pod in {namespace}")
    problems = [
        problem
        for pod in pods
        for problem in read_only_root_problems(f"pod {pod['metadata']['name']}", pod["spec"])
    ]
    config = kubectl_json("get", "configmap", "airflow-config", "-n", namespace)
    template = (config.get("data") or {}).get("pod_template_file.yaml")
    if template is not None:
        problems += read_only_root_problems("task pod template", yaml.safe_load(template)["spec"])
    if problems:
        raise CheckFailed("; ".join(problems))
