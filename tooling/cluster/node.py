"""A single-node Kubernetes 1.34 on this machine, inside a network namespace of its own.

Everything with an address lives in the namespace ``airflow-stack``: etcd, the control plane, the
kubelet and containerd, kube-proxy, CoreDNS, the NetworkPolicy enforcer (kube-router's firewall), the
image registry, the Docker engine that builds images, and an S3 endpoint (moto) for task logs. The
pods' bridge and the node's address are inside it too. From the machine's own network only loopback
ports lead in, through forwarders (socat) the node starts: the API server's (KUBECONFIG) and, once
deployed, Airflow's REST API. ``down`` stops every process, unmounts every volume and deletes the
namespace, so nothing is left running or mounted.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from tooling.cluster.pki import Pki, make_pki

__all__ = ["Node", "NodeLayout"]

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
        return self.run / "kubeconfigs" / f"{name}.yaml"


def _kubeconfig(pki: Pki, user: str, server: str) -> str:
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


def _wait(
    what: str, ready, timeout: float, process: subprocess.Popen | None = None, log: Path | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            tail = log.read_text(errors="replace")[-1500:] if log and log.exists() else ""
            raise RuntimeError(f"{what} exited with {process.returncode}: {tail}")
        with contextlib.suppress(Exception):
            if ready():
                return
        time.sleep(0.5)
    raise RuntimeError(f"{what} not ready after {timeout:.0f} s")


def _port_open(host: str, port: int) -> bool:
    with socket.create_connection((host, port), timeout=1):
        return True


def in_netns(command: Sequence[str]) -> list[str]:
    return [*_NSENTER, *command]


class Node:
    def __init__(self, layout: NodeLayout) -> None:
        self.layout = layout
        self._pids: list[dict] = []

    # -- processes ------------------------------------------------------------------------------

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

    def run_inside(self, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        """``command`` run to its end inside the node's network namespace, its output captured."""
        return subprocess.run(in_netns(command), check=check, capture_output=True, text=True)

    def _port(self, port: int) -> bool:
        probe = self.run_inside("bash", "-c", f"exec 3<>/dev/tcp/127.0.0.1/{port}", check=False)
        return probe.returncode == 0

    # -- up -------------------------------------------------------------------------------------

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

    def start_workers(self) -> dict[str, float]:
        """The kubelet side, once the images (the pause image first) are in the registry."""
        timings: dict[str, float] = {}
        started = time.monotonic()
        pki = Pki(self.layout.run / "pki")
        self._containerd()
        self._kubelet(pki)
        self._kube_proxy()
        self._coredns()
        self._s3()
        self._wait_node_ready()
        # kube-router finds its node by name: only once the kubelet has registered it.
        self._network_policies()
        self._cluster_objects()
        timings["kubelet, proxy, DNS, policies"] = time.monotonic() - started
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
            self.layout.component_kubeconfig(user).write_text(_kubeconfig(pki, user, inside))
        self.layout.kubeconfig.write_text(_kubeconfig(pki, "admin", f"https://127.0.0.1:{HOST_API_PORT}"))

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
        _wait("etcd", lambda: self._port(2379), 60, process, self.layout.logs / "etcd.log")

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
        admin = self.layout.component_kubeconfig("admin")
        _wait(
            "kube-apiserver",
            lambda: self.kubectl_result(admin, "get", "--raw=/readyz").returncode == 0,
            120,
            process,
            self.layout.logs / "kube-apiserver.log",
        )
        self._forward("apiserver-forward", HOST_API_PORT, NODE_IP, API_SERVER_PORT)

    def kubectl_result(self, kubeconfig: Path, *args: str) -> subprocess.CompletedProcess:
        """kubectl with ``kubeconfig`` inside the namespace; the caller reads its exit code."""
        return self.run_inside(
            str(self.layout.bin / "kubectl"), f"--kubeconfig={kubeconfig}", *args, check=False
        )

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
        _wait(name, lambda: _port_open("127.0.0.1", host_port), 20, process)

    def forward_service(self, name: str, host_port: int, namespace: str, service: str, port: int) -> str:
        cluster_ip = self.kubectl(
            "get", "service", "-n", namespace, service, "-o", "jsonpath={.spec.clusterIP}"
        )
        self._forward(name, host_port, cluster_ip.strip(), port)
        return f"http://127.0.0.1:{host_port}"

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
        _wait("registry", lambda: self._port(5000), 30, process, self.layout.logs / "registry.log")

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
        _wait(
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

    def _containerd(self) -> None:
        run = self.layout.run
        certs = run / "containerd" / "certs.d"
        # The chart's and the program's image names resolve to the loopback registry.
        for host in ("docker.io", "quay.io", "registry.k8s.io", "localhost:5000", REGISTRY):
            (certs / host).mkdir(parents=True, exist_ok=True)
            (certs / host / "hosts.toml").write_text(
                f'server = "http://{REGISTRY}"\n\n'
                f'[host."http://{REGISTRY}"]\n  capabilities = ["pull", "resolve"]\n'
            )
        cni = run / "cni" / "net.d"
        cni.mkdir(parents=True, exist_ok=True)
        (cni / "10-airflow-stack.conflist").write_text(
            json.dumps(
                {
                    "cniVersion": "0.4.0",
                    "name": "airflow-stack",
                    "plugins": [
                        {
                            "type": "bridge",
                            "bridge": "cni0",
                            "isGateway": True,
                            "ipMasq": False,
                            "hairpinMode": True,
                            "ipam": {
                                "type": "host-local",
                                "ranges": [[{"subnet": POD_CIDR}]],
                                "routes": [{"dst": "0.0.0.0/0"}],
                                "dataDir": str(run / "cni" / "ipam"),
                            },
                        },
                        {"type": "portmap", "capabilities": {"portMappings": True}},
                    ],
                }
            )
        )
        config = run / "containerd.toml"
        config.write_text(
            f"""version = 2
root = "{self.layout.cache / "containerd"}"
state = "{run / "containerd-state"}"
[grpc]
  address = "{run / "containerd.sock"}"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.10"
  # runc cannot set a negative oom_score_adj here (no CAP_SYS_RESOURCE): clamp instead of failing.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "{cni}"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "{certs}"
"""
        )
        # containerd mounts each pod's network namespace under /run/netns (cni-*); the ones there before
        # it started are not ours to remove.
        (run / "netns-before.json").write_text(
            json.dumps(sorted(p.name for p in Path("/run/netns").glob("cni-*")))
        )
        process = self._start("containerd", ["containerd", f"--config={config}"])
        _wait(
            "containerd",
            lambda: (run / "containerd.sock").exists(),
            30,
            process,
            self.layout.logs / "containerd.log",
        )

    def _kubelet(self, pki: Pki) -> None:
        run = self.layout.run
        (run / "resolv.conf").write_text(f"nameserver {NODE_IP}\n")
        config = run / "kubelet.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "kubelet.config.k8s.io/v1beta1",
                    "kind": "KubeletConfiguration",
                    "address": NODE_IP,
                    "authentication": {
                        "anonymous": {"enabled": False},
                        "webhook": {"enabled": True},
                        "x509": {"clientCAFile": str(pki.ca)},
                    },
                    "authorization": {"mode": "Webhook"},
                    "cgroupDriver": "cgroupfs",
                    "failCgroupV1": False,
                    "clusterDNS": [DNS_SERVICE_IP],
                    "clusterDomain": "cluster.local",
                    "containerRuntimeEndpoint": f"unix://{run / 'containerd.sock'}",
                    "failSwapOn": False,
                    "oomScoreAdj": 0,
                    "readOnlyPort": 0,
                    "healthzBindAddress": "127.0.0.1",
                    "resolvConf": str(run / "resolv.conf"),
                    "tlsCertFile": str(pki.cert("kubelet-serving")),
                    "tlsPrivateKeyFile": str(pki.key("kubelet-serving")),
                    "serializeImagePulls": False,
                    "imageGCHighThresholdPercent": 100,
                    "imageGCLowThresholdPercent": 99,
                    "evictionHard": {
                        "memory.available": "100Mi",
                        "nodefs.available": "1%",
                        "imagefs.available": "1%",
                        "nodefs.inodesFree": "1%",
                    },
                    "protectKernelDefaults": False,
                    "maxPods": 60,
                }
            )
        )
        self._start(
            "kubelet",
            [
                str(self.layout.bin / "kubelet"),
                f"--config={config}",
                f"--kubeconfig={self.layout.component_kubeconfig('kubelet')}",
                f"--root-dir={run / 'kubelet'}",
                f"--hostname-override={NODE_NAME}",
                f"--node-ip={NODE_IP}",
                f"--cert-dir={run / 'kubelet-pki'}",
            ],
        )

    def _kube_proxy(self) -> None:
        config = self.layout.run / "kube-proxy.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
                    "kind": "KubeProxyConfiguration",
                    "clientConnection": {"kubeconfig": str(self.layout.component_kubeconfig("kube-proxy"))},
                    "hostnameOverride": NODE_NAME,
                    "clusterCIDR": CLUSTER_CIDR,
                    "mode": "iptables",
                    # The namespace's conntrack sysctls are the kernel's: leave them as they are.
                    "conntrack": {
                        "maxPerCore": 0,
                        "tcpEstablishedTimeout": "0s",
                        "tcpCloseWaitTimeout": "0s",
                    },
                    "metricsBindAddress": "127.0.0.1:10249",
                    "healthzBindAddress": "127.0.0.1:10256",
                }
            )
        )
        self._start("kube-proxy", [str(self.layout.bin / "kube-proxy"), f"--config={config}"])

    def _coredns(self) -> None:
        corefile = self.layout.run / "Corefile"
        corefile.write_text(
            f""".:53 {{
    bind {NODE_IP}
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {{
        kubeconfig {self.layout.component_kubeconfig("admin")}
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }}
    cache 5
}}
"""
        )
        self._start("coredns", [str(self.layout.bin / "coredns"), "-conf", str(corefile)])

    def _network_policies(self) -> None:
        self._start(
            "kube-router",
            [
                str(self.layout.bin / "kube-router"),
                f"--kubeconfig={self.layout.component_kubeconfig('admin')}",
                "--run-firewall=true",
                "--run-router=false",
                "--run-service-proxy=false",
                "--enable-cni=false",
                f"--hostname-override={NODE_NAME}",
                "--metrics-port=0",
                "--health-port=20244",
            ],
        )

    def _s3(self) -> None:
        moto = shutil.which("moto_server", path=os.environ.get("AIRFLOW_STACK_TOOLS_BIN"))
        if moto is None:
            raise RuntimeError("moto_server is not installed (bash .ci/setup dev installs it into .venv-dev)")
        process = self._start("s3", [moto, "-H", NODE_IP, "-p", "9000"])
        _wait(
            "s3 (moto)",
            lambda: (
                self.run_inside("bash", "-c", f"exec 3<>/dev/tcp/{NODE_IP}/9000", check=False).returncode == 0
            ),
            30,
            process,
            self.layout.logs / "s3.log",
        )

    def _wait_node_ready(self) -> None:
        def ready() -> bool:
            out = self.kubectl(
                "get", "node", NODE_NAME, "-o", "jsonpath={.status.conditions[?(@.type=='Ready')].status}"
            )
            return out.strip() == "True"

        _wait("node Ready", ready, 180)

    def _cluster_objects(self) -> None:
        """What a kind or minikube cluster has and this one must be given: the DNS Service, a default
        StorageClass with volumes to bind, and the Prometheus Operator's CRDs."""
        volumes = self.layout.run / "volumes"
        objects: list[dict] = [
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {
                    "name": "kube-dns",
                    "namespace": "kube-system",
                    "labels": {"k8s-app": "kube-dns"},
                },
                "spec": {
                    "clusterIP": DNS_SERVICE_IP,
                    "ports": [
                        {"name": "dns", "port": 53, "protocol": "UDP"},
                        {"name": "dns-tcp", "port": 53, "protocol": "TCP"},
                    ],
                },
            },
            {
                "apiVersion": "v1",
                "kind": "Endpoints",
                "metadata": {"name": "kube-dns", "namespace": "kube-system"},
                "subsets": [
                    {
                        "addresses": [{"ip": NODE_IP}],
                        "ports": [
                            {"name": "dns", "port": 53, "protocol": "UDP"},
                            {"name": "dns-tcp", "port": 53, "protocol": "TCP"},
                        ],
                    }
                ],
            },
            {
                "apiVersion": "storage.k8s.io/v1",
                "kind": "StorageClass",
                "metadata": {
                    "name": "local",
                    "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
                },
                "provisioner": "kubernetes.io/no-provisioner",
                "volumeBindingMode": "Immediate",
                "reclaimPolicy": "Delete",
            },
        ]
        for index in range(6):
            path = volumes / f"pv{index}"
            path.mkdir(parents=True, exist_ok=True)
            path.chmod(0o1777)
            objects.append(
                {
                    "apiVersion": "v1",
                    "kind": "PersistentVolume",
                    "metadata": {"name": f"local-pv{index}"},
                    "spec": {
                        "capacity": {"storage": "10Gi"},
                        "accessModes": ["ReadWriteOnce"],
                        "storageClassName": "local",
                        "persistentVolumeReclaimPolicy": "Retain",
                        "hostPath": {"path": str(path), "type": "Directory"},
                    },
                }
            )
        manifest = self.layout.run / "cluster-objects.yaml"
        manifest.write_text(yaml.safe_dump_all(objects))
        self.kubectl("apply", "-f", str(manifest))
        crds = self.layout.bin / "prometheus-operator-crds"
        self.kubectl("apply", "--server-side", "-f", str(crds))

    def kubectl(self, *args: str) -> str:
        done = self.kubectl_result(self.layout.component_kubeconfig("admin"), *args)
        if done.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args[:3])}: {done.stderr.strip()[-800:]}")
        return done.stdout

    # -- down -----------------------------------------------------------------------------------

    @staticmethod
    def down(layout: NodeLayout) -> list[str]:
        """Stops everything ``up`` started, pods included; returns what could not be cleaned."""
        problems: list[str] = []
        processes = []
        if layout.state.exists():
            processes = json.loads(layout.state.read_text())["processes"]
        # The kubelet first, so it restarts nothing; then the pods; then the rest, newest first.
        order = sorted(processes, key=lambda p: p["name"] != "kubelet")
        for entry in order:
            if entry["name"] == "kubelet":
                _stop(entry["pid"])
        _kill_cgroup_tree("kubepods")
        _stop_all([entry["pid"] for entry in reversed(processes)])
        _kill_netns_processes()
        for mount in _mounts_under([layout.run, layout.cache / "containerd", layout.cache / "docker"]):
            if subprocess.run(["umount", "-l", mount], capture_output=True).returncode != 0:
                problems.append(f"could not unmount {mount}")
        # The pods' own network namespaces, which containerd would have removed with each sandbox.
        for name in _pod_network_namespaces(layout.run / "netns-before.json"):
            subprocess.run(["ip", "netns", "del", name], capture_output=True)
        subprocess.run(["ip", "netns", "del", NETNS], capture_output=True)
        if Path(f"/run/netns/{NETNS}").exists():
            problems.append(f"network namespace {NETNS} is still there")
        return problems


