"""The DAG gate with the real Airflow 3.2.2: the committed DAGs pass, each broken fixture is caught."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.helpers import NO_BUDGET, run_gate
from tooling.offline.trial import THROWAWAY_STACK, project_copy

BROKEN = ROOT / "tests" / "fixtures" / "broken_dags"


@pytest.fixture(scope="module")
def committed() -> subprocess.CompletedProcess[str]:
    """The committed folder with both executors, as prod runs it (and as the gate does by default)."""
    return run_gate(ROOT / "dags")


@pytest.fixture(scope="module")
def broken() -> subprocess.CompletedProcess[str]:
    # A low limit so the fixture that computes at import time is over it (about 0.15 s of CPU); clean
    # files parse in about 1 ms.
    return run_gate(BROKEN, "--max-parse-seconds", "0.05")


def test_committed_dags_pass_with_a_parse_time_per_file(committed: subprocess.CompletedProcess[str]) -> None:
    assert committed.returncode == 0, committed.stdout + committed.stderr
    assert "dag gate: dags: 4 DAGs in 4 files" in committed.stdout
    for dag_file, dag_id in [
        ("etl_taskflow.py", "etl_taskflow"),
        ("kubernetes_task_resources.py", "kubernetes_task_resources"),
        ("business_logic_pod.py", "business_logic_pod"),
        ("mixed_executors.py", "mixed_executors"),
    ]:
        assert any(
            line.endswith(f" ms  dags/{dag_file}  {dag_id}") for line in committed.stdout.splitlines()
        ), dag_file
    assert "error:" not in committed.stdout


@pytest.mark.parametrize(
    "expected",
    [
        "broken_dags/syntax_error.py:5: import error: SyntaxError: expected ':'",
        "broken_dags/import_error.py:5: import error: ModuleNotFoundError: "
        "No module named 'pandas_that_does_not_exist'",
        "broken_dags/network_at_import.py:8: import error: HeavyImportError: a network connection",
        "broken_dags/subprocess_at_import.py: import error: HeavyImportError: a subprocess at import time",
        "broken_dags/slow_import.py: parsed in",
        "broken_dags/no_tags.py: DAG 'no_tags' has no tags",
        "broken_dags/no_owner.py: DAG 'no_owner' tasks unowned have no owner",
        "broken_dags/bad_pod_override.py: DAG 'bad_pod_override' task 'wrong_container' pod_override has no "
        "container named 'base'",
        "broken_dags/bad_pod_override.py: DAG 'bad_pod_override' task 'wrong_quantity' pod_override "
        "requests.memory '2 gigs' is not a Kubernetes quantity",
        "broken_dags/bad_pod_override.py: DAG 'bad_pod_override' task 'plain_dict' pod_override is a dict",
        "broken_dags/pod_exec.py: DAG 'pod_exec' task 'pushes_xcom' reads its result from the pod through "
        "pods/exec (do_xcom_push=True), which the workers may not use; set airflow:tasks.podExec: true, or "
        "drop do_xcom_push",
        "broken_dags/pod_exec.py: DAG 'pod_exec' task 'returns_a_value' reads its result from the pod "
        "through pods/exec (do_xcom_push=True)",
        "broken_dags/pod_exec.py: DAG 'pod_exec' task 'mapped_result' reads its result from the pod "
        "through pods/exec (do_xcom_push=True)",
        "broken_dags/pod_exec.py: DAG 'pod_exec' task 'exec_command' runs its command through pods/exec, "
        "which the workers may not use; set airflow:tasks.podExec: true\n",
    ],
)
def test_each_broken_fixture_is_caught(broken: subprocess.CompletedProcess[str], expected: str) -> None:
    assert broken.returncode == 1
    assert any(f"{line}\n".startswith(f"error: {expected}") for line in broken.stdout.splitlines()), (
        broken.stdout
    )


WAITS_AT_IMPORT = """import time
from datetime import UTC, datetime

from airflow.sdk import DAG

time.sleep(1.0)

with DAG("waits", schedule=None, start_date=datetime(2026, 1, 1, tzinfo=UTC), tags=["t"],
         default_args={"owner": "team"}):
    pass
