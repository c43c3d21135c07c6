"""Restoring a dump of the metadata database from the backups' claim (``restore``): the way back from
a migration, before the rollback to the update that ran on the older schema.

Airflow's long-running components are stopped first (their replicas recorded), so nothing writes
while the dump is restored; ``pg_restore --clean --single-transaction`` then replaces the database's
objects in one transaction (a failed restore leaves the database as it was), and the components are
started again with their replicas, whatever happened. Refused in one line: a stack that takes no
backups, a dump the claim does not hold, task pods still running, pods that do not stop in time.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from components.backup.values import BACKUP_CONTAINER, LIBPQ_URL, WAIT_FOR_DATABASE
from components.kube import RELEASE_NAME
from tooling.history.claim import ClaimPod, run_on_claim
from tooling.history.sources import Refused

__all__ = ["LIST_SCRIPT", "RESTORE_SCRIPT", "backup_container", "list_dumps", "restore_dump"]

Kubectl = Callable[..., str]

LIST_SCRIPT = r"""set -eu
ls -1 "$1" | grep -E '\.dump$' | sort || true
"""
RESTORE_SCRIPT = (
    r"""set -euo pipefail
folder="$1" dump="$2"
"""
    + LIBPQ_URL
    + "\n"
    + WAIT_FOR_DATABASE
    + r"""
pg_restore --clean --if-exists --no-owner --no-privileges --single-transaction --exit-on-error \
  --dbname="$url" "$folder/$dump"
echo "restore: $dump restored"
"""
)
_COMPONENTS = "component in (scheduler,api-server,dag-processor,triggerer,worker)"


def backup_container(values: dict[str, Any]) -> tuple[str, str]:
    """The image and connection Secret of the migration Job's backup container in ``values`` (the
    deployed chart values): the restore uses what took the dumps."""
    inits = (values.get("migrateDatabaseJob") or {}).get("extraInitContainers") or []
    found = next((c for c in inits if c.get("name") == BACKUP_CONTAINER), None)
    if found is None:
        raise Refused("the stack takes no backups (airflow:backup.enabled): there is no dump to restore")
    secret = next(e["valueFrom"]["secretKeyRef"]["name"] for e in found["env"] if e["name"] == "DATABASE_URL")
    return found["image"], secret


def list_dumps(kubectl: Kubectl, namespace: str, image: str) -> list[str]:
    """The dumps on the claim, oldest first."""
    pod = ClaimPod(image, LIST_SCRIPT, [], connection_secret=None, read_only=True)
    ok, log = run_on_claim(kubectl, namespace, pod, prefix="list-backups", timeout=600)
    if not ok:
        raise Refused(f"the backups' claim cannot be read: {log.strip()[-300:]}")
    return log.split()


def _json(kubectl: Kubectl, *args: str) -> dict[str, Any]:
    return json.loads(kubectl(*args, "-o", "json"))


def _stop_airflow(kubectl: Kubectl, namespace: str, timeout: float) -> dict[str, int]:
    """Scales Airflow's components to none and waits until their pods are gone; ``kind/name`` ->
    the replicas each had."""
    selector = f"tier=airflow,release={RELEASE_NAME},{_COMPONENTS}"
    running = [
        pod["metadata"]["name"]
        for pod in _json(kubectl, "get", "pods", "-n", namespace, "-l", "kubernetes_executor=True")["items"]
        if pod["status"].get("phase") not in ("Succeeded", "Failed")
    ]
    if running:
        raise Refused(f"task pods still run ({', '.join(sorted(running))}): let them finish first")
    replicas = {
        f"{item['kind'].lower()}/{item['metadata']['name']}": int(item["spec"].get("replicas") or 0)
        for item in _json(kubectl, "get", "deployments,statefulsets", "-n", namespace, "-l", selector)[
            "items"
        ]
    }
    for workload in replicas:
        kubectl("scale", "-n", namespace, workload, "--replicas=0")
    deadline = time.monotonic() + timeout
    while _json(kubectl, "get", "pods", "-n", namespace, "-l", f"{selector},!kubernetes_executor")["items"]:
        if time.monotonic() > deadline:
            _start_airflow(kubectl, namespace, replicas)
            raise Refused(
                f"Airflow's pods did not stop in {timeout:.0f} s (tasks still running?); started again"
            )
        time.sleep(3)
    return replicas


def _start_airflow(kubectl: Kubectl, namespace: str, replicas: dict[str, int]) -> None:
    for workload, count in replicas.items():
        kubectl("scale", "-n", namespace, workload, f"--replicas={count}")


def restore_dump(
    kubectl: Kubectl, namespace: str, values: dict[str, Any], dump: str, *, stop_timeout: float = 900
) -> int:
    """Restores ``dump`` with Airflow stopped; the components started again (how many)."""
    image, secret = backup_container(values)
    dumps = list_dumps(kubectl, namespace, image)
    if dump not in dumps:
        raise Refused(f"the claim holds no dump {dump!r}; it holds: {', '.join(dumps) or 'none'}")
    replicas = _stop_airflow(kubectl, namespace, stop_timeout)
    try:
        pod = ClaimPod(image, RESTORE_SCRIPT, [dump], connection_secret=secret, read_only=True)
        ok, log = run_on_claim(kubectl, namespace, pod, prefix="restore-backup")
    finally:
        _start_airflow(kubectl, namespace, replicas)
    if not ok:
        lines = log.strip().splitlines()
        raise Refused(
            f"the restore failed, the database is as it was: {lines[-1][:300] if lines else 'no log'}"
        )
    return len(replicas)
