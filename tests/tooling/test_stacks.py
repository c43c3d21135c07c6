"""Stack discovery for CI: every Pulumi.<stack>.yaml, each in a namespace of its own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tooling.stacks import StacksError, discover, github_outputs


def _project(tmp_path: Path, files: dict[str, str]) -> Path:
    for stack, body in files.items():
        (tmp_path / f"Pulumi.{stack}.yaml").write_text(f"config:\n{body}")
    return tmp_path


def test_a_copied_stack_file_is_a_new_stack_deployed_as_its_protection_says(tmp_path: Path) -> None:
    project = _project(
        tmp_path,
        {
            "prod": "  airflow:namespace: airflow\n  airflow:protectStatefulResources: true\n",
            "staging-eu": "  airflow:namespace: airflow-staging\n  airflow:protectStatefulResources: true\n",
            "dev": "  airflow:namespace: airflow-dev\n",
        },
    )
    outputs = dict(line.split("=", 1) for line in github_outputs(discover(project)).splitlines())
    assert [s["name"] for s in json.loads(outputs["stacks"])] == ["dev", "prod", "staging-eu"]
    assert [s["name"] for s in json.loads(outputs["main"])] == ["dev"]
    tags = json.loads(outputs["tags"])
    assert [(s["name"], s["preview_kubeconfig_secret"]) for s in tags] == [
        ("prod", "KUBECONFIG_PROD"),
        ("staging-eu", "KUBECONFIG_STAGING_EU"),
    ]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"dev": "  airflow:namespace: airflow-dev\n", "staging": "  airflow:executor: CeleryExecutor\n"},
            "Pulumi.staging.yaml sets no airflow:namespace; give each stack a namespace of its own "
            "(e.g. airflow:namespace: airflow-staging)",
        ),
        (
            {"prod": "  airflow:namespace: airflow\n", "staging": "  airflow:namespace: airflow\n"},
            "Pulumi.prod.yaml and Pulumi.staging.yaml both set airflow:namespace 'airflow'; two stacks in "
            "one namespace take each other's objects, so give each its own",
        ),
    ],
)
def test_a_stack_without_a_namespace_of_its_own_is_refused(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    with pytest.raises(StacksError) as caught:
        discover(_project(tmp_path, files))
    assert str(caught.value) == message


def test_the_shipped_stacks_each_have_their_own_namespace() -> None:
    stacks = discover(ROOT)
    assert len({stack.namespace for stack in stacks}) == len(stacks) >= 1


def test_the_command_refuses_in_one_line(tmp_path: Path) -> None:
    project = _project(
        tmp_path, {"prod": "  airflow:namespace: airflow\n", "copy": "  airflow:namespace: airflow\n"}
    )
    result = subprocess.run(
        [sys.executable, "-m", "tooling.stacks", "--project", str(project)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        "error: Pulumi.copy.yaml and Pulumi.prod.yaml both set airflow:namespace 'airflow'; two stacks in "
        "one namespace take each other's objects, so give each its own\n"
    )
