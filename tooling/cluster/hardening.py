"""What the real cluster shows of the pods' hardening beyond Pod Security "restricted".

- Read-only roots: every container of the running pods, and of the task pods' template the scheduler
  uses, runs with a read-only root filesystem; Airflow's own containers have a writable /tmp that is an
  emptyDir. Left out, as docs/checkov.md says: the bundled PostgreSQL and git-sync.
- Service-account tokens: only the pods that call the Kubernetes API carry a token.
- Images by digest: every container runs its image by digest, and the image the node runs is that one.

The checks run after the DAGs ran on both executors, so the DAGs' success proves Airflow works that way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml

from tooling.cluster.timeline import CheckFailed

__all__ = [
    "check_images_by_digest",
    "check_read_only_roots",
    "check_service_account_tokens",
    "image_digest_problems",
    "pod_containers",
    "read_only_root_problems",
    "service_account_token_problems",
]

# The chart's `component` label of the pods whose containers run Airflow (git-sync sidecars excepted).
AIRFLOW_COMPONENTS = frozenset({"scheduler", "api-server", "triggerer", "dag-processor", "worker"})
# Containers whose images write outside their volumes (docs/checkov.md, CKV_K8S_22).
WRITABLE_ROOTS = ("git-sync", "postgresql")
# Who calls the Kubernetes API, by what Airflow does: the scheduler launches and watches
# KubernetesExecutor pods, the API server reads a running task pod's log, the triggerer watches the pods
# of deferred KubernetesPodOperator tasks, and a Celery worker runs KubernetesPodOperator tasks. Nothing
# else (the DAG processor, StatsD, PgBouncer, Redis, PostgreSQL, the migration and user Jobs) does.
API_CALLERS = frozenset({"scheduler", "api-server", "triggerer", "worker"})
TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"


def pod_containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Every container of a pod spec: init, main and ephemeral."""
    keys = ("initContainers", "containers", "ephemeralContainers")
    return [container for key in keys for container in spec.get(key) or []]


def read_only_root_problems(where: str, spec: dict[str, Any], *, airflow: bool = True) -> list[str]:
    """One line per container of a pod spec whose root is writable, or, for Airflow's, whose /tmp is no
    emptyDir."""
    volumes = {volume["name"]: volume for volume in spec.get("volumes") or []}
    problems = []
    for container in pod_containers(spec):
        if container["name"].startswith(WRITABLE_ROOTS):
            continue
        name = f"{where} container {container['name']}"
        if (container.get("securityContext") or {}).get("readOnlyRootFilesystem") is not True:
            problems.append(f"{name}: root filesystem writable")
        if not airflow:
            continue
        tmp = next((m["name"] for m in container.get("volumeMounts") or [] if m["mountPath"] == "/tmp"), None)
        if "emptyDir" not in volumes.get(tmp or "", {}):
            problems.append(f"{name}: no emptyDir at /tmp")
    return problems


def _pods(kubectl_json: Callable[..., Any], namespace: str) -> list[dict[str, Any]]:
    """The namespace's pods, finished ones included; a namespace without a running Airflow pod is a
    failure, since none of the checks would then look at anything."""
    pods = kubectl_json("get", "pods", "-n", namespace)["items"]
    if not any(_component(p) in AIRFLOW_COMPONENTS and p["status"].get("phase") == "Running" for p in pods):
        raise CheckFailed(f"no running Airflow pod in {namespace}")
    return pods


def _component(pod: dict[str, Any]) -> str | None:
    return pod["metadata"].get("labels", {}).get("component")


def check_read_only_roots(kubectl_json: Callable[..., Any], namespace: str) -> None:
    """The running pods and the live task pod template (``airflow-config``'s pod_template_file.yaml);
    raises CheckFailed naming each container that breaks the rule."""
    problems = [
        problem
        for pod in _pods(kubectl_json, namespace)
        if pod["status"].get("phase") == "Running"
        for problem in read_only_root_problems(
            f"pod {pod['metadata']['name']}", pod["spec"], airflow=_component(pod) in AIRFLOW_COMPONENTS
        )
    ]
    config = kubectl_json("get", "configmap", "airflow-config", "-n", namespace)
    template = (config.get("data") or {}).get("pod_template_file.yaml")
    if template is not None:
        problems += read_only_root_problems("task pod template", yaml.safe_load(template)["spec"])
    if problems:
        raise CheckFailed("; ".join(problems))


def service_account_token_problems(pods: list[dict[str, Any]]) -> list[str]:
    """One line per pod that carries a token it does not need, or lacks one it needs."""
    problems = []
    for pod in pods:
        mounted = any(
            mount["mountPath"] == TOKEN_PATH
            for container in pod_containers(pod["spec"])
            for mount in container.get("volumeMounts") or []
        )
        component = _component(pod) or pod["metadata"].get("labels", {}).get("app.kubernetes.io/name")
        name = f"pod {pod['metadata']['name']} ({component})"
        if mounted and component not in API_CALLERS:
            problems.append(f"{name}: carries a service-account token but calls no Kubernetes API")
        elif not mounted and component in API_CALLERS:
            problems.append(f"{name}: calls the Kubernetes API but has no service-account token")
    return problems


def check_service_account_tokens(kubectl_json: Callable[..., Any], namespace: str) -> int:
    """Every pod of the namespace (Jobs' finished pods too); returns how many carry a token."""
    pods = _pods(kubectl_json, namespace)
    problems = service_account_token_problems(pods)
    if problems:
        raise CheckFailed("; ".join(problems))
    return sum(_component(pod) in API_CALLERS for pod in pods)


def image_digest_problems(pods: list[dict[str, Any]]) -> tuple[list[str], int]:
    """One line per container that names its image by tag, or runs other content than its digest names;
    and how many containers were looked at."""
    problems, seen = [], 0
    for pod in pods:
        spec, status = pod["spec"], pod.get("status", {})
        running = {
            c["name"]: c.get("imageID", "")
            for c in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or [])
        }
        for container in pod_containers(spec):
            seen += 1
            name = f"pod {pod['metadata']['name']} container {container['name']}"
            _, _, digest = container["image"].partition("@")
            if not digest:
                problems.append(f"{name}: {container['image']} by tag")
            elif running.get(container["name"]) and not running[container["name"]].endswith(f"@{digest}"):
                problems.append(f"{name}: runs {running[container['name']]}, not {digest}")
    return problems, seen


def check_images_by_digest(kubectl_json: Callable[..., Any], namespace: str) -> int:
    """Every pod of the namespace that still runs (a finished task pod the scheduler has yet to delete
    runs nothing); returns how many containers run by digest."""
    running = [
        p for p in _pods(kubectl_json, namespace) if p["status"].get("phase") not in ("Succeeded", "Failed")
    ]
    problems, seen = image_digest_problems(running)
    if problems:
        raise CheckFailed("; ".join(problems))
    return seen
