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
import json
import secrets
import urllib.error
from collections.abc import Callable
from typing import Any

from components.secrets.names import FERNET_GENERATION_ANNOTATION
from tooling.cluster.mid_run import airflow_pods
from tooling.cluster.timeline import CheckFailed
from tooling.cluster.workspace import Workspace
from tooling.rehearsal.api import Api
from tooling.rehearsal.services import wait_until

__all__ = ["FERNET_SECRET", "check_fernet_rotation", "key_hashes"]

FERNET_SECRET = "airflow-fernet"  # SecretNames.fernet_key
PROBE_ID = "cluster_probe_fernet"  # the stored connection's and the variable's id
GENERATION_KEY = "airflow:fernet.generation"
PREVIOUS_KEY = "airflow:fernet.previousGeneration"


def key_hashes(secret: dict[str, Any]) -> list[str]:
    """The SHA-256 of each Fernet key the Secret holds, in order (new first): compared, never shown."""
    text = base64.b64decode(secret.get("data", {}).get("fernet-key", "")).decode()
    return [hashlib.sha256(key.encode()).hexdigest() for key in text.split(",") if key]


class _Probe:
    """A connection and a variable stored through the REST API, and the reading back of both."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.extra, self.value = secrets.token_urlsafe(18), secrets.token_urlsafe(18)
        api.call(
            "POST",
            "/api/v2/connections",
            {
                "connection_id": PROBE_ID,
                "conn_type": "generic",
                "login": "cluster-test",
                "password": secrets.token_urlsafe(18),
                "extra": json.dumps({"probe": self.extra}),
            },
        )
        api.call("POST", "/api/v2/variables", {"key": PROBE_ID, "value": self.value})

    def reads_back(self, after: str) -> None:
        try:
            connection = self.api.call("GET", f"/api/v2/connections/{PROBE_ID}")
            variable = self.api.call("GET", f"/api/v2/variables/{PROBE_ID}")
        except urllib.error.HTTPError as error:
            raise CheckFailed(
                f"after {after}: the stored connection or variable cannot be read ({error})"
            ) from None
        if json.loads(connection.get("extra") or "{}").get("probe") != self.extra:
            raise CheckFailed(f"after {after}: the stored connection's extra does not read back")
        if variable.get("value") != self.value:
            raise CheckFailed(f"after {after}: the stored variable does not read back")


def _generation(workspace: Workspace) -> int:
    current = workspace.run("config", "get", "--path", GENERATION_KEY)
    return int(current.stdout.strip()) if current.code == 0 else 0


def _wait_for_pods_holding(kubectl_json: Callable[..., Any], namespace: str, held: str) -> None:
    """Until every Airflow pod carries ``held`` as its keys' annotation and is Ready: the old ones gone."""

    def settled() -> bool:
        pods = airflow_pods(kubectl_json, namespace).values()
        return bool(pods) and all(
            (pod["metadata"].get("annotations") or {}).get(FERNET_GENERATION_ANNOTATION) == held
            and "deletionTimestamp" not in pod["metadata"]
            and all(c.get("ready") for c in pod["status"].get("containerStatuses", []))
            for pod in pods
        )

    wait_until(settled, f"every Airflow pod Ready holding Fernet generations {held}", 900, 3)


def check_fernet_rotation(
    workspace: Workspace, api: Api, kubectl_json: Callable[..., Any], namespace: str
) -> str:
    """Rotates to the next generation in the README's two steps; what it did, for the timeline."""
    probe = _Probe(api)
    probe.reads_back("storing")

    def secret() -> dict[str, Any]:
        return kubectl_json("get", "secret", FERNET_SECRET, "-n", namespace)

    before = key_hashes(secret())
    if len(before) != 1:
        raise CheckFailed(f"before rotating the Secret should hold one key: {len(before)}")
    old = before[0]
    old_generation = _generation(workspace)
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
