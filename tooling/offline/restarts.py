"""What a change restarts: the long-running workloads whose pod template differs between two renders of
the chart, and how many pods that is.

Kubernetes replaces a Deployment's or StatefulSet's pods exactly when ``spec.template`` changes, so
comparing the templates of two ``helm template`` outputs tells, without a cluster, which pods a
``pulumi up`` would roll. Task pods of the KubernetesExecutor are made from the pod template and
``airflow.cfg`` in the ``airflow-config`` ConfigMap: a change there restarts nothing running, but every
later task pod differs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tooling.helm import helm_template
from tooling.offline.trial import IMAGE_STACK_YAML, THROWAWAY_STACK, render_before_and_after

__all__ = ["STACKS", "Restart", "after_one_dag_edit", "restarts", "task_pods_changed"]

_WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet")


@dataclass(frozen=True, order=True)
class Restart:
    """One workload whose pods a change would roll, and how many pods that is."""

    kind: str
    name: str
    pods: int  # spec.replicas (a DaemonSet counts as 1: one per node)


def _templates(objects: Iterable[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(o["kind"], o["metadata"]["name"]): o for o in objects if o.get("kind") in _WORKLOADS}


def restarts(before: Iterable[dict[str, Any]], after: Iterable[dict[str, Any]]) -> list[Restart]:
    """The workloads present in both renders whose pod template changed, sorted by kind and name."""
    old, new = _templates(before), _templates(after)
    return sorted(
        Restart(kind, name, int(new[kind, name]["spec"].get("replicas", 1)))
        for kind, name in old.keys() & new.keys()
        if old[kind, name]["spec"]["template"] != new[kind, name]["spec"]["template"]
    )


def _task_pod_inputs(objects: Iterable[dict[str, Any]]) -> dict[str, Any] | None:
    """The ConfigMap the KubernetesExecutor builds task pods from: the pod template and airflow.cfg,
    whose ``[kubernetes_executor]`` names the image (the template's own image is overridden)."""
    for o in objects:
        if o.get("kind") == "ConfigMap" and "pod_template_file.yaml" in (o.get("data") or {}):
            return dict(o["data"])
    return None


def task_pods_changed(before: Iterable[dict[str, Any]], after: Iterable[dict[str, Any]]) -> bool:
    """Whether task pods started after the change differ from those started before it."""
    return _task_pod_inputs(before) != _task_pod_inputs(after)


BOTH_EXECUTORS = "  airflow:executor: CeleryExecutor,KubernetesExecutor\n"


STACKS = {
    "image": IMAGE_STACK_YAML + BOTH_EXECUTORS,
    "configmap": THROWAWAY_STACK + BOTH_EXECUTORS + "  airflow:dags: {delivery: configmap}\n",
    "git-sync": THROWAWAY_STACK
    + BOTH_EXECUTORS
    + "  airflow:dags: {delivery: git-sync, gitSync: {repo: 'https://github.com/acme/dags.git'}}\n",
    "git-bundle": THROWAWAY_STACK
    + BOTH_EXECUTORS
    + "  airflow:dags: {delivery: git-bundle, gitBundle: {repo: 'https://github.com/acme/dags.git'}}\n",
}


def _chart(render: Path) -> list[dict[str, Any]]:
    release = yaml.safe_load((render / "releases" / "airflow.yaml").read_text())
    return helm_template(release["values"], release["namespace"])


def after_one_dag_edit(tmp_path: Path, delivery: str) -> tuple[list[Restart], bool]:
    """The workloads that roll, and whether later task pods differ, after one DAG line changes
    (what tests/tooling/offline/test_restarts.py judges and bench/dag_change_restarts.py prints)."""
    render_before_and_after(tmp_path, STACKS[delivery], "dag")
    before, after = _chart(tmp_path / "before"), _chart(tmp_path / "after")
    return restarts(before, after), task_pods_changed(before, after)
