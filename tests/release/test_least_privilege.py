"""Service-account tokens only where a pod calls the Kubernetes API, judged on the real chart's output."""

from __future__ import annotations

from typing import Any

from ..conftest import Deployment

# Pods that talk to the API: the scheduler (KubernetesExecutor pods), Celery workers and the triggerer
# (KubernetesPodOperator and its triggers), the api-server (logs of running task pods). The Fernet
# rotation Job lists pods to wait for the new key generation.
NEEDS_TOKEN = {"scheduler", "worker", "triggerer", "api-server", "fernet-rotation"}


def _pod_specs(obj: dict[str, Any]) -> dict[str, Any] | None:
    if obj["kind"] in ("Deployment", "StatefulSet", "Job"):
        return obj["spec"]["template"]
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]
    return None


def _mounts_token(template: dict[str, Any], accounts: dict[str, dict[str, Any]]) -> bool:
    spec = template["spec"]
    if "automountServiceAccountToken" in spec:
        return bool(spec["automountServiceAccountToken"])
    account = accounts.get(spec.get("serviceAccountName", "default"), {})
    return account.get("automountServiceAccountToken", True) is not False


def test_only_pods_that_call_the_api_get_a_token(deployment: Deployment) -> None:
    accounts = {o["metadata"]["name"]: o for o in deployment.objects if o["kind"] == "ServiceAccount"}
    with_token = set()
    for obj in deployment.objects:
        template = _pod_specs(obj)
        if template is not None and _mounts_token(template, accounts):
            labels = template["metadata"].get("labels", {})
            with_token.add(
                labels.get("component")
                or labels.get("app.kubernetes.io/component")
                or obj["metadata"]["name"]
            )
    assert with_token <= NEEDS_TOKEN, sorted(with_token - NEEDS_TOKEN)
