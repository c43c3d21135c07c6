"""A short-lived pod on the backups' volume claim: what reads the dumps there (the cluster check) and
what restores one (``restore``). Restricted, as the namespace enforces, with no service-account token;
its image and the database's connection Secret are the migration Job's backup container's own."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from components.backup.values import BACKUP_CLAIM, BACKUP_MOUNT
from components.kube import AIRFLOW_UID, READ_ONLY_CONTAINER, RELEASE_NAME, restricted_pod

__all__ = ["CLAIM_POD_LABELS", "ClaimPod", "run_on_claim"]

Kubectl = Callable[..., str]
# The bundled PostgreSQL's and PgBouncer's NetworkPolicies admit the release's pods by tier and release.
CLAIM_POD_LABELS = {"tier": "airflow", "release": RELEASE_NAME, "component": "database-backup"}


class ClaimPod:
    """What a pod on the claim runs: ``script`` (bash) with ``args``; the database URL in
    ``$DATABASE_URL`` where ``connection_secret`` is given."""

    def __init__(
        self, image: str, script: str, args: list[str], *, connection_secret: str | None, read_only: bool
    ) -> None:
        self.image, self.script, self.args = image, script, args
        self.connection_secret, self.read_only = connection_secret, read_only

    def manifest(self, name: str, namespace: str) -> dict[str, Any]:
        env = (
            []
            if self.connection_secret is None
            else [
                {
                    "name": "DATABASE_URL",
                    "valueFrom": {"secretKeyRef": {"name": self.connection_secret, "key": "connection"}},
                }
            ]
        )
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": CLAIM_POD_LABELS},
            "spec": {
                "restartPolicy": "Never",
                "automountServiceAccountToken": False,
                "securityContext": restricted_pod(AIRFLOW_UID, 0, 0),
                "containers": [
                    {
                        "name": "run",
                        "image": self.image,
                        "command": ["bash", "-c", self.script, "claim", BACKUP_MOUNT, *self.args],
                        "env": env,
                        "securityContext": READ_ONLY_CONTAINER,
                        "resources": {
                            "requests": {"cpu": "10m", "memory": "64Mi"},
                            "limits": {"memory": "512Mi"},
                        },
                        "volumeMounts": [
                            {"name": "backups", "mountPath": BACKUP_MOUNT, "readOnly": self.read_only}
                        ],
                    }
                ],
                "volumes": [{"name": "backups", "persistentVolumeClaim": {"claimName": BACKUP_CLAIM}}],
            },
        }


def run_on_claim(
    kubectl: Kubectl, namespace: str, pod: ClaimPod, *, prefix: str, timeout: float = 1800
) -> tuple[bool, str]:
    """Runs ``pod`` to its end: (whether it succeeded, its log). The pod is deleted afterwards."""
    name = f"{prefix}-{time.time_ns()}"
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "pod.json"
        path.write_text(json.dumps(pod.manifest(name, namespace)))
        kubectl("apply", "-f", str(path))
    try:
        deadline = time.monotonic() + timeout
        while True:
            phase = json.loads(kubectl("get", "pod", "-n", namespace, name, "-o", "json"))["status"].get(
                "phase"
            )
            if phase in ("Succeeded", "Failed"):
                break
            if time.monotonic() > deadline:
                return False, f"the pod {name} did not finish in {timeout:.0f} s"
            time.sleep(2)
        return phase == "Succeeded", kubectl("logs", "-n", namespace, name)
    finally:
        kubectl("delete", "pod", "-n", namespace, name, "--wait=false", "--ignore-not-found")
