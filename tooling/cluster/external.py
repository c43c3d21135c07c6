"""What prod's stack expects outside itself, played on the test cluster: a PostgreSQL for the metadata
and a TLS-only Redis as the managed broker, each a pod in a namespace of their own, from the same
Debian images as the rest; and the overrides that point the shipped ``Pulumi.prod.yaml`` at them, at
the loopback registry and the S3 endpoint, with its requests scaled to fit the node. Nothing else of
prod's file changes: its replicas, PgBouncer, protection, monitoring and policies stay as shipped."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.redact import redact
from tooling.cluster.node import Node
from tooling.rehearsal.certificates import server_tls
from tooling.rehearsal.services import wait_until

__all__ = [
    "EXTERNAL_NAMESPACE",
    "External",
    "apply_outside",
    "pod_object",
    "prod_overrides",
    "secret_object",
    "service_object",
    "start_external_services",
    "wait_ready",
]

EXTERNAL_NAMESPACE = "external-services"
_POSTGRES_HOST = f"postgres.{EXTERNAL_NAMESPACE}.svc.cluster.local"
_REDIS_HOST = f"redis.{EXTERNAL_NAMESPACE}.svc.cluster.local"
_REDIS_TLS_PORT = 6380
# Requests that let prod's two of everything fit 2 cores; limits high enough for Airflow's processes.
_SCALED = {"cpu": "25m", "memory": "256Mi", "memoryLimit": "1Gi"}
_COMPONENTS = ("scheduler", "apiServer", "triggerer", "dagProcessor", "workers")


@dataclass(frozen=True)
class External:
    """What prod's outside world hands the stack: the managed database's URL, the managed Redis's URL
    and its CA, as an operator sets them."""

    metadata_connection: str  # secret
    broker_url: str  # secret
    redis_ca: str  # public


def _resources() -> dict[str, Any]:
    return {"requests": {"cpu": "10m", "memory": "64Mi"}, "limits": {"memory": "512Mi"}}


def service_object(name: str, port: int) -> dict[str, Any]:
    """A Service in the outside world's namespace, in front of the pod of the same name."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": EXTERNAL_NAMESPACE},
        "spec": {"selector": {"app": name}, "ports": [{"port": port, "targetPort": port}]},
    }


def pod_object(
    name: str, container: dict[str, Any], user: int, volumes: list[dict[str, Any]]
) -> dict[str, Any]:
    """A pod of one container running as ``user``, labelled for its Service."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": EXTERNAL_NAMESPACE, "labels": {"app": name}},
        "spec": {
            "securityContext": {"runAsUser": user, "runAsNonRoot": True, "fsGroup": user},
            "containers": [{"name": name, "resources": _resources(), **container}],
            "volumes": volumes,
        },
    }


def secret_object(name: str, data: dict[str, str]) -> dict[str, Any]:
    """A Secret in the outside world's namespace."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": EXTERNAL_NAMESPACE},
        "stringData": data,
    }