def _alive(pid: int) -> bool:
    """Whether ``pid`` still runs; a child of this process that has exited is reaped, and a zombie of
    another's counts as gone."""
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    with contextlib.suppress(OSError, IndexError):
        if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stop(pid: int, grace: float = 10) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def _stop_all(pids: list[int], grace: float = 10) -> None:
    """SIGTERM to every process group at once, SIGKILL to what is left after ``grace`` seconds."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)


def _cgroup_dirs(name: str) -> Iterator[Path]:
    """Every cgroup under ``name`` in each hierarchy, deepest first; ones removed meanwhile are skipped."""
    for hierarchy in Path("/sys/fs/cgroup").iterdir():
        root = hierarchy / name
        for folder, _, _ in os.walk(root, topdown=False, onerror=lambda _: None):
            yield Path(folder)


def _pod_network_namespaces(before: Path) -> list[str]:
    """The pods' network namespaces under /run/netns: made since our containerd started (``before``
    lists what was there) and with no process left in them."""
    if not before.exists():
        return []
    existing = set(json.loads(before.read_text()))
    in_use = set()
    for proc in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if proc.name.isdigit():
                in_use.add((proc / "ns" / "net").stat().st_ino)
    names = []
    for mount in Path("/run/netns").glob("cni-*"):
        with contextlib.suppress(OSError):
            if mount.name not in existing and mount.stat().st_ino not in in_use:
                names.append(mount.name)
    return sorted(names)


def _kill_cgroup_tree(name: str) -> None:
    """Every process of every pod (kubelet puts them all under ``/kubepods``), then the cgroups."""
    for _ in range(3):
        for directory in _cgroup_dirs(name):
            procs = directory / "cgroup.procs"
            with contextlib.suppress(OSError):
                for pid in procs.read_text().split():
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(int(pid), signal.SIGKILL)
        time.sleep(0.5)
    for directory in _cgroup_dirs(name):
        with contextlib.suppress(OSError):
            directory.rmdir()


def _kill_netns_processes() -> None:
    """Anything still living in the namespace (a container shim, a forwarder's child)."""
    path = Path(f"/run/netns/{NETNS}")
    if not path.exists():
        return
    target = path.stat().st_ino
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if (proc / "ns" / "net").stat().st_ino == target:
                os.kill(int(proc.name), signal.SIGKILL)


def _mounts_under(folders: Sequence[Path]) -> list[str]:
    prefixes = [str(folder.resolve()) + "/" for folder in folders]
    mounts = []
    for line in Path("/proc/self/mounts").read_text().splitlines():
        point = line.split()[1].replace("\\040", " ")
        if any(point.startswith(prefix) for prefix in prefixes):
            mounts.append(point)
    return sorted(set(mounts), key=len, reverse=True)
