"""The flows Airflow 3.2 needs, judged by the NetworkPolicies the chart and the program would create.

Pods are the rendered workloads (their template labels), the KubernetesExecutor's task pod from the
``airflow-config`` ConfigMap, and three pods from outside: Prometheus in the monitoring namespace, an
Ingress controller in its namespace, and an intruder in a namespace of its own.
"""

from __future__ import annotations

import pytest

from tests.components.network.netpol import Pod, allowed, pods_of
from tests.conftest import Deployment

API_SERVER, WORKER_LOGS, TRIGGERER_LOGS = 8080, 8793, 8794
PGBOUNCER, POSTGRES, REDIS = 6543, 5432, 6379
STATSD_INGEST, STATSD_SCRAPE, PGBOUNCER_SCRAPE = 9125, 9102, 9127
TASK_POD = "task-pod"  # the KubernetesExecutor's pod template, labelled component=worker like Celery's
# Pods of the release that are services for Airflow rather than Airflow itself.
_SERVICES = {"statsd", "redis", "pgbouncer"}


def _pods(d: Deployment) -> list[Pod]:
    pods = pods_of(d.objects, d.namespace)
    if d.task_pod is not None:
        pods.append(Pod(TASK_POD, d.namespace, dict(d.task_pod["metadata"]["labels"])))
    return pods


def _component(pods: list[Pod], component: str) -> list[Pod]:
    return [p for p in pods if p.labels.get("component") == component]


def _outsiders(d: Deployment) -> dict[str, Pod]:
    return {
        "prometheus": Pod(
            "prometheus", d.settings.monitoring.namespace, {"app.kubernetes.io/name": "prometheus"}
        ),
        "ingress": Pod(
            "ingress-controller",
            d.settings.ingress.controller_namespace,
            {"app.kubernetes.io/name": "ingress-nginx"},
        ),
        "intruder": Pod("intruder", "intruder", {"tier": "airflow", "release": "airflow"}),
    }


def _needed(d: Deployment) -> list[tuple[Pod, Pod, int, str]]:
    """(source, target, port, protocol) of every flow this stack needs."""
    pods = _pods(d)
    outside = _outsiders(d)
    airflow = [
        p for p in pods if p.labels.get("tier") == "airflow" and p.labels.get("component") not in _SERVICES
    ]
    # The program's own Jobs (the Fernet rotation) run Airflow commands against the database too.
    airflow += [
        p
        for p in pods
        if p.name.startswith("Job/") and p.labels.get("app.kubernetes.io/managed-by") == "pulumi"
    ]
    workers = _component(pods, "worker")  # Celery workers and task pods alike
    (api_server,) = _component(pods, "api-server")
    flows = [(w, api_server, API_SERVER, "TCP") for w in workers]
    flows += [(api_server, w, WORKER_LOGS, "TCP") for w in workers]
    flows += [(api_server, t, TRIGGERER_LOGS, "TCP") for t in _component(pods, "triggerer")]
    bouncers = _component(pods, "pgbouncer")
    postgres = [p for p in pods if p.labels.get("app.kubernetes.io/name") == "postgresql"]
    database = [(b, PGBOUNCER) for b in bouncers] or [(p, POSTGRES) for p in postgres]
    flows += [(a, db, port, "TCP") for a in airflow for db, port in database]
    flows += [(b, p, POSTGRES, "TCP") for b in bouncers for p in postgres]
    celery_workers = [w for w in workers if w.name != TASK_POD]
    clients = _component(pods, "scheduler") + celery_workers
    flows += [(c, r, REDIS, "TCP") for c in clients for r in _component(pods, "redis")]
    flows += [(a, s, STATSD_INGEST, "UDP") for a in airflow for s in _component(pods, "statsd")]
    if d.settings.monitoring.mode != "off":
        flows += [(outside["prometheus"], s, STATSD_SCRAPE, "TCP") for s in _component(pods, "statsd")]
        flows += [(outside["prometheus"], b, PGBOUNCER_SCRAPE, "TCP") for b in bouncers]
    if d.settings.ingress.enabled:
        flows.append((outside["ingress"], api_server, API_SERVER, "TCP"))
    return flows


def _forbidden(d: Deployment) -> list[tuple[Pod, Pod, int, str]]:
    """What a pod of another namespace must not reach: the database, the broker, the log servers."""
    pods = _pods(d)
    intruder, prometheus = _outsiders(d)["intruder"], _outsiders(d)["prometheus"]
    targets = [(p, PGBOUNCER) for p in _component(pods, "pgbouncer")]
    targets += [(p, POSTGRES) for p in pods if p.labels.get("app.kubernetes.io/name") == "postgresql"]
    targets += [(p, REDIS) for p in _component(pods, "redis")]
    targets += [(p, WORKER_LOGS) for p in _component(pods, "worker")]
    targets += [(p, TRIGGERER_LOGS) for p in _component(pods, "triggerer")]
    # Prometheus may scrape, never connect to the database itself.
    return [(intruder, t, port, "TCP") for t, port in targets] + [
        (prometheus, t, port, "TCP") for t, port in targets if port in (PGBOUNCER, POSTGRES)
    ]


def _describe(flow: tuple[Pod, Pod, int, str]) -> str:
    source, target, port, protocol = flow
    return f"{source.namespace}/{source.name} -> {target.namespace}/{target.name} {port}/{protocol}"


def _allows(d: Deployment, flow: tuple[Pod, Pod, int, str]) -> bool:
    source, target, port, protocol = flow
    return allowed(d.of_kind("NetworkPolicy"), source, target, port, protocol)


def test_every_flow_airflow_needs_is_allowed(deployment: Deployment) -> None:
    needed = _needed(deployment)
    assert len(needed) >= 10
    assert [_describe(f) for f in needed if not _allows(deployment, f)] == []


def test_no_pod_of_another_namespace_reaches_the_database_broker_or_logs(deployment: Deployment) -> None:
    if not deployment.settings.network_policies:
        pytest.skip("network policies are off in this variant: every flow is open by choice")
    forbidden = _forbidden(deployment)
    assert forbidden
    assert [_describe(f) for f in forbidden if _allows(deployment, f)] == []


def test_policies_are_really_enforced_where_on(deployment: Deployment) -> None:
    """The check above means something only if the namespace denies by default."""
    policies = deployment.of_kind("NetworkPolicy")
    if deployment.settings.network_policies:
        outsider = Pod("nobody", deployment.namespace, {"app": "launched-by-a-dag"})
        assert not allowed(policies, _outsiders(deployment)["intruder"], outsider, 80)
    else:
        assert policies == []
