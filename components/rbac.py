"""A namespaced Role bound to one service account, the only RBAC shape the program creates; and what an
account may do given rendered RBAC objects."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.kube import MANAGED_LABELS

__all__ = ["Rule", "account_rights", "bound_role"]


@dataclass(frozen=True)
class Rule:
    """Verbs on one core-API resource: the unit in which pod rights are granted, and checked, per account."""

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


def account_rights(objects: list[dict[str, Any]], namespace: str, account: str) -> set[tuple[str, str]]:
    """(resource, verb) pairs the service account ``namespace/account`` holds through the
    (Cluster)RoleBindings among ``objects`` (rendered manifests), as the API server's RBAC authorizer
    would grant them; resources of other API groups than the core one are spelled ``jobs.batch``."""
    roles = {(o["kind"], o["metadata"]["name"]): o for o in objects if o["kind"] in ("Role", "ClusterRole")}
    rights: set[tuple[str, str]] = set()
    for binding in objects:
        if binding["kind"] not in ("RoleBinding", "ClusterRoleBinding"):
            continue
        if not any(
            s["kind"] == "ServiceAccount" and s["name"] == account and s.get("namespace") == namespace
            for s in binding.get("subjects") or []
        ):
            continue
        role = roles.get((binding["roleRef"]["kind"], binding["roleRef"]["name"]))
        for rule in (role or {}).get("rules") or []:
            rights |= {
                (f"{resource}.{group}" if group else resource, verb)
                for group in rule.get("apiGroups") or []
                for resource in rule.get("resources") or []
                for verb in rule["verbs"]
            }
    return rights
