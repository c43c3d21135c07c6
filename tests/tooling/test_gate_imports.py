"""The render's cut of the DAG gate: an import nothing provides, or a file that is not Python, fails the
render in one line pointing at the gate; what the image, the standard library, the folder or its
installed requirements provide passes; requirements not installed yet are not guessed at."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import ROOT
from tests.helpers import run_gate
from tooling.gate.imports import (
    IMAGE_MODULES,
    TOOLING_ONLY,
    image_modules_of_environment,
    import_problems,
    unresolved_imports,
)
from tooling.offline import render as render_module
from tooling.offline.render import RenderError, render
from tooling.offline.trial import IMAGE_STACK_YAML, THROWAWAY_STACK, project_copy

DAG = b"from airflow.sdk import dag\nimport os, json\nimport yaml\nfrom helpers.shared import x\n"


def test_the_image_module_list_is_the_environment_the_gate_parses_in() -> None:
    """Regenerate with python -m tooling.gate.imports --write after a dev requirement changes."""
    assert IMAGE_MODULES.read_text().split() == image_modules_of_environment()


def test_the_image_list_holds_airflow_and_what_it_requires_but_not_the_projects_tooling() -> None:
    modules = set(IMAGE_MODULES.read_text().split())
    assert {"airflow", "celery", "kubernetes", "statsd", "psycopg2", "pydantic", "yaml"} <= modules
    assert modules.isdisjoint({"pytest", "hypothesis", "moto", "pulumi", "pulumi_kubernetes", "grafanalib"})


def test_each_tooling_only_name_is_a_requirement_of_the_project() -> None:
    """So the set does not outlive a requirement it names: a stale name would hide nothing, a renamed
    one would let its modules into the image list."""
    lines = [
        line.split("#", 1)[0].strip()
        for name in ("requirements.txt", "requirements-dev.txt")
        for line in (ROOT / name).read_text().splitlines()
    ]
    named = {canonicalize_name(Requirement(line).name) for line in lines if line and not line.startswith("-")}
    assert named >= TOOLING_ONLY


def test_the_gate_refuses_a_module_only_its_own_environment_has(tmp_path: Path) -> None:
    """The gate's parse finds pytest (its environment runs the tests); the apache/airflow image has no
    pytest, so the cluster's parse would fail the file."""
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "probe.py").write_text(
        "import json\nimport pytest\nfrom airflow.sdk import dag\n\n"
        "@dag(tags=['probe'], default_args={'owner': 'data'})\ndef probe():\n    pass\n\nprobe()\n"
    )
    done = run_gate(dags)
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == (
        "error: dags/probe.py:2: imports pytest, which the gate's environment has for the project's own "
        "tooling but the apache/airflow image does not; list it in dags/requirements.txt"
    )


def test_airflow_the_standard_library_the_folder_and_the_image_resolve() -> None:
    files = {"etl.py": DAG, "helpers/shared.py": b"X = 1\n", "helpers/__init__.py": b""}
    assert unresolved_imports(files, None, requirements_pending=False) == []


def test_an_import_nothing_provides_is_named_with_its_line() -> None:
    files = {"etl.py": DAG + b"import toolz\nfrom pendulum_extras.tz import utc\n", "helpers/shared.py": b""}
    assert unresolved_imports(files, None, requirements_pending=False) == [
        ("etl.py", 5, "imports toolz"),
        ("etl.py", 6, "imports pendulum_extras"),
    ]


def test_only_python_files_and_folders_are_the_folders_own_modules() -> None:
    files = {"etl.py": b"import NOTES\nimport helpers\n", "NOTES": b"", "helpers/a.py": b""}
    assert unresolved_imports(files, None, requirements_pending=False) == [("etl.py", 1, "imports NOTES")]


def test_a_guarded_or_relative_import_is_left_to_the_gate() -> None:
    source = b"try:\n    import toolz\nexcept ImportError:\n    toolz = None\nfrom . import sibling\n"
    source += b"def f():\n    import not_installed\n"
    assert unresolved_imports({"etl.py": source}, None, requirements_pending=False) == []


def test_installed_requirements_resolve(tmp_path: Path) -> None:
    (tmp_path / "toolz").mkdir()
    files = {"etl.py": b"import toolz\n"}
    assert unresolved_imports(files, tmp_path, requirements_pending=False) == []


def test_requirements_not_installed_yet_judge_only_syntax() -> None:
    files = {"etl.py": b"import toolz\n", "broken.py": b"def f(:\n"}
    assert unresolved_imports(files, None, requirements_pending=True) == [
        ("broken.py", 1, "is not Python (invalid syntax)")
    ]


def test_the_line_names_the_file_the_module_and_the_gate() -> None:
    problem = import_problems("dags", {"a.py": b"import toolz\n", "b.py": b"import nope\n"}, None, False)
    assert problem == (
        "dags/a.py:1: imports toolz, which neither the Airflow image nor dags/requirements.txt provides "
        "(and 1 more); the DAG gate fails it too (python -m tooling.gate --stack <stack> shows each)"
    )


def test_the_render_fails_where_the_gate_would_and_writes_nothing(tmp_path: Path) -> None:
    project = project_copy(tmp_path, THROWAWAY_STACK)
    (project / "dags" / "uses_toolz.py").write_text("import toolz\nfrom airflow.sdk import dag\n")
    out = tmp_path / "out"
    with pytest.raises(RenderError) as raised:
        render("test", out, project_dir=project)
    assert str(raised.value).startswith("dags/uses_toolz.py:1: imports toolz, which neither")
    assert not out.exists()


def test_the_render_passes_with_the_requirement_the_gate_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    project = project_copy(tmp_path, IMAGE_STACK_YAML)
    (project / "dags" / "uses_toolz.py").write_text("import toolz\nfrom airflow.sdk import dag\n")
    (project / "dags" / "requirements.txt").write_text("toolz==1.0.0\n")
    installed = tmp_path / "site"
    (installed / "toolz").mkdir(parents=True)
    monkeypatch.setattr(render_module, "installed_dag_packages", lambda folder: installed)
    render("test", tmp_path / "out", project_dir=project)
    monkeypatch.setattr(render_module, "installed_dag_packages", lambda folder: None)
    render("test", tmp_path / "out2", project_dir=project)
    assert "the imports of dags/ are not checked: the gate has not installed" in capsys.readouterr().err