def start_external_services(node: Node, folder: Path) -> External:
    """Prod's outside world in a namespace of its own: PostgreSQL and Redis over TLS with generated
    passwords, so prod's shape deploys against services it does not own, as in production."""
    folder.mkdir(parents=True, exist_ok=True)
    db_password, redis_password = secrets.token_hex(16), secrets.token_hex(16)
    tls = server_tls(folder, _REDIS_HOST)
    redis_conf = (
        f"port 0\ntls-port {_REDIS_TLS_PORT}\ntls-cert-file /conf/server.crt\ntls-key-file /conf/server.key\n"
        f"tls-ca-cert-file /conf/ca.crt\ntls-auth-clients no\nrequirepass {redis_password}\n"
        'dir /tmp\nsave ""\nappendonly no\n'
    )
    postgres_env = {
        "POSTGRES_USER": "airflow",
        "POSTGRES_PASSWORD": db_password,
        "POSTGRES_DATABASE": "airflow",
        "POSTGRES_POSTGRES_PASSWORD": secrets.token_hex(16),
        "PGDATA": "/data/pg",
    }
    objects = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": EXTERNAL_NAMESPACE}},
        secret_object("postgres-env", postgres_env),
        secret_object(
            "redis",
            {
                "redis.conf": redis_conf,
                "server.crt": tls.certificate.read_text(),
                "server.key": tls.key.read_text(),
                "ca.crt": tls.ca.read_text(),
            },
        ),
        pod_object(
            "postgres",
            {
                "image": "bitnamilegacy/postgresql:16.1.0-debian-11-r15",
                "envFrom": [{"secretRef": {"name": "postgres-env"}}],
                "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                "readinessProbe": {"tcpSocket": {"port": 5432}, "periodSeconds": 2},
            },
            1001,
            [{"name": "data", "emptyDir": {}}],
        ),
        service_object("postgres", 5432),
        pod_object(
            "redis",
            {
                "image": "redis:7.2-bookworm",
                "command": ["redis-server", "/conf/redis.conf"],
                "volumeMounts": [{"name": "conf", "mountPath": "/conf", "readOnly": True}],
                "readinessProbe": {"tcpSocket": {"port": _REDIS_TLS_PORT}, "periodSeconds": 2},
            },
            999,
            [{"name": "conf", "secret": {"secretName": "redis", "defaultMode": 0o440}}],
        ),
        service_object("redis", _REDIS_TLS_PORT),
    ]
    apply_outside(node, folder, "external-services", objects)
    wait_ready(node, ("postgres", "redis"), "the external PostgreSQL and Redis")
    return External(
        metadata_connection=f"postgresql://airflow:{db_password}@{_POSTGRES_HOST}:5432/airflow",
        broker_url=f"rediss://:{redis_password}@{_REDIS_HOST}:{_REDIS_TLS_PORT}/0",
        redis_ca=tls.ca.read_text(),
    )


def apply_outside(node: Node, folder: Path, name: str, objects: list[dict[str, Any]]) -> None:
    """``objects`` applied as the admin, through a file only the test reads (they hold passwords and
    keys), removed once applied."""
    manifest = folder / f"{name}.json"
    manifest.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))
    manifest.chmod(0o600)
    try:
        node.kubectl("apply", "-f", str(manifest))
    finally:
        manifest.unlink()


def wait_ready(node: Node, pods: tuple[str, ...], what: str) -> None:
    """Waits until each of ``pods`` in the outside world's namespace is Ready."""

    def ready() -> bool:
        items = json.loads(node.kubectl("get", "pods", "-n", EXTERNAL_NAMESPACE, "-o", "json"))["items"]
        found = {
            p["metadata"]["name"]
            for p in items
            if any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", []))
        }
        return set(pods) <= found

    try:
        wait_until(ready, f"{what} Ready", 180, 2)
    except RuntimeError as err:
        raise RuntimeError(f"{err}; {_last_words(node, pods)}") from None


def _last_words(node: Node, pods: tuple[str, ...]) -> str:
    """Each pod's phase, container states and last log lines (masked), for a pod that never got Ready."""
    said = []
    for pod in pods:
        found = node.admin_kubectl_result("get", "pod", "-n", EXTERNAL_NAMESPACE, pod, "-o", "json")
        states = (
            [c.get("state") for c in json.loads(found.stdout)["status"].get("containerStatuses", [])]
            if found.returncode == 0
            else found.stderr.strip()
        )
        logs = node.admin_kubectl_result("logs", "-n", EXTERNAL_NAMESPACE, pod, "--tail=15")
        said.append(f"{pod}: {states}; log: {' | '.join((logs.stdout + logs.stderr).strip().splitlines())}")
    return redact("; ".join(said))[:3000]


def prod_overrides() -> list[tuple[str, str]]:
    """``pulumi config set --path`` pairs that fit prod to the node and its stand-ins."""
    pairs = [(f"airflow:{c}.resources.{k}", v) for c in _COMPONENTS for k, v in _SCALED.items()]
    pairs += [
        ("airflow:dags.image.registry", "localhost:5000"),
        ("airflow:dags.image.repository", "localhost:5000/airflow-dags"),
        ("airflow:dags.image.username", "airflow"),
        ("airflow:remoteLogs.bucket", "airflow-task-logs"),
        ("airflow:remoteLogs.connectionSecretName", "airflow-task-logs"),
    ]
    return pairs
