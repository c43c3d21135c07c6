"""What the DAG gate checks in each task of a parsed DAG that Airflow itself does not: a pod override
that would fail only when the executor builds its pod, and a task that needs ``pods/exec`` the stack
does not grant. Both run in the child that parsed the file (tooling/gate/parser.py), where the DAG
objects are."""

from __future__ import annotations

from typing import Any

__all__ = ["pod_exec_problems", "pod_override_problems"]


def pod_override_problems(dag: Any) -> list[str]:
    """A pod override must be a real ``V1Pod`` that survives the Kubernetes client's own serialisation,
    with a container named ``base`` (the only one Airflow merges into) and quantities Kubernetes parses.
    Otherwise the task fails only when the executor builds its pod, at run time."""
    from kubernetes.client import ApiClient, V1Pod
    from kubernetes.utils.quantity import parse_quantity

    client = ApiClient()
    problems = []
    for task in dag.tasks:
        override = (task.executor_config or {}).get("pod_override")
        if override is None:
            continue
        where = f"task {task.task_id!r} pod_override"
        if not isinstance(override, V1Pod):
            problems.append(f"{where} is a {type(override).__name__}, not kubernetes.client.models.V1Pod")
            continue
        document = client.sanitize_for_serialization(override)
        if client._ApiClient__deserialize(document, "V1Pod") != override:
            problems.append(f"{where} does not survive Kubernetes serialisation")
        containers = (override.spec.containers or []) if override.spec else []
        if "base" not in {c.name for c in containers}:
            problems.append(f"{where} has no container named 'base', so its resources would be ignored")
        for container in containers:
            resources = container.resources
            for kind in ("requests", "limits"):
                for name, quantity in sorted(((getattr(resources, kind) or {}) if resources else {}).items()):
                    try:
                        parse_quantity(quantity)
                    except ValueError:
                        problems.append(f"{where} {kind}.{name} {quantity!r} is not a Kubernetes quantity")
    return problems


def pod_exec_problems(dag: Any) -> list[str]:
    """Tasks that run commands in a pod through ``pods/exec``, which the workers lack unless the stack
    grants it: they would fail with 403 Forbidden when the task runs, not when it is deployed."""
    try:
        from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
        from airflow.providers.cncf.kubernetes.operators.pod_exec import KubernetesPodExecOperator
    except ImportError:  # without the provider no DAG can use these operators
        return []
    problems = []
    for task in dag.tasks:
        # A mapped task (.partial().expand()) is a MappedOperator: its class and arguments are kept apart.
        kind = getattr(task, "operator_class", type(task))
        pushes = (
            task.partial_kwargs.get("do_xcom_push") if hasattr(task, "partial_kwargs") else task.do_xcom_push
        )
        if not isinstance(kind, type):  # a mapped task of a serialized operator: nothing to tell
            continue
        if issubclass(kind, KubernetesPodExecOperator):
            why, fix = "runs its command through pods/exec", ""
        elif issubclass(kind, KubernetesPodOperator) and pushes:
            why = "reads its result from the pod through pods/exec (do_xcom_push=True)"
            fix = ", or drop do_xcom_push"
        else:
            continue
        grant = "set airflow:tasks.podExec: true"
        problems.append(f"task {task.task_id!r} {why}, which the workers may not use; {grant}{fix}")
    return problems
