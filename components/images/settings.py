"""``airflow:images``: the images a stack runs, pinned by digest.

A tag is a name a registry may point elsewhere tomorrow (a re-pushed ``v0.30.0``, a compromised
account); a digest names the content. Each pin is the full reference a reviewer reads and Kubernetes
pulls, ``NAME:TAG@sha256:<64 hex digits>``: the tag says which version it is, the digest makes it that
one. An image left out runs by the tag chart 1.22.0 pins, and the render says which ones do.
"""

from __future__ import annotations

from components.model import ConfigModel, matching

__all__ = ["ImagePins", "PinnedReference", "split_pin"]

# What Kubernetes takes for an image name (ASCII, lowercase path components, an optional registry with a
# port), a tag, and a sha256 digest.
_PIN = (
    r"[a-z0-9]([-a-z0-9._]*[a-z0-9])?(:[0-9]{1,5})?(/[a-z0-9]([-a-z0-9._]*[a-z0-9])?)*"
    r":[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}@sha256:[0-9a-f]{64}"
)
PinnedReference = matching(
    _PIN,
    "the image's NAME:TAG, then @sha256: and its digest of 64 lowercase hex digits "
    "(docker buildx imagetools inspect NAME:TAG shows it)",
)


def split_pin(pin: str) -> tuple[str, str, str]:
    """``(name, tag, digest)`` of a validated pin."""
    reference, digest = pin.split("@", 1)
    name, tag = reference.rsplit(":", 1)
    return name, tag, digest


class ImagePins(ConfigModel):
    """One optional pin per image the chart runs. ``airflow`` is the stock Airflow image of the git and
    ConfigMap modes; delivery ``image`` runs the DAG image by the digest of its push instead, and its
    base is pinned where it is named, in ``dags/Dockerfile``."""

    airflow: PinnedReference | None = None
    statsd: PinnedReference | None = None
    pgbouncer: PinnedReference | None = None
    pgbouncer_exporter: PinnedReference | None = None
    redis: PinnedReference | None = None
    git_sync: PinnedReference | None = None
    postgresql: PinnedReference | None = None
