"""Helm release records as Kubernetes holds them, for the history's tests."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any


def helm_secret(
    revision: int,
    deployed: str,
    values: dict[str, Any],
    *,
    app_version: str = "3.2.2",
    status: str = "deployed",
) -> dict[str, Any]:
    """A ``helm.sh/release.v1`` Secret as ``kubectl get -o json`` shows it: Helm stores the release
    gzipped and base64-encoded, and the API base64-encodes Secret data once more."""
    release = {
        "name": "airflow",
        "version": revision,
        "info": {"status": status, "last_deployed": deployed},
        "chart": {"metadata": {"name": "airflow", "version": "1.22.0", "appVersion": app_version}},
        "config": values,
    }
    helm_encoded = base64.b64encode(gzip.compress(json.dumps(release).encode()))
    return {
        "type": "helm.sh/release.v1",
        "metadata": {"name": f"sh.helm.release.v1.airflow.v{revision}"},
        "data": {"release": base64.b64encode(helm_encoded).decode()},
    }


def update(
    version: int, start: str, end: str, *, commit: str | None = "a" * 40, **extra: Any
) -> dict[str, Any]:
    """One entry of ``pulumi stack history --json``."""
    environment = {} if commit is None else {"git.head": commit, "git.dirty": "false"}
    return {
        "version": version,
        "kind": "update",
        "result": "succeeded",
        "startTime": start,
        "endTime": end,
        "environment": environment,
        "message": "",
        **extra,
    }
