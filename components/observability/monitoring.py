"""Prometheus and Grafana for the stack: the Prometheus Operator objects, and optionally the stack itself.

``existing``: the ServiceMonitor (scrapes the chart's statsd-exporter), the PrometheusRule (the alerts
of ``alerts.py``) and one ConfigMap per dashboard, labelled for the Grafana sidecar. ``install`` adds a
pinned kube-prometheus-stack release in its own namespace, with Grafana's admin password generated and
kept like every other secret, and selects the objects above whatever their labels. ``off``: nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.kube import MANAGED_LABELS, RELEASE_NAME, ChartRef
from components.kube_objects import config_map, kubernetes_secret
from components.observability.alerts import alert_rules
from components.observability.dashboards import dashboards
from components.observability.settings import MonitoringSettings

__all__ = ["KUBE_PROMETHEUS_STACK", "Monitoring", "MonitoringArgs", "kube_prometheus_stack_values"]

KUBE_PROMETHEUS_STACK = ChartRef(
    name="kube-prometheus-stack",
    version="93.5.0",
    repository="https://prometheus-community.github.io/helm-charts",
)
MONITORING_RELEASE = "monitoring"
GRAFANA_ADMIN_SECRET = "grafana-admin"
# The chart's statsd Service: tier/component/release labels, the scrape port's name.
STATSD_SELECTOR = {"tier": "airflow", "component": "statsd", "release": RELEASE_NAME}
STATSD_PORT_NAME = "statsd-scrape"


def kube_prometheus_stack_values(monitoring: MonitoringSettings) -> dict[str, Any]:
    """Values for the installed stack: it selects every ServiceMonitor and rule in the cluster, and its
    Grafana sidecar loads labelled dashboard ConfigMaps from every namespace."""
    ((label, label_value),) = monitoring.dashboard_labels.items()
    return {
        "crds": {"enabled": True},
        # node-exporter needs host networking and PIDs (Pod Security "privileged"); Airflow's health
        # does not depend on it, and a cluster that wants node metrics has them already.
        "nodeExporter": {"enabled": False},
        "grafana": {
            "admin": {
                "existingSecret": GRAFANA_ADMIN_SECRET,
                "userKey": "admin-user",
                "passwordKey": "admin-password",
            },
            "resources": monitoring.grafana.resources.to_kubernetes(),
            "sidecar": {
                "dashboards": {
                    "enabled": True,
                    "label": label,
                    "labelValue": label_value,
                    "searchNamespace": "ALL",
                }
            },
        },
        "prometheus": {
            "prometheusSpec": {
                "serviceMonitorSelectorNilUsesHelmValues": False,
                "podMonitorSelectorNilUsesHelmValues": False,
                "ruleSelectorNilUsesHelmValues": False,
                "retention": "15d",
                "resources": monitoring.prometheus.resources.to_kubernetes(),
            }
        },
    }


@dataclass(frozen=True, kw_only=True)
class MonitoringArgs:
    """The monitoring settings, Airflow's namespace, and whether the cleanup CronJob runs (its alert then
    goes with the rules)."""

    monitoring: MonitoringSettings
    namespace: pulumi.Input[str]  # Airflow's: the ServiceMonitor, rules and dashboards live beside it
    database_cleanup: bool = True  # the chart's cleanup CronJob runs, so its alert goes with the rules


class Monitoring(pulumi.ComponentResource):
    """The ServiceMonitor, the alert rules and the Grafana dashboards, and with ``mode: install`` the
    kube-prometheus-stack release they are for: monitoring that ships with the stack instead of by hand."""

    grafana_admin_password: pulumi.Output[str] | None

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airflow:components:Monitoring", name, None, opts)
        self._name = name
        self.grafana_admin_password = None
        monitoring = args.monitoring
        if monitoring.mode == "off":
            self.register_outputs({})
            return
        wait_for: list[pulumi.Resource] = []
        # An installed Prometheus selects everything; an existing one selects by its labels.
        labels = dict(MANAGED_LABELS)
        if monitoring.mode == "install":
            wait_for.append(self._install(monitoring))
        else:
            labels |= monitoring.selector_labels
        after = pulumi.ResourceOptions(parent=self, depends_on=wait_for)
        self._custom(
            "servicemonitor",
            "ServiceMonitor",
            args.namespace,
            labels,
            {
                "selector": {"matchLabels": STATSD_SELECTOR},
                "endpoints": [{"port": STATSD_PORT_NAME, "interval": "30s", "path": "/metrics"}],
            },
            after,
        )
        rules = pulumi.Output.from_input(args.namespace).apply(
            lambda ns: {"groups": alert_rules(monitoring.alerts, ns, args.database_cleanup)}
        )
        self._custom("prometheusrule", "PrometheusRule", args.namespace, labels, rules, after)
        for file_name, model in dashboards().items():
            config_map(
                f"{name}-dashboard-{model['uid']}",
                name=f"{RELEASE_NAME}-{model['uid'].removeprefix('airflow-')}-dashboard",
                role="dashboard",
                namespace=args.namespace,
                data={file_name: json.dumps(model, sort_keys=True, indent=1)},
                opts=after,
                labels=monitoring.dashboard_labels,
            )
        self.register_outputs({"grafana_admin_password": self.grafana_admin_password})

    def _custom(
        self,
        role: str,
        kind: str,
        namespace: pulumi.Input[str],
        labels: dict[str, str],
        spec: pulumi.Input[dict[str, Any]],
        opts: pulumi.ResourceOptions,
    ) -> None:
        k8s.apiextensions.CustomResource(
            f"{self._name}-{role}",
            api_version="monitoring.coreos.com/v1",
            kind=kind,
            metadata=k8s.meta.v1.ObjectMetaArgs(name=RELEASE_NAME, namespace=namespace, labels=labels),
            spec=spec,
            opts=opts,
        )

    def _install(self, monitoring: MonitoringSettings) -> pulumi.Resource:
        """Namespace, Grafana's admin Secret and the pinned kube-prometheus-stack release."""
        child = pulumi.ResourceOptions(parent=self)
        namespace = k8s.core.v1.Namespace(
            f"{self._name}-monitoring-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=monitoring.namespace,
                # baseline, not restricted: Grafana's chart runs an init container that chowns its volume.
                labels=MANAGED_LABELS | {"pod-security.kubernetes.io/enforce": "baseline"},
            ),
            opts=child,
        )
        password = random.RandomPassword(
            f"{self._name}-grafana-admin-password", length=32, special=False, opts=child
        )
        self.grafana_admin_password = pulumi.Output.secret(password.result)
        secret = kubernetes_secret(
            f"{self._name}-grafana-admin",
            role="grafana-admin",
            secret_name=GRAFANA_ADMIN_SECRET,
            namespace=namespace.metadata.name,
            data={"admin-user": "admin", "admin-password": self.grafana_admin_password},
            opts=child,
        )
        return k8s.helm.v3.Release(
            f"{self._name}-monitoring-release",
            name=MONITORING_RELEASE,
            chart=KUBE_PROMETHEUS_STACK.name,
            version=KUBE_PROMETHEUS_STACK.version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=KUBE_PROMETHEUS_STACK.repository),
            namespace=namespace.metadata.name,
            values=kube_prometheus_stack_values(monitoring),
            timeout=900,
            max_history=10,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[secret]),
        )
