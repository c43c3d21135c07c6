"""Every image the chart pulls, pinned by the digest the test registry gave it (``airflow:images``), as
a platform team pins the images it mirrors: the cluster then proves pods run by digest and stay Ready.

The pins keep the names chart 1.22.0 pulls; the registry mirror containerd uses for docker.io and
quay.io resolves them, by digest, to the images ``.ci/cluster-images`` pushed.
"""

from __future__ import annotations

import json
import os
import subprocess

__all__ = ["CHART_IMAGES", "registry_pins"]

# airflow:images role -> (the name the chart pulls, its tag, the name pushed to the registry). git-sync
# is left out: the local stack delivers DAGs in an image, and no git-sync image is built here.
CHART_IMAGES = {
    "statsd": ("quay.io/prometheus/statsd-exporter", "v0.30.0", "prometheus/statsd-exporter"),
    "pgbouncer": ("apache/airflow", "airflow-pgbouncer-2025.03.05-1.23.1", "apache/airflow"),
    "pgbouncerExporter": ("apache/airflow", "airflow-pgbouncer-exporter-2025.03.05-0.18.0", "apache/airflow"),
    "redis": ("redis", "7.2-bookworm", "library/redis"),
    "postgresql": ("docker.io/bitnamilegacy/postgresql", "16.1.0-debian-11-r15", "bitnamilegacy/postgresql"),
}


def registry_pins(docker_host: str, registry: str) -> dict[str, str]:
    """``role -> NAME:TAG@sha256:...`` from the digests the pushes recorded in the Docker engine."""
    pins = {}
    for role, (name, tag, pushed) in CHART_IMAGES.items():
        done = subprocess.run(
            ["docker", "image", "inspect", "--format", "{{json .RepoDigests}}", f"{registry}/{pushed}:{tag}"],
            capture_output=True, text=True, check=False, env=os.environ | {"DOCKER_HOST": docker_host},
        )  # fmt: skip
        recorded = json.loads(done.stdout) if done.returncode == 0 else []
        digests = [d.split("@", 1)[1] for d in recorded if d.startswith(f"{registry}/{pushed}@")]
        if done.returncode != 0 or not digests:
            raise RuntimeError(
                f"no digest of {registry}/{pushed}:{tag} in the Docker engine: {done.stderr.strip()}"
            )
        pins[role] = f"{name}:{tag}@{digests[0]}"
    return pins
