"""A namespaced Role bound to one service account: the only RBAC shape the program creates."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from airflow_stack.kube import MANAGED_LABELS

__all__ = ["Rule", "bound_role"]


@dataclass(frozen=True)
class Rule:
    resource: str  # in the core API group: pods, pods/log, pods/exec, events
    verbs: tuple[str, ...]


def bound_role(
    resource_name: str,
    *,
    role_name: str,
    namespace: pulumi.Input[str],
    service_account: str,
    rules: tuple[Rule, ...],
    opts: pulumi.ResourceOptions,
) -> tuple[k8s.rbac.v1.Role, k8s.rbac.v1.RoleBinding]:
    """``role_name`` names the Role and its RoleBinding in the namespace; ``resource_name`` the two
    Pulumi resources (their types tell them apart)."""
    metadata = k8s.meta.v1.ObjectMetaArgs(name=role_name, namespace=namespace, labels=MANAGED_LABELS)
    role = k8s.rbac.v1.Role(
        resource_name,
        metadata=metadata,
        rules=[
            k8s.rbac.v1.PolicyRuleArgs(api_groups=[""], resources=[rule.resource], verbs=list(rule.verbs))
            for rule in rules
        ],
        opts=opts,
    )
    binding = k8s.rbac.v1.RoleBinding(
        resource_name,
        metadata=metadata,
        role_ref=k8s.rbac.v1.RoleRefArgs(api_group="rbac.authorization.k8s.io", kind="Role", name=role_name),
        subjects=[k8s.rbac.v1.SubjectArgs(kind="ServiceAccount", name=service_account, namespace=namespace)],
        opts=opts,
    )
    return role, binding
