"""The processes of the rendered pods, with exactly the local rewrites a rehearsal needs.

A container's process is its rendered ``command``/``args`` and ``env``, with ``secretKeyRef`` and
``configMapKeyRef`` resolved against the program's Secrets and the chart's ConfigMaps. What changes,
and nothing else (``Rewrites.describe`` lists it in the report):

- a Service's ``host:port`` (any of its DNS forms) becomes ``127.0.0.1:<local port>``;
- paths of the image (``/opt/airflow``: home, DAG folder, pod template) become paths in the temporary
  folder, and the DAG folder is this project's ``dags/`` as the DAG image would hold it;
- where a server listens (api-server, log servers, StatsD) moves to a free loopback port;
- the task-log connection to S3 gains moto's endpoint and throwaway keys (IRSA has no local twin).
"""

from __future__ import annotations

import configparser
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tooling.rehearsal.stack import RenderedStack

__all__ = [
    "Process",
    "Rewrites",
    "container_process",
    "local_airflow_cfg",
    "object_process",
    "program_config_map_files",
    "s3_connection",
]

IMAGE_HOME = "/opt/airflow"


@dataclass(frozen=True)
class Process:
    """A pod's container as a process here: its arguments, environment and the files it needs."""

    name: str
    args: list[str]
    env: dict[str, str]
    grace_seconds: int | None


@dataclass
class Rewrites:
    """Service ports mapped to loopback ports, the local home, and every rewrite made (for the report)."""

    namespace: str
    home: Path
    dags: Path
    services: dict[tuple[str, int], int]  # (Service name, port) -> local port
    listen: dict[str, str] = field(default_factory=dict)  # airflow.cfg "section.key" -> local value
    extra_env: dict[str, str] = field(default_factory=dict)
    made: set[str] = field(default_factory=set)

    def text(self, value: str) -> str:
        """``value`` with every Service address of the cluster replaced by the local one."""
        for (service, port), local in self.services.items():
            pattern = (
                rf"\b{re.escape(service)}(\.{re.escape(self.namespace)}(\.svc(\.cluster\.local)?)?)?:{port}\b"
            )
            value, count = re.subn(pattern, f"127.0.0.1:{local}", value)
            if count:
                self.made.add(f"{service}:{port} -> 127.0.0.1:{local}")
        if IMAGE_HOME in value:
            self.made.add(f"{IMAGE_HOME} -> {self.home}")
            value = value.replace(f"{IMAGE_HOME}/dags", str(self.dags)).replace(IMAGE_HOME, str(self.home))
        return value

    def describe(self) -> list[str]:
        """Every rewrite made, for the report: nothing changed silently."""
        return sorted(self.made)


def container_process(
    stack: RenderedStack, kind: str, workload: str, container: str, rewrites: Rewrites
) -> Process:
    """The process of one container of a Deployment, StatefulSet or Job the chart rendered."""
    return object_process(stack, stack.chart_object(kind, workload), container, rewrites)


def object_process(stack: RenderedStack, obj: dict[str, Any], container: str, rewrites: Rewrites) -> Process:
    """The process of one container of a workload object, the chart's or the program's."""
    spec = obj["spec"]["template"]["spec"]
    (found,) = [c for c in [*spec.get("initContainers", []), *spec["containers"]] if c["name"] == container]
    args = [*(found.get("command") or []), *(found.get("args") or [])]
    env = {item["name"]: rewrites.text(_env_value(stack, item)) for item in found.get("env", [])}
    env = {**env, **rewrites.extra_env}
    return Process(
        name=container,
        args=[_expand(arg, env) for arg in args],
        env=env,
        grace_seconds=spec.get("terminationGracePeriodSeconds"),
    )


def program_config_map_files(
    stack: RenderedStack, obj: dict[str, Any], rewrites: Rewrites
) -> dict[Path, str]:
    """The files the first container of ``obj`` sees from ConfigMap volumes of the program's own (the
    chart's ConfigMaps are read by key instead), at their local paths: what a kubelet would mount."""
    spec = obj["spec"]["template"]["spec"]
    config_maps = {o["metadata"]["name"]: o for o in stack.program_objects if o["kind"] == "ConfigMap"}
    volumes = {v["name"]: v["configMap"] for v in spec.get("volumes", []) if "configMap" in v}
    files = {}
    for mount in spec["containers"][0].get("volumeMounts", []):
        source = volumes.get(mount["name"])
        if source is None or source["name"] not in config_maps:
            continue
        data = config_maps[source["name"]]["data"]
        items = source.get("items") or [{"key": key, "path": key} for key in data]
        folder = Path(rewrites.text(mount["mountPath"]))
        files |= {folder / item["path"]: data[item["key"]] for item in items}
    return files


def _env_value(stack: RenderedStack, item: dict[str, Any]) -> str:
    if "value" in item:
        return str(item["value"])
    source = item["valueFrom"]
    if "secretKeyRef" in source:
        ref = source["secretKeyRef"]
        return stack.secret(ref["name"], ref["key"])
    if "configMapKeyRef" in source:
        ref = source["configMapKeyRef"]
        return stack.chart_object("ConfigMap", ref["name"])["data"][ref["key"]]
    if source.get("fieldRef", {}).get("fieldPath") == "metadata.namespace":
        return stack.namespace
    raise ValueError(f"env {item['name']}: valueFrom {sorted(source)} is not resolved by the rehearsal")


def _expand(arg: str, env: dict[str, str]) -> str:
    """Kubernetes' ``$(VAR)`` expansion of command and args."""
    return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env.get(m[1], m[0]), arg)


def local_airflow_cfg(stack: RenderedStack, rewrites: Rewrites) -> str:
    """The chart's ``airflow.cfg`` with host names, image paths and listening ports made local."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(stack.chart_object("ConfigMap", "airflow-config")["data"]["airflow.cfg"])
    for section in parser.sections():
        for key, value in parser.items(section):
            parser.set(section, key, rewrites.text(value))
    for dotted, value in rewrites.listen.items():
        section, key = dotted.split(".", 1)
        if not parser.has_section(section):
            parser.add_section(section)
        before = parser.get(section, key, fallback=None)
        parser.set(section, key, value)
        rewrites.made.add(f"[{section}] {key}: {before if before is not None else '(default)'} -> {value}")
    out = io.StringIO()
    parser.write(out)
    return out.getvalue()


def s3_connection(original: str, endpoint: str) -> str:
    """The task-log AWS connection, pointed at moto (a rewrite listed in the report by its caller)."""
    connection = json.loads(original)
    connection.setdefault("extra", {})["endpoint_url"] = endpoint
    connection["login"], connection["password"] = "rehearsal", "rehearsal"
    return json.dumps(connection)
