"""The monitoring a cluster runs beside the stack, on the test cluster: the Prometheus Operator, built
from its module and run from the example RBAC and Deployment the module ships, and one Prometheus that
the operator runs (3.5.0, its default, built from Prometheus' module: Debian 12's 2.42 is built without
Kubernetes service discovery and refuses the configuration the operator writes).

The Prometheus selects ServiceMonitors and PrometheusRules by the labels ``airflow:monitoring``'s
``selectorLabels`` names and runs in the namespace its ``namespace`` names, as a cluster-wide
kube-prometheus-stack a user already runs would: the stack's objects are found, its statsd scrape crosses
the stack's own NetworkPolicies, and its rules are loaded through the operator, or a check says which
link is broken. ``PrometheusApi`` is Prometheus' HTTP API as the checks read it.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from components.config import raw_from_config
from components.observability.settings import MonitoringSettings
from components.stack_file import stack_file_path
from components.validation import parse_settings
from tooling.cluster.layout import wait_for
from tooling.cluster.node import Node
from tooling.offline.render import load_stack_config

__all__ = [
    "PROMETHEUS_IMAGE",
    "PROMETHEUS_VERSION",
    "ClusterPrometheus",
    "PrometheusApi",
    "prometheus_objects",
    "stack_monitoring",
]

NAME = "cluster-test"
# The operator's default release, named as the operator names it, so the mirror serves the image
# .ci/cluster-images pushed; spelled out, so an operator upgrade cannot change it unseen.
PROMETHEUS_VERSION = "v3.5.0"
PROMETHEUS_IMAGE = f"quay.io/prometheus/prometheus:{PROMETHEUS_VERSION}"
SERVICE = "cluster-test-prometheus"
PORT = 9090
HOST_PORT = 19090
# Faster than a production Prometheus, so alerts fire and resolve within the test's minutes; the scrape
# interval is the ServiceMonitor's own (30 s), never changed here.
EVALUATION_INTERVAL = "15s"
# A key of the test's own: the operator overwrites app.kubernetes.io/name with its selector labels (seen on
# the cluster: a Service selecting app.kubernetes.io/name=cluster-test-prometheus had no endpoint).
_POD_LABELS = {"airflow-stack.test/prometheus": NAME}


def stack_monitoring(project: Path, stack: str) -> MonitoringSettings:
    """``airflow:monitoring`` as the stack file sets it (defaults where it does not); a ConfigError
    naming the key, as the program's own, for a stack the program would refuse."""
    path = stack_file_path(project, stack)
    config, _ = load_stack_config(path)
    return parse_settings(raw_from_config(config), source=path.name, offline=True).monitoring


def prometheus_objects(monitoring: MonitoringSettings) -> list[dict[str, Any]]:
    """The Prometheus' namespace, service account (bound to the example's ClusterRole), the Prometheus
    object itself and a Service the test forwards a loopback port to."""
    namespace = monitoring.namespace
    selector = {"matchLabels": dict(monitoring.selector_labels)}
    meta = {"name": NAME, "namespace": namespace}
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": f"{NAME}-prometheus"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "prometheus"},
            "subjects": [{"kind": "ServiceAccount", "name": NAME, "namespace": namespace}],
        },
        {
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "Prometheus",
            "metadata": meta,
            "spec": {
                "image": PROMETHEUS_IMAGE,
                "version": PROMETHEUS_VERSION,
                "replicas": 1,
                "serviceAccountName": NAME,
                "podMetadata": {"labels": _POD_LABELS},
                # Every namespace, chosen by the labels the stack's objects carry.
                "serviceMonitorSelector": selector,
                "serviceMonitorNamespaceSelector": {},
                "ruleSelector": selector,
                "ruleNamespaceSelector": {},
                "evaluationInterval": EVALUATION_INTERVAL,
                "retention": "1d",
                "resources": {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"memory": "1Gi"}},
                "securityContext": {
                    "runAsNonRoot": True,
                    "runAsUser": 65534,
                    "runAsGroup": 65534,
                    "fsGroup": 65534,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": SERVICE, "namespace": namespace},
            "spec": {"selector": _POD_LABELS, "ports": [{"name": "web", "port": PORT, "targetPort": PORT}]},
        },
    ]


