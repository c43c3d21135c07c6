"""What a DAG-only change restarts in each delivery mode, judged on the real chart's output: the pods
whose template differs between the renders before and after one edited DAG line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import IMAGE_STACK_YAML, THROWAWAY_STACK, render_before_and_after, render_chart
from tooling.offline.restarts import Restart, restarts, task_pods_changed

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
    return render_chart(release["values"], namespace=release["namespace"])


def after_one_dag_edit(tmp_path: Path, delivery: str) -> tuple[list[Restart], bool]:
    """The workloads that roll, and whether later task pods differ, after one DAG line changes
    (also what bench/dag_change_restarts.py prints)."""
    render_before_and_after(tmp_path, STACKS[delivery], "dag")
    before, after = _chart(tmp_path / "before"), _chart(tmp_path / "after")
    return restarts(before, after), task_pods_changed(before, after)


@pytest.mark.parametrize("delivery", ["git-bundle", "git-sync", "configmap"])
def test_a_dag_edit_restarts_no_pod(tmp_path: Path, delivery: str) -> None:
    assert after_one_dag_edit(tmp_path, delivery) == ([], False)


def test_a_dag_edit_in_image_mode_rolls_every_airflow_pod_to_the_new_image(tmp_path: Path) -> None:
    restarted, task_pods_change = after_one_dag_edit(tmp_path, "image")
    names = {r.name for r in restarted}
    assert {
        "airflow-scheduler",
        "airflow-api-server",
        "airflow-dag-processor",
        "airflow-triggerer",
        "airflow-worker",
    } <= names
    assert "airflow-statsd" not in names  # not an Airflow image
    assert task_pods_change
    assert all(r.pods >= 1 for r in restarted)
