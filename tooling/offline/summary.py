"""The few lines a render prints about a stack: its release and chart, its executor and footprint, its
broker, its DAG delivery and its monitoring, so a reviewer sees the shape without opening a file."""

from __future__ import annotations

from typing import Any

from components.dags.values import GIT_BUNDLE_CLASS
from components.kube import RELEASE_NAME
from components.quantity import format_cores
from tooling.offline.documents import (
    CONFIGMAP_TYPE,
    IMAGE_TYPE,
    PROMETHEUS_RULE_TYPE,
    RELEASE_TYPE,
    release_document,
)
from tooling.offline.footprint import total, workloads
from tooling.offline.runtime import Recording, is_secret

__all__ = ["stack_summary"]


def stack_summary(stack: str, recording: Recording) -> str:
    """The summary lines of one render."""
    lines = []
    for release in recording.of_type(RELEASE_TYPE):
        doc = release_document(release)
        values = doc["values"]
        if release.inputs["name"] != RELEASE_NAME:
            continue
        lines += [
            f"stack {stack}: release {release.inputs['name']} = chart {doc['chart']} {doc['version']} "
            f"({doc['repository']}) in namespace {doc['namespace']}",
            f"executor: {values['executor']}",
        ]
        found = workloads(values)
        lines.append("workloads (replicas x requests per pod):")
        for w in found:
            lines.append(
                f"  {w.name:<14} {w.replicas} x cpu {format_cores(w.cpu):>6}  memory {w.memory // 2**20:>5}Mi"
                f"  (memory limit {w.memory_limit // 2**20}Mi)"
            )
        cpu, memory, limit = total(found)
        lines.append(
            f"total requests: cpu {format_cores(cpu)}, memory {memory // 2**20}Mi "
            f"(memory limits {limit // 2**20}Mi)"
        )
        if "CeleryExecutor" in values["executor"]:
            lines.append(_broker_summary(recording, values))
        lines.append(_image_summary(values))
    lines.append(_dag_summary(recording))
    lines.append(_monitoring_summary(recording))
    secrets = sorted(r.inputs["metadata"]["name"] for r in recording.of_type("kubernetes:core/v1:Secret"))
    lines.append(f"secrets by name (values [secret]): {', '.join(secrets)}")
    protected = sorted(f"{r.name}" for r in recording.registrations if r.protect)
    lines.append(
        f"resources: {len(recording.registrations)} registered; protected: {', '.join(protected) or 'none'}"
    )
    return "\n".join(lines)


def _image_summary(values: dict[str, Any]) -> str:
    """Which images the release runs by tag rather than by digest (airflow:images pins them)."""
    images = values.get("images", {})

    def by_tag(key: str) -> bool:
        return "@" not in str(images.get(key, {}).get("tag", ""))

    running = {
        "airflow": images.get("airflow", {}).get("digest") is None,
        "statsd": values.get("statsd", {}).get("enabled", True) and by_tag("statsd"),
        "pgbouncer": values.get("pgbouncer", {}).get("enabled", False) and by_tag("pgbouncer"),
        "pgbouncerExporter": values.get("pgbouncer", {}).get("enabled", False)
        and by_tag("pgbouncerExporter"),
        "redis": "CeleryExecutor" in values["executor"]
        and values.get("redis", {}).get("enabled", True)
        and by_tag("redis"),
        "gitSync": values.get("dags", {}).get("gitSync", {}).get("enabled", False) and by_tag("gitSync"),
        "postgresql": values.get("postgresql", {}).get("enabled", True)
        and not values.get("postgresql", {}).get("image", {}).get("digest"),
    }
    unpinned = [role for role, tagged in running.items() if tagged]
    if not unpinned:
        return "images: every one by digest"
    return f"images by tag, not digest (pin them in airflow:images): {', '.join(unpinned)}"


def _broker_summary(recording: Recording, values: dict[str, Any]) -> str:
    """Which Redis Celery uses; of an external one's URL only whether it is TLS, never the URL."""
    if values["redis"]["enabled"]:
        return (
            "broker: the chart's Redis, 1 pod without probes (chart 1.22.0 has none); see airflow:redis.mode"
        )
    name = values["data"]["brokerUrlSecretName"]
    (secret,) = [
        r for r in recording.of_type("kubernetes:core/v1:Secret") if r.inputs["metadata"]["name"] == name
    ]
    data = secret.inputs["stringData"]
    tls = str((data["value"] if is_secret(data) else data)["connection"]).startswith("rediss://")
    transport = "over TLS, server certificate and name checked" if tls else "without TLS (redis://)"
    ca_maps = [v["configMap"]["name"] for v in values.get("volumes", []) if v["name"] == "redis-ca"]
    ca = f", CA from ConfigMap {ca_maps[0]}" if ca_maps else ""
    return f"broker: external Redis {transport}{ca}; URL in Secret {name}"


def _monitoring_summary(recording: Recording) -> str:
    rules = recording.of_type(PROMETHEUS_RULE_TYPE)
    if not rules:
        return "monitoring: off"
    alerts = [rule["alert"] for group in rules[0].inputs["spec"]["groups"] for rule in group["rules"]]
    boards = [
        r for r in recording.of_type(CONFIGMAP_TYPE) if r.inputs["metadata"]["name"].endswith("-dashboard")
    ]
    installed = [
        f"{doc['chart']} {doc['version']} in namespace {doc['namespace']}"
        for doc in map(release_document, recording.of_type(RELEASE_TYPE))
        if doc["chart"] != "airflow"
    ]
    where = f"installs {installed[0]}" if installed else "uses the cluster's Prometheus Operator"
    return f"monitoring: {where}; ServiceMonitor, {len(alerts)} alerts, {len(boards)} dashboards"


def _dag_summary(recording: Recording) -> str:
    for image in recording.of_type(IMAGE_TYPE):
        context = image.inputs["build"]["context"]
        return f"dags: image {image.inputs['imageName']} (tag = content hash of {context}/)"
    for configmap in recording.of_component(CONFIGMAP_TYPE, "dags"):
        data = configmap.inputs.get("data") or {}
        size = sum(len(key.encode()) + len(str(value).encode()) for key, value in data.items())
        name = configmap.inputs["metadata"]["name"]
        return f"dags: configmap {name} ({len(data)} files, {size} bytes of 1 MiB)"
    for release in recording.of_type(RELEASE_TYPE):
        values = release.inputs["values"]
        sync = values.get("dags", {}).get("gitSync", {})
        if sync.get("enabled"):
            return (
                f"dags: git-sync {sync['repo']} ref {sync['ref']} path {sync['subPath']} "
                f"every {sync['period']}"
            )
        for bundle in values.get("dagProcessor", {}).get("dagBundleConfigList", []):
            if bundle["classpath"] == GIT_BUNDLE_CLASS:
                kwargs = bundle["kwargs"]
                return (
                    f"dags: git-bundle {bundle['name']} {kwargs['repo_url']} ref {kwargs['tracking_ref']} "
                    f"path {kwargs.get('subdir', '.')} every {int(kwargs['refresh_interval'])}s "
                    "(versioned: a run keeps its commit)"
                )
    return "dags: none"
