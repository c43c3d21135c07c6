"""The check that NetworkPolicies are enforced, not only written: a probe pod in a namespace of its own
tries every door the policies close, and a Celery worker the doors it needs, each with a control the
probe must reach (the cluster's DNS), so a probe that reaches nothing proves nothing."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tooling.cluster.node import Node
from tooling.cluster.timeline import CheckFailed
from tooling.rehearsal.services import wait_until

__all__ = ["NetworkProbe"]

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


@dataclass(frozen=True)
class NetworkProbe:
    """Probes one stack's namespace from a pod of another namespace and from a Celery worker."""

    node: Node
    run: Path  # where the probe's manifests are written
    namespace: str  # the stack's

    def kubectl_json(self, *args: str) -> Any:
        """``kubectl get ... -o json`` as the admin, parsed."""
        return json.loads(self.node.kubectl(*args, "-o", "json"))

    def check(self) -> None:
        """No pod of another namespace reaches a door the policies close; a Celery worker reaches what it
        needs."""
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
        path = self.run / f"apply-{manifest['metadata']['name']}.json"
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
