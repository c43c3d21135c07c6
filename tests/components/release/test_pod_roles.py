"""PodRoles built alone, from its own Args: which Roles it makes and with which verbs."""

from __future__ import annotations

import pulumi
import pytest

from components.release.pod_roles import PodRoles, PodRolesArgs
from tooling.offline.runtime import Recording, plain

ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role"


def _rules(recording: Recording) -> dict[str, list[tuple[str, tuple[str, ...]]]]:
    return {
        plain(r.inputs)["metadata"]["name"]: [
            (rule["resources"][0], tuple(rule["verbs"])) for rule in plain(r.inputs)["rules"]
        ]
        for r in recording.of_type(ROLE)
    }


@pytest.mark.parametrize(("kubernetes_executor", "pod_exec"), [(True, False), (False, True)])
@pulumi.runtime.test
def test_roles_follow_the_executor_and_pod_exec(
    pulumi_mocks: Recording, kubernetes_executor: bool, pod_exec: bool
) -> pulumi.Output:
    roles = PodRoles(
        "t", PodRolesArgs(namespace="ns", kubernetes_executor=kubernetes_executor, pod_exec=pod_exec)
    )

    def check(_: list[str]) -> None:
        rules = _rules(pulumi_mocks)
        assert ("airflow-executor-pods" in rules) is kubernetes_executor
        task_pods = dict(rules["airflow-task-pods"])
        assert ("pods/exec" in task_pods) is pod_exec
        assert task_pods["pods"] == ("create", "get", "list", "watch", "patch", "delete")
        assert dict(rules["airflow-trigger-pods"])["pods"] == ("get", "delete")

    return pulumi.Output.all(*[resource.urn for resource in roles.resources]).apply(check)
