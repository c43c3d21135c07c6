"""What a KubernetesExecutor task pod must be for the cluster to admit and run it as intended."""

from __future__ import annotations

from typing import Any

__all__ = ["dag_image", "pod_problems"]


def dag_image(values: dict[str, Any]) -> str:
    """The image a task pod must run: the release's Airflow image by digest where it has one, as the
    scheduler runs it (the program gives the executor ``TAG@DIGEST`` as its tag)."""
    image = values["images"]["airflow"]
    reference = f"{image['repository']}:{image['tag']}"
    return f"{reference}@{image['digest']}" if image.get("digest") else reference


def pod_problems(pod: dict[str, Any], image: str) -> list[str]:
    """What would keep a KubernetesExecutor task pod from starting under "restricted", or from running
    the DAG image."""
    spec = pod["spec"]
    pod_context = spec.get("securityContext") or {}
    problems = []
    if not pod_context.get("runAsNonRoot"):
        problems.append("pod securityContext.runAsNonRoot is not true")
    for container in [*spec.get("initContainers", []), *spec["containers"]]:
        context = container.get("securityContext") or {}
        seccomp = (context.get("seccompProfile") or pod_context.get("seccompProfile") or {}).get("type")
        if context.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{container['name']}: allowPrivilegeEscalation is not false")
        if "ALL" not in ((context.get("capabilities") or {}).get("drop") or []):
            problems.append(f"{container['name']}: capabilities do not drop ALL")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            problems.append(f"{container['name']}: no RuntimeDefault seccomp profile")
        resources = container.get("resources") or {}
        if not {"cpu", "memory"} <= set(resources.get("requests") or {}) or "memory" not in (
            resources.get("limits") or {}
        ):
            problems.append(f"{container['name']}: missing CPU/memory requests or a memory limit")
    base = next((c for c in spec["containers"] if c["name"] == "base"), None)
    config_volumes = {
        v["name"]
        for v in spec.get("volumes", [])
        if (v.get("configMap") or {}).get("name") == "airflow-config"
    }
    if base is None:
        problems.append("no container named base")
    elif not any(
        m["name"] in config_volumes and m["mountPath"] == "/opt/airflow/airflow.cfg"
        for m in base.get("volumeMounts", [])
    ):
        problems.append("base does not mount the rendered airflow.cfg (its execution_api_server_url)")
    elif base["image"] != image:
        problems.append(f"base runs {base['image']}, not the DAG image {image}")
    return problems
