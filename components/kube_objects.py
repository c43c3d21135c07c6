"""The plain Kubernetes objects the program creates in several places (ConfigMaps, Secrets), labelled
one way."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from components.kube import MANAGED_LABELS

__all__ = ["config_map", "kubernetes_secret"]


def config_map(
    resource_name: str,
    *,
    name: str,
    role: str,
    namespace: pulumi.Input[str],
    data: dict[str, str],
    opts: pulumi.ResourceOptions,
    labels: dict[str, str] | None = None,
) -> k8s.core.v1.ConfigMap:
    """A ConfigMap of public data (never a credential: that goes through ``kubernetes_secret``), with
    the program's labels, its ``role`` as component, and any ``labels`` a consumer selects it by."""
    return k8s.core.v1.ConfigMap(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=name,
            namespace=namespace,
            labels=MANAGED_LABELS | {"app.kubernetes.io/component": role} | (labels or {}),
        ),
        data=data,
        opts=opts,
    )


def kubernetes_secret(
    resource_name: str,
    *,
    role: str,
    secret_name: str,
    namespace: pulumi.Input[str],
    data: dict[str, pulumi.Input[str]],
    opts: pulumi.ResourceOptions,
    type_: str = "Opaque",
) -> k8s.core.v1.Secret:
    """A Secret whose every value is a Pulumi secret, so no value reaches state or a diff in plain text."""
    return k8s.core.v1.Secret(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=secret_name,
            namespace=namespace,
            labels=MANAGED_LABELS | {"app.kubernetes.io/component": role},
        ),
        type=type_,
        string_data={key: pulumi.Output.secret(value) for key, value in data.items()},
        opts=opts,
    )
