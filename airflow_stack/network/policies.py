"""Who can reach what: the chart's NetworkPolicies, the Ingress of the api-server, and the policies
the program adds beside the chart's.

With ``networkPolicies.enabled`` the chart gives each of its components a policy of its own. Most
admit the release's pods (statsd, pgbouncer), or the one client that needs them (redis: scheduler and
Celery workers; triggerer and Celery workers: their log servers, from the api-server). The api-server's
policy admits nothing unless ``apiServer.networkPolicy.ingress.from`` lists peers; in Airflow 3 every
Celery worker and task pod calls the Execution API on it (``[core] execution_api_server_url``), so the
program admits the release's pods there, and the Ingress controller's namespace when an Ingress is on.

The program adds a namespace-wide default deny of ingress, so a pod the chart does not cover (the
bundled PostgreSQL, pods a DAG launches) is closed too; a policy that lets the release's pods reach the
bundled PostgreSQL; one that lets the api-server read live logs from task pods (the chart's worker
policy exists only with Celery); and, with monitoring, one that lets Prometheus scrape PgBouncer's
exporter (statsd's scrape door is the chart's ``statsd.extraNetworkPolicies``). Egress stays open: tasks
talk to the outside world by design.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from airflow_stack.secrets.credentials import MANAGED_LABELS, RELEASE_NAME
from airflow_stack.settings import StackSettings

__all__ = ["AirflowNetworkPolicies", "AirflowNetworkPoliciesArgs", "exposure_values"]

# Pods of the release, as the chart labels them (task pods of the Kubernetes executor included).
_RELEASE_PODS = {"podSelector": {"matchLabels": {"tier": "airflow", "release": RELEASE_NAME}}}
WORKER_LOGS_PORT = 8793  # the chart's ports.workerLogs: `airflow` serves a running task's log here
PGBOUNCER_METRICS_PORT = 9127  # the chart's ports.pgbouncerScrape
_TLS_SECRET = f"{RELEASE_NAME}-api-server-tls"


def _component(component: str) -> dict[str, Any]:
    return {"matchLabels": {"tier": "airflow", "component": component, "release": RELEASE_NAME}}


def _namespace(name: str) -> dict[str, Any]:
    """Every pod of one namespace, by the label Kubernetes gives each namespace (1.21+)."""
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}}}


def exposure_values(settings: StackSettings) -> dict[str, Any]:
    """The chart's NetworkPolicies, the statsd scrape from Prometheus' namespace, the api-server Ingress."""
    values: dict[str, Any] = {"networkPolicies": {"enabled": settings.network_policies}}
    ingress = settings.ingress
    if settings.network_policies:
        # The chart's default (`from: []`) renders a policy that admits no one.
        api_server_peers = [_RELEASE_PODS]
        if ingress.enabled:
            api_server_peers.append(_namespace(ingress.controller_namespace))
        values["apiServer"] = {"networkPolicy": {"ingress": {"from": api_server_peers}}}
    if settings.network_policies and settings.monitoring.mode != "off":
        values["statsd"] = {"extraNetworkPolicies": [_namespace(settings.monitoring.namespace)]}
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
    """The namespace's default deny of ingress, and the doors the chart's policies leave out."""

    def __init__(
        self, name: str, args: AirflowNetworkPoliciesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("airflow:components:AirflowNetworkPolicies", name, None, opts)
        settings = args.settings
        if settings.network_policies:
            self._policy(
                name, "default-deny-ingress", args.namespace, {"podSelector": {}, "policyTypes": ["Ingress"]}
            )
            self._policy(
                name,
                "task-logs",
                args.namespace,
                {
                    "podSelector": _component("worker"),
                    "policyTypes": ["Ingress"],
                    "ingress": [
                        {
                            "from": [{"podSelector": _component("api-server")}],
                            "ports": [{"protocol": "TCP", "port": WORKER_LOGS_PORT}],
                        }
                    ],
                },
            )
            if settings.database.pgbouncer.enabled and settings.monitoring.mode != "off":
                self._policy(
                    name,
                    "pgbouncer-metrics",
                    args.namespace,
                    {
                        "podSelector": _component("pgbouncer"),
                        "policyTypes": ["Ingress"],
                        "ingress": [
                            {
                                "from": [_namespace(settings.monitoring.namespace)],
                                "ports": [{"protocol": "TCP", "port": PGBOUNCER_METRICS_PORT}],
                            }
                        ],
                    },
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
