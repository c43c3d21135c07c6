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

from typing import Any

from components.kube import RELEASE_NAME
from components.network.settings import IngressSettings

__all__ = ["PGBOUNCER_METRICS_PORT", "WORKER_LOGS_PORT", "exposure_values", "program_policies"]

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


def exposure_values(
    *, enabled: bool, ingress: IngressSettings, prometheus_namespace: str | None
) -> dict[str, Any]:
    """The chart's NetworkPolicies, the statsd scrape from Prometheus' namespace, the api-server Ingress.

    ``prometheus_namespace`` is None where no Prometheus scrapes (monitoring off).
    """
    values: dict[str, Any] = {"networkPolicies": {"enabled": enabled}}
    if enabled:
        # The chart's default (`from: []`) renders a policy that admits no one.
        api_server_peers = [_RELEASE_PODS]
        if ingress.enabled:
            api_server_peers.append(_namespace(ingress.controller_namespace))
        values["apiServer"] = {"networkPolicy": {"ingress": {"from": api_server_peers}}}
    if enabled and prometheus_namespace is not None:
        values["statsd"] = {"extraNetworkPolicies": [_namespace(prometheus_namespace)]}
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


def program_policies(
    *, bundled_database: bool, pgbouncer: bool, prometheus_namespace: str | None
) -> dict[str, dict[str, Any]]:
    """The policies the program adds beside the chart's, by role: their specs."""
    policies: dict[str, dict[str, Any]] = {
        "default-deny-ingress": {"podSelector": {}, "policyTypes": ["Ingress"]},
        "task-logs": _ingress(
            {"podSelector": _component("worker")},
            [{"podSelector": _component("api-server")}],
            WORKER_LOGS_PORT,
        ),
    }
    if pgbouncer and prometheus_namespace is not None:
        policies["pgbouncer-metrics"] = _ingress(
            {"podSelector": _component("pgbouncer")},
            [_namespace(prometheus_namespace)],
            PGBOUNCER_METRICS_PORT,
        )
    if bundled_database:
        policies["postgresql"] = _ingress(
            {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "postgresql"}}}, [_RELEASE_PODS], 5432
        )
    return policies


def _ingress(target: dict[str, Any], peers: list[dict[str, Any]], port: int) -> dict[str, Any]:
    return {
        **target,
        "policyTypes": ["Ingress"],
        "ingress": [{"from": peers, "ports": [{"protocol": "TCP", "port": port}]}],
    }
