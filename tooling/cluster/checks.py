"""The checks that judge a real deploy from outside: through the Kubernetes API (kubectl as the admin),
Airflow's REST API (as the admin, with the generated password) and the Pulumi state."""

from __future__ import annotations

import base64
import gzip
import json
import time
import urllib.error
from dataclasses import dataclass
from typing import Any

from tooling.cluster.layout import S3_ENDPOINT
from tooling.cluster.node import Node
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
# What a pod of another namespace must not reach (service, port), and a control it must reach.
_CLOSED_DOORS = [
    ("airflow-postgresql", 5432),
    ("airflow-redis", 6379),
    ("airflow-pgbouncer", 6543),
    ("airflow-worker", 8793),
    ("airflow-triggerer", 8794),
    ("airflow-api-server", 8080),
]
_PROBE_NAMESPACE = "network-probe"


BUCKET = "airflow-task-logs"  # Pulumi.local.yaml's airflow:remoteLogs.bucket
PROBE_DAG = "cluster_probe"  # tooling/cluster/dags/cluster_probe.py


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
        return json.loads(self.node.kubectl(*args, "-o", "json"))

    # -- 1: every pod Ready where "restricted" is enforced ----------------------------------------

    def pods_ready(self) -> None:
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
        self.api = Api(api_url)
        wait_until(lambda: healthy(self.api), "the api-server and every component healthy", 300, 3)
        outputs = self.workspace.run("stack", "output", "--json", "--show-secrets", check=True).stdout
        values = json.loads(outputs)
        token = self.api.call(
            "POST", "/auth/token", {"username": values["adminUsername"], "password": values["adminPassword"]}
        )
        self.api.token = token["access_token"]

    def run_dag(self, dag_id: str, timeout: float = 600) -> str:
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
        # A task reports success before its supervisor uploads the log: the bucket has it moments later.
        prefix = f"dag_id={PROBE_DAG}/run_id={run}/"

        def uploaded() -> bool:
            keys = [key for key in self.bucket_keys() if prefix in key]
            return all(any(f"task_id={task_id}/" in key for key in keys) for task_id in expected)

        wait_until(uploaded, f"every task's log of {run} in the bucket", 120, 3)
        for task_id, needle in expected.items():
            log = json.dumps(
                api.call(
                    "GET",
                    f"/api/v2/dags/{PROBE_DAG}/dagRuns/{run}/taskInstances/{task_id}/logs/1?full_content=true",
                )
            )
            if needle not in log:
                raise CheckFailed(f"{task_id}'s log does not read back with {needle!r}: {log[:400]}")
            if f"s3://{BUCKET}/" not in log:
                raise CheckFailed(f"{task_id}'s log was not read from the bucket: {log[:400]}")

    def bucket_keys(self) -> list[str]:
        listing = (
            f"[o['Key'] for p in s3.get_paginator('list_objects_v2').paginate(Bucket={BUCKET!r})"
            " for o in p.get('Contents', [])]"
        )
        return json.loads(s3_call(self.node, self.tools_python, listing))

    # -- 3: NetworkPolicies enforced by the network ----------------------------------------------

    def network_policies(self) -> None:
        self._apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": _PROBE_NAMESPACE}})
        # Only the doors this stack has (prod has no PostgreSQL or Redis of its own): a name that does not
        # resolve would pass for a closed door.
        services = {
            s["metadata"]["name"] for s in self.kubectl_json("get", "services", "-n", self.namespace)["items"]
        }
        doors = [(service, port) for service, port in _CLOSED_DOORS if service in services]
        if len(doors) < 4:
            raise CheckFailed(
                f"only {doors} of the doors to probe exist in {self.namespace}: {sorted(services)}"
            )
        targets = [(f"{service}.{self.namespace}.svc.cluster.local", port) for service, port in doors]
        # The control: the cluster's DNS, which no policy closes, must answer the same probe.
        targets.append(("kube-dns.kube-system.svc.cluster.local", 53))
        # A new pod each time: an earlier probe's log must never stand in for this one's.
        outside = self._probe_from_pod(_PROBE_NAMESPACE, f"probe-{time.time_ns()}", targets)
        if not outside.get("kube-dns.kube-system.svc.cluster.local:53"):
            raise CheckFailed(f"the probe reaches nothing, so its other results prove nothing: {outside}")
        opened = [
            target for target, reached in outside.items() if reached and not target.startswith("kube-dns")
        ]
        if opened:
            raise CheckFailed(f"a pod in namespace {_PROBE_NAMESPACE} reaches {opened}")
        worker = self.node.kubectl(
            "get",
            "pods",
            "-n",
            self.namespace,
            "-l",
            "component=worker",
            "-o",
            "jsonpath={.items[0].metadata.name}",
        )
        inside = self._exec_probe(
            worker,
            "worker",
            [
                (f"airflow-api-server.{self.namespace}.svc.cluster.local", 8080),
                (f"airflow-pgbouncer.{self.namespace}.svc.cluster.local", 6543),
            ],
        )
        if not all(inside.values()):
            raise CheckFailed(f"a Celery worker cannot reach what it needs: {inside}")
        self.node.kubectl("delete", "namespace", _PROBE_NAMESPACE, "--wait=false")

    def _apply(self, manifest: dict) -> None:
        path = self.workspace.layout.run / f"apply-{manifest['metadata']['name']}.json"
        path.write_text(json.dumps(manifest))
        self.node.kubectl("apply", "-f", str(path))

    @staticmethod
    def _probe_script(targets: list[tuple[str, int]]) -> str:
        return (
            "import json,socket\nresult={}\n"
            f"for host,port in {targets!r}:\n"
            "    try:\n        socket.create_connection((host,port),timeout=4).close()\n"
            "        result[f'{host}:{port}']=True\n"
            "    except OSError:\n        result[f'{host}:{port}']=False\n"
            "print('PROBE'+json.dumps(result))\n"
        )

    def _probe_from_pod(self, namespace: str, name: str, targets: list[tuple[str, int]]) -> dict[str, bool]:
        self._apply(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name, "namespace": namespace},
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [
                        {
                            "name": "probe",
                            "image": "apache/airflow:3.2.2",
                            "command": ["python3", "-c", self._probe_script(targets)],
                            "resources": {
                                "requests": {"cpu": "10m", "memory": "32Mi"},
                                "limits": {"memory": "128Mi"},
                            },
                        }
                    ],
                },
            }
        )
        wait_until(
            lambda: (
                self.kubectl_json("get", "pod", "-n", namespace, name)["status"].get("phase")
                in ("Succeeded", "Failed")
            ),
            f"probe pod {name} finished",
            180,
            3,
        )
        return self._probe_result(self.node.kubectl("logs", "-n", namespace, name))

    def _exec_probe(self, pod: str, container: str, targets: list[tuple[str, int]]) -> dict[str, bool]:
        out = self.node.kubectl(
            "exec",
            "-n",
            self.namespace,
            pod,
            "-c",
            container,
            "--",
            "python",
            "-c",
            self._probe_script(targets),
        )
        return self._probe_result(out)

    @staticmethod
    def _probe_result(out: str) -> dict[str, bool]:
        for line in out.splitlines():
            if line.startswith("PROBE"):
                return json.loads(line[len("PROBE") :])
        raise CheckFailed(f"the probe printed no result: {out[-300:]}")

    # -- 4: no generated secret in plain text in the state ---------------------------------------

    def secrets_secret(self) -> int:
        """Returns how many values were looked for."""
        values: dict[str, str] = {}
        for secret in self.kubectl_json("get", "secrets", "-n", self.namespace)["items"]:
            name = secret["metadata"]["name"]
            if not name.startswith("airflow-") or secret.get("type") == "helm.sh/release.v1":
                continue
            for key, encoded in (secret.get("data") or {}).items():
                value = base64.b64decode(encoded).decode(errors="replace")
                if len(value) >= 12:
                    values[f"{name}/{key}"] = value
        if not values:
            raise CheckFailed("no Secret values found to look for: the check would prove nothing")
        exported = self.workspace.export()
        raw = "\n".join(
            p.read_text(errors="replace") for p in self.workspace.backend.rglob("*") if p.is_file()
        )
        helm = self._helm_release_payloads()
        places = {"the exported state": exported, "the raw state files": raw, "Helm's release record": helm}
        leaks = []
        for where, text in places.items():
            for label, value in values.items():
                for form in _forms(value):
                    if form in text:
                        leaks.append(f"{label} in {where}")
                        break
        if leaks:
            raise CheckFailed(f"secret values in plain text: {sorted(set(leaks))}")
        return len(values)

    def _helm_release_payloads(self) -> str:
        texts = []
        for secret in self.kubectl_json("get", "secrets", "-n", self.namespace)["items"]:
            if secret.get("type") == "helm.sh/release.v1":
                release = base64.b64decode(base64.b64decode(secret["data"]["release"]))
                texts.append(gzip.decompress(release).decode(errors="replace"))
        if not texts:
            raise CheckFailed("no Helm release record found")
        return "\n".join(texts)

    # -- 5: idempotence, and a DAG edit that changes only the image --------------------------------

    def no_changes(self) -> None:
        result = self.workspace.run("preview", "--expect-no-changes", "--diff")
        if result.code != 0:
            raise CheckFailed(f"a second preview shows changes: {_changes(result.output)}")

    def dag_edit(self) -> float:
        """Tags the probe DAG anew; returns the seconds from the start of ``up`` to the new version parsed."""
        marker = f"edit-{int(time.time())}"
        path = self.workspace.folder / "dags" / f"{PROBE_DAG}.py"
        text = path.read_text()
        edited = text.replace('TAGS = ["cluster-test"]', f'TAGS = ["cluster-test", "{marker}"]')
        if edited == text:
            raise CheckFailed(f"{path.name} has no TAGS line to edit")
        path.write_text(edited)
        preview = self.workspace.run("preview", "--json", "--diff")
        if preview.code != 0:
            raise CheckFailed(f"preview after the DAG edit failed: {preview.output[-800:]}")
        changed = _changed_types(preview.stdout)
        allowed = {"docker:index/image:Image", "kubernetes:helm.sh/v3:Release"}
        if "docker:index/image:Image" not in changed or set(changed) - allowed:
            raise CheckFailed(
                f"a DAG edit should change only the image (and the release's digest): {changed}"
            )
        started = time.monotonic()
        self.workspace.run("up", "--yes", "--skip-preview", check=True)
        api = self.api
        assert api is not None

        def parsed() -> bool:
            try:
                tags = [t["name"] for t in api.call("GET", f"/api/v2/dags/{PROBE_DAG}")["tags"]]
            except (urllib.error.URLError, KeyError):
                return False
            return marker in tags

        wait_until(parsed, "the edited DAG parsed", 600, 2)
        seconds = time.monotonic() - started
        self.run_dag(PROBE_DAG)
        return seconds

    # -- 6: destroy ------------------------------------------------------------------------------

    def protected_refuses(self) -> None:
        self.workspace.set_value("airflow:protectStatefulResources", "true")
        self.workspace.run("up", "--yes", "--skip-preview", check=True)
        refused = self.workspace.run("destroy", "--yes", "--skip-preview")
        if refused.code == 0 or "protected" not in refused.output:
            raise CheckFailed(f"destroy of a protected stack was not refused: {refused.output[-600:]}")
        if not self.kubectl_json("get", "secrets", "-n", self.namespace)["items"]:
            raise CheckFailed("the refused destroy deleted the Secrets")
        self.workspace.set_value("airflow:protectStatefulResources", "false")
        self.workspace.run("up", "--yes", "--skip-preview", check=True)

    def destroy(self) -> None:
        self.workspace.run("destroy", "--yes", "--skip-preview", check=True)

        def gone() -> bool:
            done = self.node.kubectl_result(
                self.node.layout.component_kubeconfig("admin"), "get", "namespace", self.namespace
            )
            return done.returncode != 0 and "NotFound" in done.stderr

        wait_until(gone, f"namespace {self.namespace} deleted", 300, 3)
        left = self.kubectl_json(
            "get", "clusterroles,clusterrolebindings", "-l", "app.kubernetes.io/managed-by=pulumi"
        )
        if left["items"]:
            raise CheckFailed(
                f"cluster-wide objects of the stack left: {[i['metadata']['name'] for i in left['items']]}"
            )


def _forms(value: str) -> list[str]:
    """A value as it could sit in a file: itself, base64 (Kubernetes data), JSON-escaped."""
    return [value, base64.b64encode(value.encode()).decode(), json.dumps(value)[1:-1]]


def _changed_types(preview_json: str) -> list[str]:
    steps = json.loads(preview_json).get("steps", [])
    return sorted(
        {
            step["urn"].split("::")[-2].split("$")[-1]
            for step in steps
            if step.get("op") not in ("same", "read")
        }
    )


def _changes(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip().startswith(("~", "+", "-", "+-"))]
    return "; ".join(lines[:20]) or output[-600:]