class PrometheusApi:
    """Prometheus' HTTP API (``/api/v1``): queries, rules, alerts and targets, as JSON."""

    def __init__(self, base: str) -> None:
        self.base = base

    def get(self, path: str, **params: str | float) -> Any:
        """``GET /api/v1/<path>``; its ``data``, or a RuntimeError with Prometheus' own error."""
        url = f"{self.base}/api/v1/{path}?{urllib.parse.urlencode(params)}"
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                text = response.read().decode(errors="replace")
        except urllib.error.HTTPError as err:
            text = err.read().decode(errors="replace")
        try:
            body = json.loads(text)
        except ValueError:
            raise RuntimeError(f"Prometheus {path}: not an API answer: {text[:200]!r}") from None
        if not isinstance(body, dict) or body.get("status") != "success":
            body = body if isinstance(body, dict) else {}
            raise RuntimeError(f"Prometheus {path}: {body.get('errorType')}: {body.get('error')}")
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """An instant query's series (a vector)."""
        return self.get("query", query=expr)["result"]

    def query_range(self, expr: str, seconds: float, step: float = 30) -> list[dict[str, Any]]:
        """A range query over the last ``seconds``, as a Grafana panel asks it; its series."""
        end = time.time()
        return self.get("query_range", query=expr, start=end - seconds, end=end, step=step)["result"]

    def label_values(self, label: str, match: str) -> list[str]:
        """Grafana's ``label_values(match, label)``: the values ``label`` takes on the series ``match``
        selects."""
        return self.get(f"label/{label}/values", **{"match[]": match})

    def alerts(self) -> list[dict[str, Any]]:
        """The active alerts: pending or firing, each with its labels."""
        return self.get("alerts")["alerts"]

    def rules(self) -> list[dict[str, Any]]:
        """Every alerting rule loaded, with its group and ``duration`` (its ``for``)."""
        groups = self.get("rules", type="alert")["groups"]
        return [rule | {"group": group["name"]} for group in groups for rule in group["rules"]]

    def targets(self) -> list[dict[str, Any]]:
        """The active scrape targets, with their health and last error."""
        return self.get("targets", state="active")["activeTargets"]


class ClusterPrometheus:
    """The operator and the Prometheus on the node: started early, reached once a check needs them."""

    def __init__(self, node: Node, monitoring: MonitoringSettings) -> None:
        self.node = node
        self.monitoring = monitoring
        self._api: PrometheusApi | None = None

    def start(self) -> None:
        """Applies the operator's example manifests and the Prometheus; does not wait for either."""
        layout = self.node.layout
        self.node.kubectl("apply", "-f", str(layout.bin / "prometheus-operator-example"))
        objects = prometheus_objects(self.monitoring)
        manifest = layout.run / "prometheus.yaml"
        manifest.write_text(yaml.safe_dump_all(objects))
        # The operator's CRDs are established (node.py applied them); the Prometheus waits for the operator.
        self.node.kubectl("apply", "-f", str(manifest))

    def api(self) -> PrometheusApi:
        """Prometheus' API on a loopback port, once it answers ready (at most 5 minutes)."""
        if self._api is None:
            url = self.node.forward_service(
                "prometheus-forward", HOST_PORT, self.monitoring.namespace, SERVICE, PORT
            )

            def ready() -> bool:
                with urllib.request.urlopen(f"{url}/-/ready", timeout=5) as response:
                    return response.status == 200

            wait_for("Prometheus (run by the operator)", ready, 300, explain=self._explain)
            self._api = PrometheusApi(url)
        return self._api

    def _explain(self) -> str:
        """Where the chain stopped: the operator's pod, the StatefulSet it made, the Prometheus pod."""
        return "; ".join(
            self.node.kubectl("get", "pods", "-n", ns, "-o", "wide", "--no-headers")
            .strip()
            .replace("\n", " | ")
            or f"no pod in {ns}"
            for ns in ("default", self.monitoring.namespace)
        )
