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

import json
import subprocess
import time
from pathlib import Path

import yaml

from tooling.cluster.control_plane import ControlPlane
from tooling.cluster.cri import cri_answers
from tooling.cluster.layout import (
    CLUSTER_CIDR,
    DNS_SERVICE_IP,
    NODE_IP,
    NODE_NAME,
    POD_CIDR,
    REGISTRY,
    wait_for,
)
from tooling.cluster.objects import cluster_objects
from tooling.cluster.pki import Pki

__all__ = ["Node"]


class Node(ControlPlane):
    """The control plane, then the kubelet side once the images are in the registry."""

    def start_workers(self) -> dict[str, float]:
        """The kubelet side, once the images (the pause image first) are in the registry."""
        timings: dict[str, float] = {}
        started = time.monotonic()
        pki = Pki(self.layout.run / "pki")
        self._containerd()
        kubelet = self._kubelet(pki)
        self._kube_proxy()
        self._coredns()
        self._s3()
        self._wait_node_ready(kubelet)
        # kube-router finds its node by name: only once the kubelet has registered it.
        self._network_policies()
        self._cluster_objects()
        timings["kubelet, proxy, DNS, policies"] = time.monotonic() - started
        return timings

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
        # Seen in CI: a kubelet started once the socket existed met "server is not initialized yet" and
        # exited. It starts only once the CRI answers.
        wait_for(
            "containerd's CRI",
            lambda: cri_answers(run / "containerd.sock"),
            90,
            process,
            self.layout.logs / "containerd.log",
        )

    def _kubelet(self, pki: Pki) -> subprocess.Popen:
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
        return self._start(
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

    def _wait_node_ready(self, kubelet: subprocess.Popen) -> None:
        def ready() -> bool:
            out = self.kubectl(
                "get", "node", NODE_NAME, "-o", "jsonpath={.status.conditions[?(@.type=='Ready')].status}"
            )
            return out.strip() == "True"

        def conditions() -> str:
            return "node conditions: " + self.kubectl(
                "get",
                "node",
                NODE_NAME,
                "-o",
                "jsonpath={range .status.conditions[*]}{.type}={.status} {.reason}: {.message}; {end}",
            )

        wait_for("node Ready", ready, 180, kubelet, self.layout.logs / "kubelet.log", conditions)

    def _cluster_objects(self) -> None:
        """What a kind or minikube cluster has and this one must be given: the DNS Service, a default
        StorageClass with volumes to bind, and the Prometheus Operator's CRDs."""
        objects = cluster_objects(self.layout.run / "volumes")
        manifest = self.layout.run / "cluster-objects.yaml"
        manifest.write_text(yaml.safe_dump_all(objects))
        self.kubectl("apply", "-f", str(manifest))
        crds = self.layout.bin / "prometheus-operator-crds"
        self.kubectl("apply", "--server-side", "-f", str(crds))
