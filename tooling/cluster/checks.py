"""The checks that judge a real deploy from outside: through the Kubernetes API (kubectl as the admin),
Airflow's REST API (as the admin, with the generated password) and the Pulumi state."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tooling.cluster.layout import S3_ENDPOINT
from tooling.cluster.network_probe import NetworkProbe
from tooling.cluster.node import Node
from tooling.cluster.probe_edits import PROBE_DAG, retag_probe, wait_for_probe_tag
from tooling.cluster.secret_scan import SecretScan
from tooling.cluster.stack_settings import POOL, SETTINGS_DAG, check_stack_settings
from tooling.cluster.timeline import CheckFailed
from tooling.cluster.workspace import Workspace
from tooling.rehearsal.api import Api, healthy, run_dag
from tooling.rehearsal.services import wait_until

__all__ = ["BUCKET", "Deployed", "s3_call"]

# A pod that breaks Pod Security "restricted": root, privileged, no seccomp profile.
_NON_COMPLIANT_POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "restricted-probe"},
    "spec": {
        "containers": [
            {"name": "c", "image": "apache/airflow:3.2.2", "securityContext": {"privileged": True}}
        ]
    },
}


BUCKET = "airflow-task-logs"  # Pulumi.local.yaml's airflow:remoteLogs.bucket


def s3_call(node: Node, python: str, expression: str) -> str:
    """``expression`` on a boto3 client ``s3`` of the node's S3 endpoint (moto takes any keys), run inside
    the node's network namespace where the endpoint listens; its value as JSON."""
    script = (
        "import boto3, json\n"
        f"s3 = boto3.client('s3', endpoint_url={S3_ENDPOINT!r}, aws_access_key_id='x', "
        "aws_secret_access_key='x', region_name='us-east-1')\n"
        f"print(json.dumps({expression}, default=str))\n"
    )
    return node.run_inside(python, "-c", script).stdout


