"""The stack as it would be deployed, with its real generated values: the program under mocks, then the
real chart rendered by ``helm template`` with the release's values.

Unlike the offline render, nothing here is hidden: the Secrets' values are what the pods would read. They
live only in memory and in the rehearsal's temporary folder.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from components.kube import RELEASE_NAME
from components.stack_file import stack_file_path
from tooling.offline.render import fill_missing_secrets, load_stack_config
from tooling.offline.runtime import Recording, reveal, run_program

__all__ = [
    "CHART",
    "KUBE_VERSION",
    "RenderedStack",
    "chart_path",
    "helm_binary",
    "helm_template",
    "render_stack",
    "run_helm",
]

_PROJECT = Path(__file__).resolve().parents[2]
CHART = Path(os.environ.get("AIRFLOW_CHART_DIR", _PROJECT.parent / "shared" / "airflow-chart-1.22.0"))
RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"
# The oldest Kubernetes the README supports: the chart picks API versions by it.
KUBE_VERSION = "1.30.0"


@dataclass(frozen=True)
class RenderedStack:
    namespace: str
    values: dict[str, Any]  # the Airflow release's values, as the program passes them
    secrets: dict[str, dict[str, str]]  # every Secret the program writes: name -> key -> value
    program_objects: list[dict[str, Any]]  # the program's own Kubernetes objects, values revealed
    chart_objects: list[dict[str, Any]]  # what the chart renders with those values

    def secret(self, name: str, key: str) -> str:
        return self.secrets[name][key]

    def chart_object(self, kind: str, name: str) -> dict[str, Any]:
        (found,) = [o for o in self.chart_objects if o["kind"] == kind and o["metadata"]["name"] == name]
        return found


def render_stack(
    stack: str,
    existing_secrets: dict[str, dict[str, str]],
    overrides: dict[str, str] | None = None,
    project: Path = _PROJECT,
    secret_overrides: dict[str, str] | None = None,
) -> RenderedStack:
    """Runs the program for ``stack``; ``existing_secrets`` are the operator's own Secrets by name (the
    metadata connection of an external database), as a read of them returns; ``overrides`` replace
    config entries (``airflow:fernet``: the next key generation), ``secret_overrides`` set secret ones
    as ``pulumi config set --secret`` would (``airflow:brokerUrl``)."""
    config, secret_keys = load_stack_config(stack_file_path(project, stack))
    config.update(overrides or {})
    config.update(secret_overrides or {})
    secret_keys = [*secret_keys, *(secret_overrides or {})]
    fill_missing_secrets(stack, config, secret_keys)
    recording = run_program(
        project / "__main__.py",
        stack=stack,
        config=config,
        secret_keys=secret_keys,
        existing_secrets=existing_secrets,
    )
    (release,) = [r for r in recording.of_type(RELEASE_TYPE) if r.inputs["name"] == RELEASE_NAME]
    inputs = reveal(release.inputs)
    return RenderedStack(
        namespace=inputs["namespace"],
        values=inputs["values"],
        secrets=_secrets(recording),
        program_objects=[
            reveal(r.inputs)
            for r in recording.registrations
            if r.custom and r.type.startswith("kubernetes:") and r.type != RELEASE_TYPE
        ],
        chart_objects=helm_template(inputs["values"], inputs["namespace"]),
    )


def _secrets(recording: Recording) -> dict[str, dict[str, str]]:
    found = {}
    for registration in recording.of_type("kubernetes:core/v1:Secret"):
        inputs = reveal(registration.inputs)
        data = {key: base64.b64decode(value).decode() for key, value in (inputs.get("data") or {}).items()}
        found[inputs["metadata"]["name"]] = {**data, **(inputs.get("stringData") or {})}
    return found


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
