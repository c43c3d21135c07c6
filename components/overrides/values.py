"""The escape hatches' share of the chart values: ``airflow.cfg`` options, plain environment variables,
pod placement per component, and ``extraValues`` laid over everything, last."""

from __future__ import annotations

from typing import Any

from components.kube import merge_values
from components.model import Placement

__all__ = [
    "PLACED",
    "config_text",
    "env_values",
    "own_pod_placement",
    "placement_values",
    "with_extra_values",
]

# Each placed component: its stack key -> the chart's key paths. Celery workers are
# ``workers.celery`` and task pods ``workers.kubernetes`` (chart 1.22 deprecates ``workers.nodeSelector``).
PLACED: dict[str, tuple[tuple[str, ...], ...]] = {
    "scheduler": (("scheduler",),),
    "apiServer": (("apiServer",),),
    "triggerer": (("triggerer",),),
    "dagProcessor": (("dagProcessor",),),
    "workers": (("workers", "celery"),),
    "tasks": (("workers", "kubernetes"),),
    "statsd": (("statsd",),),
    "jobs": (("migrateDatabaseJob",), ("createUserJob",), ("databaseCleanup",)),
}
# What the chart applies to every pod without its own (it has no stack-wide priorityClassName).
_STACK_WIDE = ("nodeSelector", "tolerations", "affinity", "topologySpreadConstraints")


def config_text(config: dict[str, dict[str, str | int | float | bool]]) -> dict[str, dict[str, str]]:
    """``airflow:config`` as airflow.cfg holds it: every value text (``True``, ``64``, ``0.5``)."""
    return {
        section: {option: str(value) for option, value in options.items()}
        for section, options in config.items()
    }


def env_values(env: dict[str, str]) -> list[dict[str, str]]:
    """``airflow:env`` as the chart's ``env`` entries of every Airflow container, in name order."""
    return [{"name": name, "value": env[name]} for name in sorted(env)]


def placement_values(stack_wide: Placement, placements: dict[str, Placement]) -> dict[str, Any]:
    """Placement values: the stack-wide one at the chart's top (the fallback of every pod), each
    component's under its key; a stack-wide priorityClassName goes to each component without one."""
    values: dict[str, Any] = {k: v for k, v in stack_wide.to_values().items() if k in _STACK_WIDE}
    if stack_wide.to_values():
        # The bundled PostgreSQL is a subchart of its own, which knows nothing of the chart's fallback.
        values["postgresql"] = {"primary": stack_wide.to_values()}
    for stack_key, paths in PLACED.items():
        own = placements[stack_key].to_values()
        if stack_wide.priority_class_name is not None:
            own.setdefault("priorityClassName", stack_wide.priority_class_name)
        for path in paths if own else ():
            node = values
            for key in path:
                node = node.setdefault(key, {})
            node.update(own)
    return values


def own_pod_placement(component: Placement, stack_wide: Placement) -> dict[str, Any]:
    """The pod spec keys of a pod the program makes itself (the Fernet rotation Job), as the chart
    places its own: each key the component sets, else the stack-wide one."""
    return stack_wide.to_values() | component.to_values()


def with_extra_values(values: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``airflow:extraValues`` over the program's values as Helm merges a values file: maps merge, lists
    and scalars replace (what the program owns was refused when the settings were read)."""
    return merge_values(values, extra) if extra else values
