"""The stack's namespace, labelled so Kubernetes enforces Pod Security "restricted" on every pod."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.kube import MANAGED_LABELS

__all__ = ["POD_SECURITY_LABELS", "AirflowNamespace", "AirflowNamespaceArgs"]

# enforce rejects a non-compliant pod; audit and warn report it in the audit log and to kubectl.
POD_SECURITY_LABELS = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/enforce-version": "latest",
    "pod-security.kubernetes.io/audit": "restricted",
    "pod-security.kubernetes.io/warn": "restricted",
}


@dataclass(frozen=True, kw_only=True)
class AirflowNamespaceArgs:
    """The namespace's name, and whether it is protected (a namespace deleted takes every volume with it)."""

    name: str
    protect: bool


class AirflowNamespace(pulumi.ComponentResource):
    """Owns the namespace; protected where stateful resources are, since deleting it deletes them all."""

    name: pulumi.Output[str]

    def __init__(
        self, name: str, args: AirflowNamespaceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("airflow:components:AirflowNamespace", name, None, opts)
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.name,
                labels=MANAGED_LABELS | POD_SECURITY_LABELS,
            ),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        self.name = namespace.metadata.name
        self.register_outputs({"name": self.name})
