"""Where the test cluster lives: its network namespace and addresses, the files of a run, and the
small helpers every part of it uses (a command inside the namespace, a wait with a deadline)."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from tooling.cluster.pki import Pki

__all__ = [
    "API_SERVER_PORT",
    "API_SERVICE_IP",
    "CLUSTER_CIDR",
    "DNS_SERVICE_IP",
    "HOST_API_PORT",
    "NETNS",
    "NODE_IP",
    "NODE_NAME",
    "POD_CIDR",
    "REGISTRY",
    "S3_ENDPOINT",
    "SERVICE_CIDR",
    "NodeLayout",
    "in_netns",
    "kubeconfig_text",
    "port_open",
    "wait_for",
]

NETNS = "airflow-stack"
NODE_NAME = "airflow-stack-node"
NODE_IP = "10.213.255.1"
POD_CIDR = "10.213.0.0/24"
CLUSTER_CIDR = "10.213.0.0/17"
SERVICE_CIDR = "10.213.192.0/20"
API_SERVICE_IP = "10.213.192.1"
DNS_SERVICE_IP = "10.213.192.10"
REGISTRY = "127.0.0.1:5000"
S3_ENDPOINT = f"http://{NODE_IP}:9000"
API_SERVER_PORT = 6443
HOST_API_PORT = 16443  # loopback of the machine, forwarded to the API server
_NSENTER = ["nsenter", f"--net=/run/netns/{NETNS}"]


@dataclass(frozen=True)
class NodeLayout:
    """Where a run keeps its files (``run``: removed by ``down``) and what outlives it (``cache``:
    the toolchain, images in the registry and the Docker engine, containerd's unpacked layers)."""

    run: Path
    cache: Path

    @property
    def bin(self) -> Path:
        return self.cache / "bin"

    @property
    def logs(self) -> Path:
        return self.run / "logs"

    @property
    def state(self) -> Path:
        return self.run / "node.json"

    @property
    def kubeconfig(self) -> Path:
        """The admin's kubeconfig, for the machine's own network (through the loopback forwarder)."""
        return self.run / "kubeconfig"

    @property
    def docker_host(self) -> str:
        return f"unix://{self.run / 'docker.sock'}"

    def component_kubeconfig(self, name: str) -> Path:
        """The kubeconfig a component (or the admin, inside the namespace) uses, with its own certificate."""
        return self.run / "kubeconfigs" / f"{name}.yaml"


def kubeconfig_text(pki: Pki, user: str, server: str) -> str:
    """A kubeconfig for ``user``'s client certificate: each component authenticates as itself, so RBAC
    and the Node authorizer judge it as on a real cluster."""
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {"name": "airflow-stack", "cluster": {"server": server, "certificate-authority": str(pki.ca)}}
            ],
            "users": [
                {
                    "name": user,
                    "user": {"client-certificate": str(pki.cert(user)), "client-key": str(pki.key(user))},
                }
            ],
            "contexts": [{"name": "airflow-stack", "context": {"cluster": "airflow-stack", "user": user}}],
            "current-context": "airflow-stack",
        }
    )


def wait_for(
    what: str,
    ready,
    timeout: float,
    process: subprocess.Popen | None = None,
    log: Path | None = None,
    explain=None,
) -> None:
    """Polls ``ready`` until it holds, with a deadline; fails early with the end of the log if ``process``
    exits. On a timeout the failure carries what ``explain()`` says and the end of ``log``: the cluster is
    gone once the test stops, so the reason must be in the line CI prints."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}: {log_tail(log)}")
        with contextlib.suppress(Exception):
            if ready():
                return
        time.sleep(0.5)
    detail = []
    if explain is not None:
        try:
            detail.append(str(explain()))
        except Exception as error:  # the explanation must never hide the timeout
            detail.append(f"(no explanation: {error})")
    if log is not None:
        detail.append(f"end of {log.name}: {log_tail(log)}")
    raise RuntimeError(f"{what} not ready after {timeout:.0f} s" + "".join(f"; {d}" for d in detail))


def log_tail(log: Path | None, size: int = 1500) -> str:
    """The last ``size`` characters of ``log`` (empty when there is none)."""
    return log.read_text(errors="replace")[-size:] if log and log.exists() else ""


def port_open(host: str, port: int) -> bool:
    """Whether something listens at ``host:port`` (raises when not, for ``wait_for``)."""
    with socket.create_connection((host, port), timeout=1):
        return True


def in_netns(command: Sequence[str]) -> list[str]:
    """``command`` run inside the cluster's network namespace."""
    return [*_NSENTER, *command]
