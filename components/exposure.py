"""Who can reach what: the chart's NetworkPolicies, the Ingress of the api-server, and the policies
the program adds beside the chart's.

With ``networkPolicies.enabled`` the chart gives each of its components a policy that admits only its
own release's pods (statsd, redis, workers' log servers, pgbouncer) and leaves the api-server open on
its port. The program adds a namespace-wide default deny of ingress, so a pod the chart does not
cover (the bundled PostgreSQL, pods a DAG launches) is closed too, and one policy that lets the
release's pods reach the bundled PostgreSQL. Prometheus, from its own namespace, may scrape statsd.
Egress stays open: tasks talk to the outside world by design.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.secrets import MANAGED_LABELS, RELEASE_NAME
from components.settings import StackSettings

__all__ = ["AirflowNetworkPolicies", "AirflowNetworkPoliciesArgs", "exposure_values"]

# Pods of the release, as the chart labels them.
_RELEASE_PODS = {"podSelector": {"matchLabels": {"tier": "airflow", "release": RELEASE_NAME}}}
_TLS_SECRET = f"{RELEASE_NAME}-api-server-tls"


def exposure_values(settings: StackSettings) -> dict[str, Any]:
    """The chart's NetworkPolicies, the statsd scrape from Prometheus' namespace, the api-server Ingress."""
    values: dict[str, Any] = {"networkPolicies": {"enabled": settings.network_policies}}
    if settings.network_policies and settings.monitoring.mode != "off":
        prometheus = {"kubernetes.io/metadata.name": settings.monitoring.namespace}
        values["statsd"] = {"extraNetworkPolicies": [{"namespaceSelector": {"matchLabels": prometheus}}]}
    ingress = settings.ingress
    if ingress.enabled:
        annotations = (
            {"cert-manager.io/cluster-issuer": ingress.cluster_issuer} if ingress.cluster_issuer else {}
        )
        values["ingress"] = {
            "apiServer": {
                "enabled": True,
                "ingressClassName": ingress.class_name,
                "annotations": annotations,
                "hosts": [
                    {
                        "name": ingress.host,
                        "tls": {"enabled": True, "secretName": ingress.tls_secret_name or _TLS_SECRET},
                    }
                ],
            }
        }
    return values


@dataclass(frozen=True, kw_only=True)
class AirflowNetworkPoliciesArgs:
    settings: StackSettings
    namespace: pulumi.Input[str]


class AirflowNetworkPolicies(pulumi.ComponentResource):
    """The namespace's default deny of ingress, and the one door the chart's policies leave out."""

    def __init__(
        self, name: str, args: AirflowNetworkPoliciesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("airflow:components:AirflowNetworkPolicies", name, None, opts)
        settings = args.settings
        if settings.network_policies:
            self._policy(
                name, "default-deny-ingress", args.namespace, {"podSelector": {}, "policyTypes": ["Ingress"]}
            )
            if settings.database.mode == "bundled":
                self._policy(
                    name,
                    "postgresql",
                    args.namespace,
                    {
                        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "postgresql"}},
                        "policyTypes": ["Ingress"],
                        "ingress": [{"from": [_RELEASE_PODS], "ports": [{"protocol": "TCP", "port": 5432}]}],
                    },
                )
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
