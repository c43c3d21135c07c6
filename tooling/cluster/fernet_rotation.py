"""Fernet rotation on the real cluster, through the documented config (README "Rotating the Fernet
key"): a connection and a variable stored under the current key read back after every step, and at the
end the old key is gone from the Secret and from every running Airflow pod.

Each read goes through the api-server, which decrypts the connection's extra and the variable's value
with the keys its pod started with; the step is judged only once every Airflow pod carries the
annotation of the keys it should hold, so the read after the old key is dropped proves the values were
re-encrypted. Key values are never printed: the Secret's keys are compared by their hashes.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import Any

from components.kube import RELEASE_NAME
from components.secrets.names import FERNET_GENERATION_ANNOTATION
from tooling.cluster.mid_run import airflow_pods, terminating
from tooling.cluster.stored import StoredValues
from tooling.cluster.timeline import CheckFailed
from tooling.cluster.workspace import Workspace
from tooling.rehearsal.api import Api
from tooling.rehearsal.services import wait_until

__all__ = ["FERNET_SECRET", "check_fernet_rotation", "key_hashes"]

FERNET_SECRET = f"{RELEASE_NAME}-fernet"  # SecretNames.fernet_key
PROBE_ID = "cluster_probe_fernet"  # the stored connection's and the variable's id
GENERATION_KEY = "airflow:fernet.generation"
PREVIOUS_KEY = "airflow:fernet.previousGeneration"


def key_hashes(secret: dict[str, Any]) -> list[str]:
    """The SHA-256 of each Fernet key the Secret holds, in order (new first): compared, never shown."""
    text = base64.b64decode(secret.get("data", {}).get("fernet-key", "")).decode()
    return [hashlib.sha256(key.encode()).hexdigest() for key in text.split(",") if key]


def _wait_for_pods_holding(kubectl_json: Callable[..., Any], namespace: str, held: str) -> None:
    """Until every Airflow pod carries ``held`` as its keys' annotation and is Ready: the old ones gone."""

    def settled() -> bool:
        pods = airflow_pods(kubectl_json, namespace).values()
        return bool(pods) and all(
            (pod["metadata"].get("annotations") or {}).get(FERNET_GENERATION_ANNOTATION) == held
            and not terminating(pod)
            and all(c.get("ready") for c in pod["status"].get("containerStatuses", []))
            for pod in pods
        )

    wait_until(settled, f"every Airflow pod Ready holding Fernet generations {held}", 900, 3)


def check_fernet_rotation(
    workspace: Workspace, api: Api, kubectl_json: Callable[..., Any], namespace: str
) -> str:
    """Rotates to the next generation in the README's two steps; what it did, for the timeline."""
    probe = StoredValues(api, PROBE_ID)
    probe.reads_back("storing")

    def secret() -> dict[str, Any]:
        return kubectl_json("get", "secret", FERNET_SECRET, "-n", namespace)

    before = key_hashes(secret())
    if len(before) != 1:
        raise CheckFailed(f"before rotating the Secret should hold one key: {len(before)}")
    old = before[0]
    old_generation = int(workspace.config_value(GENERATION_KEY) or 0)
    new_generation = old_generation + 1

    workspace.set_value(GENERATION_KEY, str(new_generation), path=True)
    workspace.set_value(PREVIOUS_KEY, str(old_generation), path=True)
    workspace.run("up", "--yes", "--skip-preview", check=True)
    rotating = key_hashes(secret())
    if len(rotating) != 2 or rotating[1] != old or rotating[0] == old:
        raise CheckFailed(f"while rotating the Secret should hold new,old: {len(rotating)} keys")
    _wait_for_pods_holding(kubectl_json, namespace, f"{new_generation},{old_generation}")
    probe.reads_back("the new key's rollout")
    job = f"airflow-rotate-fernet-key-{new_generation}"

    def rotated() -> bool:
        status = kubectl_json("get", "job", job, "-n", namespace).get("status", {})
        if status.get("failed"):
            raise CheckFailed(f"the rotation Job {job} failed")
        return bool(status.get("succeeded"))

    wait_until(rotated, f"the rotation Job {job} succeeded", 900, 3)
    probe.reads_back("the rotation Job")

    workspace.run("config", "rm", "--path", PREVIOUS_KEY, check=True)
    workspace.run("up", "--yes", "--skip-preview", check=True)
    if key_hashes(secret()) != rotating[:1]:
        raise CheckFailed("after dropping the old key the Secret should hold the new key alone")
    _wait_for_pods_holding(kubectl_json, namespace, str(new_generation))
    probe.reads_back("dropping the old key")
    return f"generation {old_generation} -> {new_generation}; the old key is in no Secret and no running pod"