@dataclass
class Deployed:
    """A stack deployed onto the node, and what the checks learn about it as they go."""

    node: Node
    workspace: Workspace
    namespace: str
    tools_python: str  # .venv-dev's, which has boto3 to list the bucket
    api: Api | None = None
    first_success_seconds: float | None = None

    def kubectl_json(self, *args: str) -> Any:
        """``kubectl get ... -o json`` as the admin, parsed."""
        return json.loads(self.node.kubectl(*args, "-o", "json"))

    # -- 1: every pod Ready where "restricted" is enforced ----------------------------------------

    def pods_ready(self) -> None:
        """Every pod Ready in a namespace that enforces Pod Security "restricted", which refuses a pod that
        breaks it (the check proves it refuses one)."""

        def problems() -> list[str]:
            found = []
            for pod in self.kubectl_json("get", "pods", "-n", self.namespace)["items"]:
                phase = pod["status"].get("phase")
                if phase == "Succeeded":
                    continue
                conditions = {c["type"]: c["status"] for c in pod["status"].get("conditions", [])}
                if phase == "Running" and conditions.get("Ready") == "True":
                    continue
                waiting = [
                    f"{s['name']}: {(s.get('state', {}).get('waiting') or {}).get('reason', '')}"
                    for s in pod["status"].get("containerStatuses", [])
                    + pod["status"].get("initContainerStatuses", [])
                    if not s.get("ready")
                ]
                found.append(f"{pod['metadata']['name']} ({phase}; {', '.join(waiting)})")
            return found

        last: list[str] = []

        def ready() -> bool:
            nonlocal last
            last = problems()
            pods = self.kubectl_json("get", "pods", "-n", self.namespace)["items"]
            return bool(pods) and not last

        try:
            wait_until(ready, "every pod Ready", 900, 5)
        except RuntimeError:
            raise CheckFailed(f"pods not Ready after 900 s: {'; '.join(last)}") from None
        labels = self.kubectl_json("get", "namespace", self.namespace)["metadata"].get("labels", {})
        if labels.get("pod-security.kubernetes.io/enforce") != "restricted":
            raise CheckFailed(
                f"namespace {self.namespace} does not enforce Pod Security restricted: {labels}"
            )
        refused = self._server_dry_run(_NON_COMPLIANT_POD)
        if "violates PodSecurity" not in refused:
            raise CheckFailed(f"a privileged pod was not refused in {self.namespace}: {refused[:300]}")

    def _server_dry_run(self, manifest: dict) -> str:
        path = self.workspace.layout.run / "dry-run.json"
        path.write_text(json.dumps(manifest))
        try:
            self.node.kubectl("apply", "-n", self.namespace, "--dry-run=server", "-f", str(path))
        except RuntimeError as err:
            return str(err)
        return "accepted"

    # -- 2: DAGs to success on both executors, logs read back from the bucket ---------------------

    def login(self, api_url: str) -> None:
        """Every component healthy, then a login through the REST API with the generated admin password, read
        from the stack outputs as a user would."""
        self.api = Api(api_url)
        wait_until(lambda: healthy(self.api), "the api-server and every component healthy", 300, 3)
        outputs = self.workspace.run("stack", "output", "--json", "--show-secrets", check=True).stdout
        values = json.loads(outputs)
        token = self.api.call(
            "POST", "/auth/token", {"username": values["adminUsername"], "password": values["adminPassword"]}
        )
        self.api.token = token["access_token"]

    def run_dag(self, dag_id: str, timeout: float = 600) -> str:
        """Triggers ``dag_id`` and waits for its run to succeed; its run id."""
        api = self.api
        assert api is not None
        run, state = run_dag(api, dag_id, timeout=timeout, parse_timeout=300, every=3)
        if state != "success":
            tasks = api.call("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run}/taskInstances")["task_instances"]
            raise CheckFailed(
                f"{dag_id} run {run} ended {state}: "
                + ", ".join(f"{t['task_id']}={t['state']}" for t in tasks)
            )
        return run

    def both_executors(self, started: float) -> None:
        """cluster_probe (the test's own DAG) to success: on_celery on a Celery worker, in_a_pod in a pod
        the scheduler creates with its own Role; each log read back through the REST API, from the bucket."""
        run = self.run_dag(PROBE_DAG)
        self.first_success_seconds = time.monotonic() - started
        api = self.api
        assert api is not None
        tasks = api.call("GET", f"/api/v2/dags/{PROBE_DAG}/dagRuns/{run}/taskInstances")["task_instances"]
        executors = {task["task_id"]: task.get("executor") for task in tasks}
        if executors.get("in_a_pod") != "KubernetesExecutor" or executors.get("on_celery") not in (
            None,
            "CeleryExecutor",
        ):
            raise CheckFailed(f"the tasks did not run on the executors they name: {executors}")
        expected = {"on_celery": "cluster-probe: on a Celery worker", "in_a_pod": "21 doubled is 42"}
        for task_id, log in self.task_logs(PROBE_DAG, run, list(expected)).items():
            if expected[task_id] not in log:
                raise CheckFailed(
                    f"{task_id}'s log does not read back with {expected[task_id]!r}: {log[:400]}"
                )
            if f"s3://{BUCKET}/" not in log:
                raise CheckFailed(f"{task_id}'s log was not read from the bucket: {log[:400]}")

    def task_logs(self, dag_id: str, run: str, task_ids: list[str]) -> dict[str, str]:
        """Each task's log of ``run``, read back through the REST API once it is in the bucket: a task
        reports success before its supervisor uploads the log (the api-server cannot reach a worker's
        own log server), so it is there moments later."""
        api = self.api
        assert api is not None
        prefix = f"dag_id={dag_id}/run_id={run}/"

        def uploaded() -> bool:
            keys = [key for key in self.bucket_keys() if prefix in key]
            return all(any(f"task_id={task_id}/" in key for key in keys) for task_id in task_ids)

        wait_until(uploaded, f"every task's log of {run} in the bucket", 120, 3)
        return {
            task_id: json.dumps(
                api.call(
                    "GET",
                    f"/api/v2/dags/{dag_id}/dagRuns/{run}/taskInstances/{task_id}/logs/1?full_content=true",
                )
            )
            for task_id in task_ids
        }

    def stack_settings(self, since: datetime) -> int:
        """See ``tooling/cluster/stack_settings.py``; the number of pods judged."""
        run = self.run_dag(SETTINGS_DAG)
        api = self.api
        assert api is not None
        logs = self.task_logs(SETTINGS_DAG, run, ["reads_on_celery", "reads_in_a_pod"])
        pods = self.kubectl_json("get", "pods", "-n", self.namespace, "--field-selector=status.phase=Running")
        return check_stack_settings(logs, api.call("GET", f"/api/v2/pools/{POOL}"), pods["items"], since)

    def bucket_keys(self) -> list[str]:
        """The task-log bucket's keys: a log read back through the API must also be here, not only on a
        pod."""
        listing = (
            f"[o['Key'] for p in s3.get_paginator('list_objects_v2').paginate(Bucket={BUCKET!r})"
            " for o in p.get('Contents', [])]"
        )
        return json.loads(s3_call(self.node, self.tools_python, listing))

    # -- 3: NetworkPolicies enforced by the network ----------------------------------------------

    def network_policies(self) -> None:
        """See ``NetworkProbe.check``."""
        NetworkProbe(self.node, self.workspace.layout.run, self.namespace).check()

    # -- 4: no generated secret in plain text in the state ---------------------------------------

    def secrets_secret(self) -> int:
        """See ``SecretScan.check``; how many values were looked for."""
        return SecretScan(self.node, self.workspace, self.namespace).check()

    # -- 5: idempotence, and a DAG edit that changes only the image --------------------------------

    def no_changes(self) -> None:
        """A second preview right after ``up`` plans nothing: the program is deterministic on a real
        engine."""
        result = self.workspace.run("preview", "--expect-no-changes", "--diff")
        if result.code != 0:
            raise CheckFailed(f"a second preview shows changes: {_changes(result.output)}")

    def dag_edit(self) -> float:
        """Tags the probe DAG anew; returns the seconds from the start of ``up`` to the new version parsed."""
        marker = f"edit-{int(time.time())}"
        retag_probe(self.workspace.folder / "dags", marker)
        preview = self.workspace.run("preview", "--json", "--diff")
        if preview.code != 0:
            raise CheckFailed(f"preview after the DAG edit failed: {preview.output[-800:]}")
        changed = sorted({kind for kind, _ in preview.changes()})
        allowed = {"docker:index/image:Image", "kubernetes:helm.sh/v3:Release"}
        if "docker:index/image:Image" not in changed or set(changed) - allowed:
            raise CheckFailed(
                f"a DAG edit should change only the image (and the release's digest): {changed}"
            )
        started = time.monotonic()
        self.workspace.run("up", "--yes", "--skip-preview", check=True)
        assert self.api is not None
        wait_for_probe_tag(self.api, marker, 600)
        seconds = time.monotonic() - started
        self.run_dag(PROBE_DAG)
        return seconds

    # -- 6: destroy ------------------------------------------------------------------------------

    def protected_refuses(self) -> None:
        """A protected stack refuses ``destroy`` with the engine's own message, and loses nothing."""
        self.workspace.set_value("airflow:protectStatefulResources", "true")
        self.workspace.run("up", "--yes", "--skip-preview", check=True)
        refused = self.workspace.run("destroy", "--yes", "--skip-preview")
        if refused.code == 0 or "protected" not in refused.output:
            raise CheckFailed(f"destroy of a protected stack was not refused: {refused.output[-600:]}")
        if not self.kubectl_json("get", "secrets", "-n", self.namespace)["items"]:
            raise CheckFailed("the refused destroy deleted the Secrets")
        self.workspace.set_value("airflow:protectStatefulResources", "false")
        self.workspace.run("up", "--yes", "--skip-preview", check=True)

    def stop_celery_workers(self) -> None:
        """The known issue README "Destroying safely" works around: a Celery worker told to stop once
        its bundled Redis no longer answers (the namespace going, Redis and the chart's NetworkPolicies
        with it) retries its heartbeat forever and holds the namespace for its whole grace period (seen
        on the cluster: destroy failed after 10 min). Stopped first, the workers exit in seconds."""
        deployments = self.kubectl_json("get", "deployments", "-n", self.namespace, "-l", "component=worker")
        if not deployments["items"]:
            return
        self.node.kubectl(
            "scale", "deployment", "-n", self.namespace, "-l", "component=worker", "--replicas=0"
        )

        def stopped() -> bool:
            selector = "component=worker,!kubernetes_executor"  # not the task pods kept for their logs
            pods = self.kubectl_json("get", "pods", "-n", self.namespace, "-l", selector)["items"]
            return not pods

        wait_until(stopped, "the Celery workers stopped before the destroy", 300, 3)

    def destroy(self, stack: str | None = None) -> None:
        """``destroy`` of the unprotected stack (the workspace's, or ``stack``) leaves nothing of it in the
        cluster, namespace included, as README "Destroying safely" says: the Celery workers scaled to none
        first."""
        self.stop_celery_workers()
        named = ["--stack", stack] if stack else []
        self.workspace.run("destroy", "--yes", "--skip-preview", *named, check=True)

        def gone() -> bool:
            done = self.node.admin_kubectl_result("get", "namespace", self.namespace)
            return done.returncode != 0 and "NotFound" in done.stderr

        wait_until(gone, f"namespace {self.namespace} deleted", 300, 3)
        left = self.kubectl_json(
            "get", "clusterroles,clusterrolebindings", "-l", "app.kubernetes.io/managed-by=pulumi"
        )
        if left["items"]:
            raise CheckFailed(
                f"cluster-wide objects of the stack left: {[i['metadata']['name'] for i in left['items']]}"
            )


def _changes(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip().startswith(("~", "+", "-", "+-"))]
    return "; ".join(lines[:20]) or output[-600:]
