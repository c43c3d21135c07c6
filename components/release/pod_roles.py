"""What each Airflow service account may do with pods: only what its own code calls.

Chart 1.22.0's pod-launcher Role grants one set of verbs, ``pods/exec`` among them, to the scheduler,
the workers (Celery workers and task pods) and the triggerer alike. The release turns it off
(``allowPodLaunching: false``) and the program binds one Role per account instead, each holding the
calls of apache-airflow-providers-cncf-kubernetes 10.x for that account's work:

- scheduler, KubernetesExecutor only: creates task pods, lists and watches them (its job watcher), reads,
  patches (adoption, the checked label) and deletes them. It never reads logs or events, nor execs.
- workers, KubernetesPodOperator: the same on its pods, plus their logs and events (waiting for the pod
  to start, reporting why it failed); ``pods/exec`` only with ``airflow:tasks.podExec`` (the xcom
  sidecar of ``do_xcom_push=True``, for ``@task.kubernetes`` too; Istio sidecars).
- triggerer, the deferred KubernetesPodOperator's trigger: reads the pod, its logs and events, and
  deletes it on timeout or cancel. It creates nothing.

The provider's own guide (``kubernetes_rbac.rst``, "Pod launch permissions") lists the union of these
for one shared role, ``pods/exec`` "when an operator uses exec-based functionality, such as retrieving
XCom from the sidecar"; here each account gets its part. The api-server keeps the chart's
pod-log-reader Role (logs of running task pods), unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from components.kube import RELEASE_NAME
from components.rbac import Rule, bound_role

__all__ = ["PodRole", "PodRoles", "PodRolesArgs", "pod_roles"]


@dataclass(frozen=True)
class PodRole:
    """One account's pod rights: the Role and RoleBinding the program makes in place of the chart's
    pod-launcher Role."""

    purpose: str  # names the Role, its RoleBinding and their Pulumi resources
    service_account: str  # the chart's, named after the release
    rules: tuple[Rule, ...]

    @property
    def name(self) -> str:
        return f"{RELEASE_NAME}-{self.purpose}"


_MANAGE_PODS = Rule("pods", ("create", "get", "list", "watch", "patch", "delete"))
_POD_LOGS = Rule("pods/log", ("get",))
_POD_EVENTS = Rule("events", ("list", "watch"))
# Exec over a websocket is a GET, over SPDY a POST: the API server checks `get` or `create` accordingly.
_POD_EXEC = Rule("pods/exec", ("create", "get"))


def pod_roles(*, kubernetes_executor: bool, pod_exec: bool) -> tuple[PodRole, ...]:
    """One Role per account that launches or watches pods; the scheduler's only with the
    KubernetesExecutor (the Celery scheduler calls no Kubernetes API), ``pods/exec`` only with
    ``tasks.podExec``."""
    worker_rules = (_MANAGE_PODS, _POD_LOGS, _POD_EVENTS) + ((_POD_EXEC,) if pod_exec else ())
    roles = [
        PodRole("task-pods", f"{RELEASE_NAME}-worker", worker_rules),
        PodRole(
            "trigger-pods",
            f"{RELEASE_NAME}-triggerer",
            (Rule("pods", ("get", "delete")), _POD_LOGS, _POD_EVENTS),
        ),
    ]
    if kubernetes_executor:
        roles.insert(0, PodRole("executor-pods", f"{RELEASE_NAME}-scheduler", (_MANAGE_PODS,)))
    return tuple(roles)


@dataclass(frozen=True, kw_only=True)
class PodRolesArgs:
    """Where the Roles go, and the two settings that decide them."""

    namespace: pulumi.Input[str]
    kubernetes_executor: bool  # airflow:executor runs the KubernetesExecutor
    pod_exec: bool  # airflow:tasks.podExec


class PodRoles(pulumi.ComponentResource):
    """A Role and its RoleBinding per entry of :func:`pod_roles`. Bindings name the chart's service
    accounts before the release creates them; Kubernetes allows that, and the accounts get the rights
    the moment they exist."""

    resources: Sequence[pulumi.Resource]

    def __init__(self, name: str, args: PodRolesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airflow:components:PodRoles", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        resources: list[pulumi.Resource] = []
        for role in pod_roles(kubernetes_executor=args.kubernetes_executor, pod_exec=args.pod_exec):
            resources += bound_role(
                f"{name}-{role.purpose}",
                role_name=role.name,
                namespace=args.namespace,
                service_account=role.service_account,
                rules=role.rules,
                opts=child,
            )
        self.resources = resources
        self.register_outputs({})
