"""Shared fixtures: the mocked Pulumi runtime, the chart's schema and defaults, and stack runners."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.offline import Recording, mocked_runtime, run_program
from components.render import fill_missing_secrets, load_stack_config

ROOT = Path(__file__).resolve().parent.parent
CHART_DIR = Path(os.environ.get("AIRFLOW_CHART_DIR", ROOT.parent / "shared" / "airflow-chart-1.22.0"))


@pytest.fixture(autouse=True)
def pulumi_mocks() -> Iterator[Recording]:
    """Every test starts with fresh mocks and no config, and leaves none behind."""
    with mocked_runtime() as recording:
        yield recording


@pytest.fixture(scope="session")
def chart_schema() -> dict[str, Any]:
    return json.loads((CHART_DIR / "values.schema.json").read_text())


@pytest.fixture(scope="session")
def chart_defaults() -> dict[str, Any]:
    return yaml.safe_load((CHART_DIR / "values.yaml").read_text())


def stack_config(
    stack: str, *, fill_secrets: bool = True, **overrides: Any
) -> tuple[dict[str, str], list[str]]:
    """A committed stack's config with keys (without ``airflow:``) replaced; ``None`` removes one.

    Secret values an operator sets per stack (the registry token of prod) get the render's placeholders
    unless ``fill_secrets`` is off.
    """
    config, secret_keys = load_stack_config(ROOT / f"Pulumi.{stack}.yaml")
    for key, value in overrides.items():
        full = f"airflow:{key}"
        if value is None:
            config.pop(full, None)
        else:
            config[full] = value if isinstance(value, str) else json.dumps(value)
    if fill_secrets:
        fill_missing_secrets(stack, config, secret_keys)
    return config, secret_keys


def raw_settings(stack: str, **overrides: Any) -> dict[str, Any]:
    """The stack's config as ``parse_settings`` takes it: no prefix, structured values decoded."""
    config, _ = stack_config(stack, **overrides)
    return {
        key.removeprefix("airflow:"): json.loads(value) if value[:1] in "{[" else value
        for key, value in config.items()
    }


def run_stack(
    stack: str,
    secret_keys: list[str] | None = None,
    recording: Recording | None = None,
    fill_secrets: bool = True,
    **overrides: Any,
) -> Recording:
    config, keys = stack_config(stack, fill_secrets=fill_secrets, **overrides)
    return run_program(
        ROOT / "__main__.py",
        stack=stack,
        config=config,
        secret_keys=keys + (secret_keys or []),
        recording=recording,
    )


def project_copy(tmp_path: Path, stack_yaml: str, stack: str = "test") -> Path:
    """A copy of the program and its DAG folder with one extra stack file, for inputs the committed
    stacks do not have (a DAG edit, another delivery mode)."""
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(ROOT / "__main__.py", project / "__main__.py")
    shutil.copytree(ROOT / "dags", project / "dags", ignore=shutil.ignore_patterns("__pycache__"))
    (project / f"Pulumi.{stack}.yaml").write_text(stack_yaml)
    return project


def run_project(project: Path, stack: str = "test", recording: Recording | None = None) -> Recording:
    config, secret_keys = load_stack_config(project / f"Pulumi.{stack}.yaml")
    return run_program(
        project / "__main__.py", stack=stack, config=config, secret_keys=secret_keys, recording=recording
    )


# A stack that delivers DAGs as an image (its registry token comes from the render's placeholder).
IMAGE_STACK_YAML = (
    "config:\n  airflow:dags:\n    delivery: image\n    image:\n      registry: ghcr.io\n"
    "      repository: ghcr.io/acme/airflow-dags\n      username: acme-ci\n"
)
DAG_EDIT = ('"retries": 3', '"retries": 4')  # one line of dags/etl_taskflow.py


def render_before_and_after(tmp_path: Path, stack_yaml: str, edit: str) -> tuple[Recording, Recording]:
    """Renders a project copy into ``tmp_path/before``, applies ``edit`` ("dag": one DAG line,
    "executor": both executors, "none"), and renders into ``tmp_path/after``."""
    from components.render import render

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
