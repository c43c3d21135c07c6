"""The DAG gate parses a DAG that imports a package of its folder's requirements.txt, as the cluster
runs it on an image holding them; without the line, the import fails as it would there."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import run_gate
from tooling.gate.packages import dag_packages

# A small pure-Python package that neither Airflow nor the test toolchain installs.
PACKAGE = "toolz==1.0.0"
DAG = """from datetime import UTC, datetime

import toolz
from airflow.sdk import DAG

with DAG("uses_toolz", schedule=None, start_date=datetime(2026, 1, 1, tzinfo=UTC), tags=["t"],
         default_args={"owner": "team"}):
    assert toolz.first([1, 2]) == 1
"""


def _folder(tmp_path: Path, requirements: str) -> Path:
    folder = tmp_path / "dags"
    folder.mkdir(parents=True)
    (folder / "uses_toolz.py").write_text(DAG)
    (folder / "requirements.txt").write_text(requirements)
    return folder


def test_a_dag_importing_its_own_package_passes_the_gate(tmp_path: Path) -> None:
    result = run_gate(
        _folder(tmp_path, f"# what the DAGs import\n{PACKAGE}\n"), "--executor", "KubernetesExecutor"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 DAGs in 1 files" in result.stdout


def test_without_the_requirement_the_import_fails_as_in_the_cluster(tmp_path: Path) -> None:
    result = run_gate(_folder(tmp_path, "# nothing\n"), "--executor", "KubernetesExecutor")
    assert result.returncode == 1
    assert "No module named 'toolz'" in result.stdout


def test_the_packages_are_installed_once_per_set_of_requirements(tmp_path: Path) -> None:
    first = dag_packages(_folder(tmp_path / "a", f"{PACKAGE}\n"))
    again = dag_packages(_folder(tmp_path / "b", f"{PACKAGE}  # the same, written otherwise\n"))
    assert first is not None
    assert first == again
    assert (first / "toolz" / "__init__.py").is_file()
    assert dag_packages(_folder(tmp_path / "c", "# none\n")) is None


def test_a_package_that_cannot_be_installed_is_one_line(tmp_path: Path) -> None:
    result = run_gate(_folder(tmp_path, "toolz==0.0.0-does-not-exist\n"), "--executor", "KubernetesExecutor")
    assert result.returncode == 2
    assert result.stderr.startswith("error: dags/requirements.txt cannot be installed for the gate: ")
    assert result.stderr.count("\n") == 1
