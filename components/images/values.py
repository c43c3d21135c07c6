"""The chart's share of ``airflow:images``: each pin where chart 1.22.0 reads that image.

The chart builds most references as ``repository:tag``, so a pin's tag is given as ``TAG@sha256:...``
(Kubernetes pulls ``name:tag@digest`` by the digest). The Airflow image has a ``digest`` of its own,
which the chart prefers over the tag. The bundled PostgreSQL (a Bitnami subchart) takes registry,
repository and digest apart.
"""

from __future__ import annotations

from typing import Any

from components.images.settings import ImagePins, split_pin

__all__ = ["pinned_image_values"]

# Pins the chart reads under `images.<key>` as repository and tag.
_CHART_IMAGES = {
    "statsd": "statsd",
    "pgbouncer": "pgbouncer",
    "pgbouncer_exporter": "pgbouncerExporter",
    "redis": "redis",
    "git_sync": "gitSync",
}


def pinned_image_values(pins: ImagePins) -> dict[str, Any]:
    """Values for every pinned image; an image without a pin keeps the chart's own values."""
    images: dict[str, Any] = {}
    if pins.airflow is not None:
        name, tag, digest = split_pin(pins.airflow)
        images["airflow"] = {"repository": name, "tag": tag, "digest": digest}
    for role, key in _CHART_IMAGES.items():
        pin = getattr(pins, role)
        if pin is not None:
            name, tag, digest = split_pin(pin)
            images[key] = {"repository": name, "tag": f"{tag}@{digest}"}
    values: dict[str, Any] = {"images": images} if images else {}
    if pins.postgresql is not None:
        name, tag, digest = split_pin(pins.postgresql)
        registry, _, repository = name.partition("/")
        if "." not in registry and ":" not in registry and registry != "localhost":
            registry, repository = "docker.io", name  # Docker Hub's short form: bitnamilegacy/postgresql
        values["postgresql"] = {
            "image": {"registry": registry, "repository": repository, "tag": tag, "digest": digest}
        }
    return values
