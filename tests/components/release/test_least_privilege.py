"""Each pod holds only the Kubernetes rights its own code uses, judged on the real chart's output: the
chart's objects and the program's, as Kubernetes would evaluate them (token, service account, Roles)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from components.rbac import account_rights
from tests.conftest import Deployment

# Pods that talk to the API: the scheduler (KubernetesExecutor pods), Celery workers and the triggerer
# (KubernetesPodOperator and its triggers), the api-server (logs of running task pods). The Fernet
# rotation Job lists pods to wait for the new key generation.
NEEDS_TOKEN = {"scheduler", "worker", "triggerer", "api-server", "fernet-rotation"}

# What apache-airflow-providers-cncf-kubernetes 10.25 calls, read from its source:
# the KubernetesExecutor (kubernetes_executor*.py): create_namespaced_pod, list_namespaced_pod (and its
# watch), read_namespaced_pod, patch_namespaced_pod, delete_namespaced_pod.
EXECUTOR_CALLS = {("pods", verb) for verb in ("create", "list", "watch", "get", "patch", "delete")}
# KubernetesPodOperator (operators/pod.py, utils/pod_manager.py): the same, read_namespaced_pod_log and
# list_namespaced_event (and its watch).
POD_OPERATOR_CALLS = EXECUTOR_CALLS | {("pods/log", "get"), ("events", "list"), ("events", "watch")}
# KubernetesPodTrigger (triggers/pod.py through AsyncKubernetesHook): get_pod, delete_pod, read_logs,
# get_pod_events and watch_pod_events.
TRIGGER_CALLS = {
    ("pods", "get"),
    ("pods", "delete"),
    ("pods/log", "get"),
    ("events", "list"),
    ("events", "watch"),
}
# connect_get_namespaced_pod_exec: do_xcom_push, @task.kubernetes, Istio sidecars.
EXEC = {("pods/exec", "create"), ("pods/exec", "get")}
# The chart's pod-log-reader Role (api-server) and the Fernet rotation Job's own Role.
LOG_READER = {("pods", "list"), ("pods", "get"), ("pods", "watch"), ("pods/log", "get"), ("pods/log", "list")}
POD_LISTER = {("pods", "get"), ("pods", "list")}


def _pods(deployment: Deployment) -> Iterator[tuple[str, dict[str, Any]]]:
    """(component, pod template) of every pod the stack runs, the KubernetesExecutor's task pods too."""
    for obj in deployment.objects:
        if obj["kind"] in ("Deployment", "StatefulSet", "Job"):
            template = obj["spec"]["template"]
        elif obj["kind"] == "CronJob":
            template = obj["spec"]["jobTemplate"]["spec"]["template"]
        else:
            continue
        labels = template["metadata"].get("labels", {})
        yield (
            labels.get("component") or labels.get("app.kubernetes.io/component") or obj["metadata"]["name"],
            template,
        )
    if deployment.task_pod is not None:
        yield "task-pod", deployment.task_pod


def _mounts_token(template: dict[str, Any], accounts: dict[str, dict[str, Any]]) -> bool:
    spec = template["spec"]
    if "automountServiceAccountToken" in spec:
        return bool(spec["automountServiceAccountToken"])
    account = accounts.get(spec.get("serviceAccountName", "default"), {})
    return account.get("automountServiceAccountToken", True) is not False


def _rights_by_component(deployment: Deployment) -> dict[str, set[tuple[str, str]]]:
    accounts = {o["metadata"]["name"]: o for o in deployment.objects if o["kind"] == "ServiceAccount"}
    rights: dict[str, set[tuple[str, str]]] = {}
    for component, template in _pods(deployment):
        held = (
            account_rights(
                deployment.objects,
                deployment.namespace,
                template["spec"].get("serviceAccountName", "default"),
            )
            if _mounts_token(template, accounts)
            else set()
        )
        rights[component] = rights.get(component, set()) | held
    return rights


def test_only_pods_that_call_the_api_get_a_token(deployment: Deployment) -> None:
    accounts = {o["metadata"]["name"]: o for o in deployment.objects if o["kind"] == "ServiceAccount"}
    with_token = {
        component
        for component, template in _pods(deployment)
        if component != "task-pod" and _mounts_token(template, accounts)
    }
    assert with_token <= NEEDS_TOKEN, sorted(with_token - NEEDS_TOKEN)


def test_each_pod_may_make_the_calls_its_code_makes(deployment: Deployment) -> None:
    rights = _rights_by_component(deployment)
    settings = deployment.settings
    needed = {"triggerer": TRIGGER_CALLS, "api-server": LOG_READER}
    if settings.uses_kubernetes_executor:
        needed |= {"scheduler": EXECUTOR_CALLS, "task-pod": POD_OPERATOR_CALLS}
    if settings.uses_celery:
        needed["worker"] = POD_OPERATOR_CALLS
    for component, calls in needed.items():
        if settings.tasks.pod_exec and component in ("worker", "task-pod"):
            calls = calls | EXEC
        assert calls <= rights[component], (component, sorted(calls - rights[component]))


def test_no_pod_holds_a_right_its_code_does_not_use(deployment: Deployment) -> None:
    """``pods/exec`` above all: without ``airflow:tasks.podExec`` no pod of the stack may exec into
    another, and the scheduler and triggerer never may."""
    settings = deployment.settings
    allowed = {
        "scheduler": EXECUTOR_CALLS if settings.uses_kubernetes_executor else set(),
        "worker": POD_OPERATOR_CALLS | (EXEC if settings.tasks.pod_exec else set()),
        "task-pod": POD_OPERATOR_CALLS | (EXEC if settings.tasks.pod_exec else set()),
        "triggerer": TRIGGER_CALLS,
        "api-server": LOG_READER,
        "fernet-rotation": POD_LISTER,
    }
    for component, held in _rights_by_component(deployment).items():
        extra = held - allowed.get(component, set())
        assert not extra, (component, sorted(extra))
