"""What a DAG-only change restarts in each delivery mode, judged on the real chart's output: the pods
whose template differs between the renders before and after one edited DAG line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tooling.offline.restarts import after_one_dag_edit


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
