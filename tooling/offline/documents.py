"""What a render writes from a recorded program run: the release's document, the manifests of the
program's own Kubernetes objects, and the list of every resource. Pure: a Recording in, documents out."""

from __future__ import annotations

from typing import Any

from tooling.offline.runtime import Recording, Registration, is_secret, plain

__all__ = [
    "CONFIGMAP_TYPE",
    "IMAGE_TYPE",
    "PROMETHEUS_RULE_TYPE",
    "RELEASE_TYPE",
    "manifests",
    "release_document",
    "resources_document",
]


RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"
IMAGE_TYPE = "docker:index/image:Image"
CONFIGMAP_TYPE = "kubernetes:core/v1:ConfigMap"
PROMETHEUS_RULE_TYPE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"


def release_document(release: Registration) -> dict[str, Any]:
    """``releases/<name>.yaml``: the chart, its version and repository, the namespace and the values, as
    Helm gets them (secret values masked)."""
    inputs = plain(release.inputs)
    return {
        "chart": inputs["chart"],
        "version": inputs["version"],
        "repository": inputs["repositoryOpts"]["repo"],
        "namespace": inputs["namespace"],
        "values": inputs["values"],
    }


def manifests(recording: Recording) -> list[dict[str, Any]]:
    """The Kubernetes objects the program creates itself, as it would send them (secret values hidden)."""
    return [
        plain(r.inputs)
        for r in recording.registrations
        if r.custom and r.type.startswith("kubernetes:") and r.type != RELEASE_TYPE
    ]


def _label(urn: str) -> str | None:
    """``type::name`` from a URN (``urn:pulumi:stack::project::parent$type::name``); also names resources
    the program only reads, which are not registrations."""
    if not urn:
        return None
    _, _, types, name = urn.split("::", 3)
    type_ = types.rsplit("$", 1)[-1]
    return None if type_ == "pulumi:pulumi:Stack" else f"{type_}::{name}"


def resources_document(recording: Recording) -> list[dict[str, Any]]:
    """``resources.yaml``: every resource with its parent, dependencies, protection and which inputs are
    secret, so a review sees the graph ``up`` would build."""
    rows = []
    for r in recording.registrations:
        secret_inputs = {key for key, value in r.inputs.items() if is_secret(value)}
        rows.append(
            {
                "type": r.type,
                "name": r.name,
                "parent": _label(r.parent),
                "dependencies": sorted(filter(None, (_label(d) for d in r.dependencies))),
                "protect": r.protect,
                "secretOutputs": sorted(secret_inputs | set(r.secret_outputs)),
            }
        )
    return sorted(rows, key=lambda row: (row["type"], row["name"]))
