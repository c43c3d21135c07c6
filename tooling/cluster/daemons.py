"""The processes of the test cluster: each started with its log, recorded so ``teardown.down`` finds
it even after a crash, and the commands a run sends into the namespace (kubectl, port forwarders)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from tooling.cluster.layout import NodeLayout, in_netns, port_open, wait_for

__all__ = ["Daemons"]


class Daemons:
    """What every part of the node shares: the layout, and the processes started so far."""

    def __init__(self, layout: NodeLayout) -> None:
        self.layout = layout
        self._pids: list[dict] = []

    def _start(
        self, name: str, command: Sequence[str], *, netns: bool = True, env: dict | None = None
    ) -> subprocess.Popen:
        self.layout.logs.mkdir(parents=True, exist_ok=True)
        log = self.layout.logs / f"{name}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(
                in_netns(command) if netns else list(command),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env=(os.environ | env) if env else None,
            )
        self._pids.append({"name": name, "pid": process.pid})
        self._save()
        return process

    def _save(self) -> None:
        self.layout.state.write_text(json.dumps({"processes": self._pids}, indent=1))

    def serve(self, name: str, command: Sequence[str], port: int) -> None:
        """``command``, a server of the test's own, started inside the namespace (stopped with the
        cluster); returns once it accepts connections on 127.0.0.1:``port`` there."""
        process = self._start(name, command)
        wait_for(name, lambda: self._port(port), 30, process, self.layout.logs / f"{name}.log")

    def run_inside(self, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        """``command`` run to its end inside the node's network namespace, its output captured."""
        return subprocess.run(in_netns(command), check=check, capture_output=True, text=True)

    def _port(self, port: int) -> bool:
        probe = self.run_inside("bash", "-c", f"exec 3<>/dev/tcp/127.0.0.1/{port}", check=False)
        return probe.returncode == 0

    def kubectl_result(self, kubeconfig: Path, *args: str) -> subprocess.CompletedProcess:
        """kubectl with ``kubeconfig`` inside the namespace; the caller reads its exit code."""
        return self.run_inside(
            str(self.layout.bin / "kubectl"), f"--kubeconfig={kubeconfig}", *args, check=False
        )

    def admin_kubectl_result(self, *args: str) -> subprocess.CompletedProcess:
        """kubectl as the admin inside the namespace; the caller reads its exit code."""
        return self.kubectl_result(self.layout.component_kubeconfig("admin"), *args)

    def kubectl(self, *args: str) -> str:
        """kubectl as the admin inside the namespace; its output, or a RuntimeError with the end of its
        error."""
        done = self.admin_kubectl_result(*args)
        if done.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args[:3])}: {done.stderr.strip()[-800:]}")
        return done.stdout

    def _forward(self, name: str, host_port: int, target_host: str, target_port: int) -> None:
        """A loopback port of the machine that leads to ``target`` inside the namespace."""
        # A script, since socat would read the colons of an inline TCP:host:port as its own syntax.
        script = self.layout.run / f"{name}.sh"
        script.write_text(
            "#!/bin/sh\nexec "
            + " ".join(in_netns(["socat", "STDIO", f"TCP:{target_host}:{target_port}"]))
            + "\n"
        )
        script.chmod(0o755)
        process = self._start(
            name,
            ["socat", f"TCP-LISTEN:{host_port},bind=127.0.0.1,reuseaddr,fork", f"EXEC:{script}"],
            netns=False,
        )
        wait_for(name, lambda: port_open("127.0.0.1", host_port), 20, process)

    def forward_service(self, name: str, host_port: int, namespace: str, service: str, port: int) -> str:
        """A loopback port of the machine that leads to a Service; its URL (Airflow's REST API, for the
        checks)."""
        cluster_ip = self.kubectl(
            "get", "service", "-n", namespace, service, "-o", "jsonpath={.spec.clusterIP}"
        )
        self._forward(name, host_port, cluster_ip.strip(), port)
        return f"http://127.0.0.1:{host_port}"
