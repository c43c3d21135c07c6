"""The control plane of the test cluster and what stands beside it: the namespace's network, etcd,
the API server with TLS, RBAC and the Node authorizer, the controller manager and scheduler, the image
registry, the Docker engine that builds images, and the S3 endpoint for task logs."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import yaml

from tooling.cluster.daemons import Daemons
from tooling.cluster.layout import (
    API_SERVER_PORT,
    API_SERVICE_IP,
    CLUSTER_CIDR,
    HOST_API_PORT,
    NETNS,
    NODE_IP,
    NODE_NAME,
    REGISTRY,
    SERVICE_CIDR,
    kubeconfig_text,
    wait_for,
)
from tooling.cluster.pki import Pki, make_pki

__all__ = ["ControlPlane"]


class ControlPlane(Daemons):
    """Starts everything up to the kubelet; ``Node`` adds the kubelet side."""

    def up(self) -> dict[str, float]:
        """Starts the node; returns how long each phase took, in seconds."""
        timings: dict[str, float] = {}
        layout = self.layout
        layout.run.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        self._network()
        pki = make_pki(layout.run / "pki", node=NODE_NAME, node_ip=NODE_IP, service_ip=API_SERVICE_IP)
        self._kubeconfigs(pki)
        timings["network and certificates"] = time.monotonic() - started

        started = time.monotonic()
        self._etcd(pki)
        self._apiserver(pki)
        self._controllers(pki)
        timings["control plane"] = time.monotonic() - started

        started = time.monotonic()
        self._registry()
        self._docker()
        timings["registry and docker"] = time.monotonic() - started
        return timings

    def _network(self) -> None:
        subprocess.run(["ip", "netns", "add", NETNS], check=True, capture_output=True)
        commands = [
            ["ip", "link", "set", "lo", "up"],
            # The node's own address: on one end of a veth pair that stays inside the namespace.
            ["ip", "link", "add", "node0", "type", "veth", "peer", "name", "node0-peer"],
            ["ip", "addr", "add", f"{NODE_IP}/32", "dev", "node0"],
            ["ip", "link", "set", "node0", "up"],
            ["ip", "link", "set", "node0-peer", "up"],
            # Service addresses from the node itself (a forwarder, the API server's webhooks): a route
            # is needed before kube-proxy's DNAT can rewrite them.
            ["ip", "route", "add", SERVICE_CIDR, "dev", "node0"],
            ["sysctl", "-qw", "net.ipv4.ip_forward=1"],
            # Services reached from pods through kube-proxy's DNAT to the node's own address.
            ["sysctl", "-qw", "net.ipv4.conf.all.route_localnet=1"],
        ]
        for command in commands:
            self.run_inside(*command)

    def _kubeconfigs(self, pki: Pki) -> None:
        inside = f"https://{NODE_IP}:{API_SERVER_PORT}"
        folder = self.layout.run / "kubeconfigs"
        folder.mkdir(parents=True, exist_ok=True)
        for user in ("admin", "controller-manager", "scheduler", "kubelet", "kube-proxy"):
            self.layout.component_kubeconfig(user).write_text(kubeconfig_text(pki, user, inside))
        self.layout.kubeconfig.write_text(kubeconfig_text(pki, "admin", f"https://127.0.0.1:{HOST_API_PORT}"))

    def _etcd(self, pki: Pki) -> None:
        bin_ = self.layout.bin
        process = self._start(
            "etcd",
            [
                str(bin_ / "etcd"),
                "--name=node",
                f"--data-dir={self.layout.run / 'etcd'}",
                "--listen-client-urls=https://127.0.0.1:2379",
                "--advertise-client-urls=https://127.0.0.1:2379",
                "--listen-peer-urls=http://127.0.0.1:2380",
                "--initial-advertise-peer-urls=http://127.0.0.1:2380",
                "--initial-cluster=node=http://127.0.0.1:2380",
                "--listen-metrics-urls=http://127.0.0.1:2381",
                f"--cert-file={pki.cert('etcd')}",
                f"--key-file={pki.key('etcd')}",
                f"--trusted-ca-file={pki.ca}",
                "--client-cert-auth=true",
                "--log-level=warn",
            ],
        )
        wait_for("etcd", lambda: self._port(2379), 60, process, self.layout.logs / "etcd.log")

    def _apiserver(self, pki: Pki) -> None:
        process = self._start(
            "kube-apiserver",
            [
                str(self.layout.bin / "kube-apiserver"),
                "--etcd-servers=https://127.0.0.1:2379",
                f"--etcd-cafile={pki.ca}",
                f"--etcd-certfile={pki.cert('apiserver-etcd-client')}",
                f"--etcd-keyfile={pki.key('apiserver-etcd-client')}",
                "--bind-address=0.0.0.0",
                f"--secure-port={API_SERVER_PORT}",
                f"--advertise-address={NODE_IP}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                f"--tls-cert-file={pki.cert('apiserver')}",
                f"--tls-private-key-file={pki.key('apiserver')}",
                f"--client-ca-file={pki.ca}",
                f"--kubelet-client-certificate={pki.cert('apiserver-kubelet-client')}",
                f"--kubelet-client-key={pki.key('apiserver-kubelet-client')}",
                f"--kubelet-certificate-authority={pki.ca}",
                f"--service-account-key-file={pki.folder / 'service-accounts.pub'}",
                f"--service-account-signing-key-file={pki.folder / 'service-accounts.key'}",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                "--authorization-mode=Node,RBAC",
                "--enable-admission-plugins=NodeRestriction",
                "--anonymous-auth=false",
                "--profiling=false",
                "--allow-privileged=true",
                "--kubelet-preferred-address-types=InternalIP",
            ],
        )
        wait_for(
            "kube-apiserver",
            lambda: self.admin_kubectl_result("get", "--raw=/readyz").returncode == 0,
            120,
            process,
            self.layout.logs / "kube-apiserver.log",
        )
        self._forward("apiserver-forward", HOST_API_PORT, NODE_IP, API_SERVER_PORT)

    def _controllers(self, pki: Pki) -> None:
        cm = self.layout.component_kubeconfig("controller-manager")
        self._start(
            "kube-controller-manager",
            [
                str(self.layout.bin / "kube-controller-manager"),
                f"--kubeconfig={cm}",
                f"--authentication-kubeconfig={cm}",
                f"--authorization-kubeconfig={cm}",
                f"--service-account-private-key-file={pki.folder / 'service-accounts.key'}",
                f"--root-ca-file={pki.ca}",
                f"--cluster-signing-cert-file={pki.ca}",
                f"--cluster-signing-key-file={pki.folder / 'ca.key'}",
                "--use-service-account-credentials=true",
                "--allocate-node-cidrs=true",
                f"--cluster-cidr={CLUSTER_CIDR}",
                "--node-cidr-mask-size=24",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                "--bind-address=127.0.0.1",
                "--leader-elect=false",
            ],
        )
        scheduler = self.layout.component_kubeconfig("scheduler")
        self._start(
            "kube-scheduler",
            [
                str(self.layout.bin / "kube-scheduler"),
                f"--kubeconfig={scheduler}",
                f"--authentication-kubeconfig={scheduler}",
                f"--authorization-kubeconfig={scheduler}",
                "--bind-address=127.0.0.1",
                "--leader-elect=false",
            ],
        )

    def _registry(self) -> None:
        storage = self.layout.cache / "registry"
        storage.mkdir(parents=True, exist_ok=True)
        config = self.layout.run / "registry.yml"
        config.write_text(
            yaml.safe_dump(
                {
                    "version": 0.1,
                    "log": {"level": "warn"},
                    "storage": {"filesystem": {"rootdirectory": str(storage)}},
                    "http": {"addr": REGISTRY},
                }
            )
        )
        process = self._start("registry", ["docker-registry", "serve", str(config)])
        wait_for("registry", lambda: self._port(5000), 30, process, self.layout.logs / "registry.log")

    def _docker(self) -> None:
        run = self.layout.run
        process = self._start(
            "dockerd",
            [
                "dockerd",
                f"--data-root={self.layout.cache / 'docker'}",
                f"--exec-root={run / 'docker-exec'}",
                f"--host={self.layout.docker_host}",
                f"--pidfile={run / 'docker.pid'}",
                "--bridge=none",
                "--iptables=false",
                "--ip6tables=false",
                "--ip-masq=false",
                "--storage-driver=overlay2",
            ],
        )
        wait_for(
            "dockerd",
            lambda: (
                subprocess.run(
                    ["docker", "-H", self.layout.docker_host, "info"], capture_output=True
                ).returncode
                == 0
            ),
            60,
            process,
            self.layout.logs / "dockerd.log",
        )

    def _s3(self) -> None:
        moto = shutil.which("moto_server", path=os.environ.get("AIRFLOW_STACK_TOOLS_BIN"))
        if moto is None:
            raise RuntimeError("moto_server is not installed (bash .ci/setup dev installs it into .venv-dev)")
        process = self._start("s3", [moto, "-H", NODE_IP, "-p", "9000"])
        wait_for(
            "s3 (moto)",
            lambda: (
                self.run_inside("bash", "-c", f"exec 3<>/dev/tcp/{NODE_IP}/9000", check=False).returncode == 0
            ),
            30,
            process,
            self.layout.logs / "s3.log",
        )
