"""The Helm release of the official Airflow chart, pinned in one place."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.broker.settings import REDIS_CA_FILE
from components.broker.values import REDIS_CA_CONFIGMAP
from components.kube import RELEASE_NAME, ChartRef
from components.kube_objects import config_map
from components.release.pod_roles import PodRoles, PodRolesArgs
from components.release.settings import CHART_NAME, CHART_VERSION, ChartSettings

__all__ = ["CHART", "AirflowRelease", "AirflowReleaseArgs", "chart_source", "release_service"]


CHART = ChartRef(name=CHART_NAME, version=CHART_VERSION, repository="https://airflow.apache.org")


def chart_source(settings: ChartSettings) -> dict[str, Any]:
    """The Release's chart arguments: the repository's chart, or the stack's tarball of the same chart
    (checked to be it), which Helm loads as it is."""
    if settings.tarball is not None:
        return {"chart": settings.tarball}
    return {
        "chart": CHART.name,
        "version": CHART.version,
        "repository_opts": k8s.helm.v3.RepositoryOptsArgs(repo=CHART.repository),
    }


@dataclass(frozen=True, kw_only=True)
class AirflowReleaseArgs:
    """What the release is made of: the chart, its values (built from the whole stack in ``stack.py``),
    its timeout, the pod Roles to exist first, and the resources its values name."""

    namespace: pulumi.Input[str]
    chart: ChartSettings
    values: dict[str, Any]  # values.build_helm_values: Secret names, never a secret value
    helm_timeout_seconds: int
    pod_roles: PodRolesArgs
    redis_ca_certificate: str | None  # an external Redis's CA, which the release's volumes name
    # What the chart reads by name or pulls (Secrets, the DAG ConfigMap and image): the release waits
    # for them so no pod or hook starts first.
    named_by_values: Sequence[pulumi.Resource] = field(default_factory=tuple)


class AirflowRelease(pulumi.ComponentResource):
    """One ``helm.v3.Release`` of ``apache-airflow/airflow``.

    A Release rather than ``helm.v4.Chart`` because the chart's migration and create-user Jobs are Helm
    hooks: Helm runs them exactly once per install or upgrade, fails the release when one fails, and an
    ``up`` that changes no value runs no upgrade and so no migration. ``skip_await`` is on because Helm
    runs post-install hooks only after ``--wait`` has seen every pod ready, while the pods wait in
    ``wait-for-airflow-migrations`` for that very hook: waiting would deadlock until the timeout.
    """

    values: dict[str, Any]
    release: k8s.helm.v3.Release
    api_server_service: pulumi.Output[str]
    api_server_url: pulumi.Output[str]

    def __init__(
        self, name: str, args: AirflowReleaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("airflow:components:AirflowRelease", name, None, opts)
        self.values = args.values
        # In place of the chart's pod-launcher Role, which it is told not to create; before the release,
        # so no scheduler or worker starts without its rights.
        roles = PodRoles(name, args.pod_roles, pulumi.ResourceOptions(parent=self))
        before_pods: list[pulumi.Resource] = [roles]
        ca = args.redis_ca_certificate
        if ca is not None:  # the external Redis's CA, which the release's volumes name
            before_pods.append(
                config_map(
                    f"{name}-redis-ca",
                    name=REDIS_CA_CONFIGMAP,
                    role="broker",
                    namespace=args.namespace,
                    data={PurePosixPath(REDIS_CA_FILE).name: ca},
                    opts=pulumi.ResourceOptions(parent=self),
                )
            )
        self.release = k8s.helm.v3.Release(
            f"{name}-release",
            name=RELEASE_NAME,
            **chart_source(args.chart),
            namespace=args.namespace,
            values=self.values,
            skip_await=True,
            timeout=args.helm_timeout_seconds,
            max_history=10,
            cleanup_on_fail=False,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*args.named_by_values, *before_pods]),
        )
        service_and_url = pulumi.Output.from_input(args.namespace).apply(release_service)
        self.api_server_service = service_and_url.apply(lambda pair: pair[0])
        self.api_server_url = service_and_url.apply(lambda pair: pair[1])
        self.register_outputs(
            {"api_server_service": self.api_server_service, "api_server_url": self.api_server_url}
        )


def release_service(namespace: str) -> tuple[str, str]:
    """The api-server Service the chart creates, and its in-cluster URL."""
    service = f"{RELEASE_NAME}-api-server"
    return service, f"http://{service}.{namespace}.svc.cluster.local:8080"
