"""Kubernetes' own rules for a pod, applied to rendered objects: Pod Security "restricted" and the
resources every container must declare.

The Pod Security Standards are the ones the namespace enforces (``pod-security.kubernetes.io/enforce:
restricted``, https://kubernetes.io/docs/concepts/security/pod-security-standards/): the baseline
controls plus the restricted ones. A pod that breaks one is refused by the API server, so a rendered pod
template that breaks one is a deployment that would never start.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tooling.cluster.hardening import pod_containers

__all__ = ["containers", "pod_specs", "resource_problems", "restricted_problems"]

_WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job")
# Volume types "restricted" allows; anything else (hostPath above all) is refused.
_ALLOWED_VOLUMES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}
_SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}


def pod_specs(obj: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, pod spec) of every pod an object makes: workloads, CronJobs, bare pods."""
    where = f"{obj['kind']}/{obj['metadata']['name']}"
    if obj["kind"] in _WORKLOADS:
        yield where, obj["spec"]["template"]["spec"]
    elif obj["kind"] == "CronJob":
        yield where, obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    elif obj["kind"] == "Pod":
        yield where, obj["spec"]


# Every container of a pod spec (init, main, ephemeral): the cluster checks' own reading.
containers = pod_containers


def restricted_problems(where: str, spec: dict[str, Any]) -> list[str]:
    """Every Pod Security "restricted" control the pod spec breaks, one line each."""
    problems = []
    pod = spec.get("securityContext") or {}
    for host in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(host):
            problems.append(f"{where}: {host}")
    for volume in spec.get("volumes") or []:
        kind = next((k for k in volume if k != "name"), None)
        if kind not in _ALLOWED_VOLUMES:
            problems.append(f"{where}: volume {volume['name']} is {kind}")
    for sysctl in pod.get("sysctls") or []:
        if sysctl["name"] not in _SAFE_SYSCTLS:
            problems.append(f"{where}: sysctl {sysctl['name']}")
    if pod.get("runAsUser") == 0:
        problems.append(f"{where}: pod runAsUser 0")
    pod_non_root = pod.get("runAsNonRoot") is True
    pod_seccomp = (pod.get("seccompProfile") or {}).get("type")
    if pod_seccomp not in (None, "RuntimeDefault", "Localhost"):
        problems.append(f"{where}: pod seccompProfile {pod_seccomp}")
    for container in containers(spec):
        at = f"{where} container {container['name']}"
        context = container.get("securityContext") or {}
        if context.get("privileged"):
            problems.append(f"{at}: privileged")
        if context.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{at}: allowPrivilegeEscalation is not false")
        non_root = context.get("runAsNonRoot", pod_non_root if pod_non_root else None)
        if non_root is not True:
            problems.append(f"{at}: runAsNonRoot is not true (pod or container)")
        if context.get("runAsUser") == 0:
            problems.append(f"{at}: runAsUser 0")
        seccomp = (context.get("seccompProfile") or {}).get("type", pod_seccomp)
        if seccomp not in ("RuntimeDefault", "Localhost"):
            problems.append(f"{at}: seccompProfile is {seccomp or 'unset'} (pod or container)")
        capabilities = context.get("capabilities") or {}
        if "ALL" not in (capabilities.get("drop") or []):
            problems.append(f"{at}: capabilities do not drop ALL")
        if set(capabilities.get("add") or []) - {"NET_BIND_SERVICE"}:
            problems.append(f"{at}: adds capabilities {sorted(capabilities['add'])}")
        if any(port.get("hostPort") for port in container.get("ports") or []):
            problems.append(f"{at}: hostPort")
        if context.get("procMount", "Default") != "Default":
            problems.append(f"{at}: procMount {context['procMount']}")
    return problems


def resource_problems(where: str, spec: dict[str, Any]) -> list[str]:
    """Containers without CPU and memory requests or without a memory limit."""
    problems = []
    for container in containers(spec):
        resources = container.get("resources") or {}
        requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
        missing = [f"requests.{r}" for r in ("cpu", "memory") if not requests.get(r)]
        missing += [] if limits.get("memory") else ["limits.memory"]
        if missing:
            problems.append(f"{where} container {container['name']}: no {', '.join(missing)}")
    return problems
