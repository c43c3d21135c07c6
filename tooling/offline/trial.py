"""A trial project: a copy of this program and its DAG folder with one stack file of the caller's, for
inputs the shipped stacks do not have (a DAG edit, another delivery mode), rendered before and after
one edit. The tests and bench/ both run trials; neither imports the other."""

from __future__ import annotations

import shutil
from pathlib import Path

from tooling.offline.render import render
from tooling.offline.runtime import Recording

__all__ = ["DAG_EDIT", "IMAGE_STACK_YAML", "THROWAWAY_STACK", "project_copy", "render_before_and_after"]

ROOT = Path(__file__).resolve().parents[2]
# The head of a trial stack file: not protected, so it needs no place for task logs.
THROWAWAY_STACK = "config:\n  airflow:protectStatefulResources: false\n"
DAG_EDIT = ('"retries": 3', '"retries": 4')  # one line of dags/etl_taskflow.py


def project_copy(tmp_path: Path, stack_yaml: str, stack: str = "test") -> Path:
    """A copy of the program and its DAG folder with one extra stack file, for inputs the committed
    stacks do not have (a DAG edit, another delivery mode)."""
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(ROOT / "__main__.py", project / "__main__.py")
    shutil.copytree(ROOT / "dags", project / "dags", ignore=shutil.ignore_patterns("__pycache__"))
    (project / f"Pulumi.{stack}.yaml").write_text(stack_yaml)
    return project


def render_before_and_after(tmp_path: Path, stack_yaml: str, edit: str) -> tuple[Recording, Recording]:
    """Renders a project copy into ``tmp_path/before``, applies ``edit`` ("dag": one DAG line,
    "executor": both executors, "none"), and renders into ``tmp_path/after``."""
    project = project_copy(tmp_path, stack_yaml)
    first, _ = render("test", tmp_path / "before", project_dir=project)
    if edit == "dag":
        dag = project / "dags" / "etl_taskflow.py"
        dag.write_text(dag.read_text().replace(*DAG_EDIT))
    elif edit == "executor":
        stack = project / "Pulumi.test.yaml"
        stack.write_text(stack.read_text() + "  airflow:executor: CeleryExecutor,KubernetesExecutor\n")
    second, _ = render("test", tmp_path / "after", project_dir=project)
    return first, second


# A stack that delivers DAGs as an image (its registry token comes from the render's placeholder).
IMAGE_STACK_YAML = (
    THROWAWAY_STACK + "  airflow:dags:\n    delivery: image\n    image:\n      registry: ghcr.io\n"
    "      repository: ghcr.io/acme/airflow-dags\n      username: acme-ci\n"
)
