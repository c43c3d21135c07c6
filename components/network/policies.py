"""The NetworkPolicies the program adds beside the chart's (their specs: ``values.program_policies``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.kube import MANAGED_LABELS, RELEASE_NAME
from components.network.values import program_policies

__all__ = ["AirflowNetworkPolicies", "AirflowNetworkPoliciesArgs"]


@dataclass(frozen=True, kw_only=True)
class AirflowNetworkPoliciesArgs:
    """Whether policies are on, and the three facts of the stack that decide which doors to open."""

    namespace: pulumi.Input[str]
    enabled: bool  # airflow:networkPolicies; off, the program adds none either
    bundled_database: bool
    pgbouncer: bool
    prometheus_namespace: str | None  # None without monitoring


class AirflowNetworkPolicies(pulumi.ComponentResource):
    """The namespace's default deny of ingress, and the doors the chart's policies leave out."""

    def __init__(
        self, name: str, args: AirflowNetworkPoliciesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("airflow:components:AirflowNetworkPolicies", name, None, opts)
        if args.enabled:
            policies = program_policies(
                bundled_database=args.bundled_database,
                pgbouncer=args.pgbouncer,
                prometheus_namespace=args.prometheus_namespace,
            )
            for role, spec in policies.items():
                self._policy(name, role, args.namespace, spec)
        self.register_outputs({})

    def _policy(self, name: str, role: str, namespace: pulumi.Input[str], spec: dict[str, Any]) -> None:
        k8s.networking.v1.NetworkPolicy(
            f"{name}-{role}",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=f"{RELEASE_NAME}-{role}",
                namespace=namespace,
                labels=MANAGED_LABELS | {"app.kubernetes.io/component": role},
            ),
            spec=spec,
            opts=pulumi.ResourceOptions(parent=self),
        )