"""


def test_the_budget_counts_cpu_time_not_waiting(tmp_path: Path) -> None:
    """A file that waits at import (here, sleeps) spends no CPU: the budget, which counts the parse's CPU
    time so a busy machine cannot fail it, lets it pass, while one that computes is over."""
    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / "waits.py").write_text(WAITS_AT_IMPORT)
    shutil.copy(BROKEN / "slow_import.py", folder)
    result = run_gate(folder, "--max-parse-seconds", "0.05")
    errors = [line for line in result.stdout.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stdout + result.stderr
    assert errors[0].startswith("error: dags/slow_import.py: parsed in ")
    assert errors[0].endswith(" s of CPU, over 0.05 s; move heavy imports and work into tasks")
    assert "dags/waits.py  waits" in result.stdout


def test_tasks_that_need_pods_exec_pass_where_the_stack_grants_it() -> None:
    granted = run_gate(BROKEN, "--pod-exec")
    flagged = [line for line in granted.stdout.splitlines() if "pods/exec" in line]
    assert "broken_dags/pod_exec.py" in granted.stdout
    assert flagged == []


def test_pod_tasks_that_push_no_xcom_are_not_flagged(broken: subprocess.CompletedProcess[str]) -> None:
    flagged = broken.stdout + broken.stderr
    assert "'plain_pod'" not in flagged
    assert "'mapped_plain'" not in flagged
    assert "'returns_nothing'" not in flagged


def test_a_clean_file_beside_broken_ones_is_not_flagged(broken: subprocess.CompletedProcess[str]) -> None:
    assert "good.py" in broken.stdout
    assert not [
        line for line in broken.stdout.splitlines() if line.startswith("error:") and "good.py" in line
    ]


def _gate_stack(project: Path, stack: str) -> subprocess.CompletedProcess[str]:
    """The gate as a user runs it in their project: ``--stack`` reads Pulumi.<stack>.yaml there."""
    return subprocess.run(
        [sys.executable, "-m", "tooling.gate", "--stack", stack, *NO_BUDGET],
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_stack_that_runs_every_executor_its_dags_name_passes(tmp_path: Path) -> None:
    """CI gates every stack file this way (.ci/run); the shipped DAGs need both executors."""
    stack = THROWAWAY_STACK + "  airflow:executor: CeleryExecutor,KubernetesExecutor\n"
    result = _gate_stack(project_copy(tmp_path, stack), "test")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("dag gate: dags: 4 DAGs in 4 files (")


def test_a_task_routed_to_an_executor_the_stack_lacks_is_named(tmp_path: Path) -> None:
    project = project_copy(tmp_path, THROWAWAY_STACK + "  airflow:executor: CeleryExecutor\n")
    result = _gate_stack(project, "test")
    assert result.returncode == 1
    errors = [line for line in result.stdout.splitlines() if line.startswith("error: ")]
    assert errors == [
        f"error: dags/{dag_file}: task {task!r} runs on executor 'KubernetesExecutor', which this stack does "
        "not run (airflow:executor is 'CeleryExecutor'); add it there or drop executor= from the task"
        for dag_file, task in [("kubernetes_task_resources.py", "light"), ("mixed_executors.py", "crunch")]
    ]


def test_the_stack_s_delivery_checks_run_too(tmp_path: Path) -> None:
    project = project_copy(
        tmp_path,
        THROWAWAY_STACK
        + "  airflow:dags:\n    delivery: image\n"
        + "    image: {registry: ghcr.io, repository: ghcr.io/a/b, username: u}\n",
    )
    (project / "dags" / "Dockerfile").unlink()
    result = _gate_stack(project, "test")
    assert result.returncode == 1
    assert "error: dags/Dockerfile: missing; delivery 'image' builds the DAG folder" in result.stdout


def test_a_stack_grants_pods_exec_to_the_tasks_that_need_it(tmp_path: Path) -> None:
    """The gate reads airflow:tasks.podExec from the stack file: the same DAG fails without it."""
    both = THROWAWAY_STACK + "  airflow:executor: CeleryExecutor,KubernetesExecutor\n"
    results = {}
    for pod_exec in (False, True):
        stack = both + f"  airflow:tasks: {{podExec: {str(pod_exec).lower()}}}\n"
        (tmp_path / str(pod_exec)).mkdir()
        project = project_copy(tmp_path / str(pod_exec), stack)
        shutil.copy(BROKEN / "pod_exec.py", project / "dags")
        results[pod_exec] = _gate_stack(project, "test")
    assert results[True].returncode == 0, results[True].stdout + results[True].stderr
    assert results[False].returncode == 1
    errors = [line for line in results[False].stdout.splitlines() if line.startswith("error:")]
    assert len(errors) == 4, errors
    assert all("airflow:tasks.podExec: true" in line for line in errors), errors


def test_a_bad_stack_file_is_one_line(tmp_path: Path) -> None:
    project = project_copy(tmp_path, THROWAWAY_STACK + "  airflow:executor: Local\n")
    result = _gate_stack(project, "test")
    assert result.returncode == 2
    assert result.stderr.startswith("error: airflow:executor in Pulumi.test.yaml: must be one of")
    assert "Traceback" not in result.stderr


GIT_BUNDLE = (
    "  airflow:dags: {delivery: git-bundle, gitBundle: {repo: 'https://github.com/acme/dags.git', ref: v2}}\n"
)


def test_a_git_bundle_stack_gates_its_local_copy_and_names_the_bundle(tmp_path: Path) -> None:
    stack = THROWAWAY_STACK + "  airflow:executor: CeleryExecutor,KubernetesExecutor\n" + GIT_BUNDLE
    result = _gate_stack(project_copy(tmp_path, stack), "test")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(
        "dag gate: dags: 4 DAGs in 4 files (CeleryExecutor,KubernetesExecutor; git-bundle "
        "https://github.com/acme/dags.git ref v2 path dags)\n"
    )


def test_a_git_bundle_stack_without_a_local_copy_says_where_the_dags_come_from(tmp_path: Path) -> None:
    project = project_copy(tmp_path, THROWAWAY_STACK + GIT_BUNDLE)
    shutil.rmtree(project / "dags")
    result = _gate_stack(project, "test")
    assert result.returncode == 2
    assert result.stderr == (
        "error: airflow:dags.folder 'dags' is not a folder here; the stack takes its DAGs from "
        "https://github.com/acme/dags.git ref v2 path dags: run the gate in a checkout of that repository\n"
    )
