"""The pinned Airflow chart and the pinned ``helm``: what the tests, the rehearsal and the real-cluster
test render or install, so all three judge the same chart the same way."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from components.kube import RELEASE_NAME

__all__ = [
    "CHART",
    "KUBE_VERSION",
    "chart_path",
    "helm_binary",
    "helm_template",
    "in_release_namespace",
    "run_helm",
]

# Objects that live outside any namespace: Helm leaves them as they are.
_CLUSTER_SCOPED = frozenset(
    {"Namespace", "ClusterRole", "ClusterRoleBinding", "StorageClass", "PriorityClass"}
)

_PROJECT = Path(__file__).resolve().parents[1]
CHART = Path(os.environ.get("AIRFLOW_CHART_DIR", _PROJECT.parent / "shared" / "airflow-chart-1.22.0"))


# The oldest Kubernetes the README supports: the chart picks API versions by it.
KUBE_VERSION = "1.30.0"


def chart_path() -> Path:
    """The pinned chart: the tarball beside values.yaml, or the folder ``.ci/chart`` unpacked (CI)."""
    tarball = CHART / "airflow-1.22.0.tgz"
    return tarball if tarball.is_file() else CHART


def helm_binary() -> str:
    """The helm ``.ci/helm`` installed beside this Python (.venv-dev), else one on PATH."""
    pinned = Path(sys.prefix) / "bin" / "helm"
    found = str(pinned) if pinned.exists() else shutil.which("helm")
    if found is None:
        raise RuntimeError(
            "helm not found: run 'bash .ci/setup dev' (it installs the pinned helm into .venv-dev/bin)"
        )
    return found


def run_helm(
    command: str, values: dict[str, Any], namespace: str, *extra: str, release: str = RELEASE_NAME
) -> subprocess.CompletedProcess[str]:
    """``helm <command> <release> <chart> --values ...`` (``template`` or ``install``); the values file
    is removed at once."""
    with tempfile.NamedTemporaryFile("w", suffix=".json") as values_file:
        json.dump(values, values_file)
        values_file.flush()
        return subprocess.run(
            [helm_binary(), command, release, str(chart_path()), "--namespace", namespace,
             "--values", values_file.name, *extra],
            capture_output=True, text=True, check=False,
        )  # fmt: skip


def helm_template(
    values: dict[str, Any], namespace: str, release: str = RELEASE_NAME
) -> list[dict[str, Any]]:
    """The objects the pinned chart renders with ``values``."""
    result = run_helm("template", values, namespace, "--kube-version", KUBE_VERSION, release=release)
    if result.returncode != 0:
        raise RuntimeError(f"helm template failed: {result.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def in_release_namespace(objects: Iterable[dict[str, Any]], namespace: str) -> list[dict[str, Any]]:
    """The chart's objects as ``helm install`` creates them: namespaced ones in the release's namespace."""
    placed = []
    for obj in objects:
        if obj["kind"] not in _CLUSTER_SCOPED:
            obj = {**obj, "metadata": {"namespace": namespace, **obj.get("metadata", {})}}
        placed.append(obj)
    return placed
