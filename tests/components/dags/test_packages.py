"""DAG packages in the deliveries without an image of their own (``airflow:dags.packagesImage``): an image of
Airflow and ``requirements.txt`` only, built, pushed and run by every Airflow pod; a DAG edit leaves it
alone, a requirement change rebuilds it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components.dags.packages import PACKAGES_CONTEXT, packages_dockerfile
from tests.components.dags.stacks import IMAGE, IMAGE_TYPE, PASSWORD, image_stack, release_values
from tests.conftest import run_project, run_stack
from tooling.offline.runtime import Recording, plain
from tooling.offline.trial import THROWAWAY_STACK, project_copy

REQUIREMENTS = "toolz==1.0.0\n"
PACKAGES = {"registry": "ghcr.io", "repository": "ghcr.io/acme/airflow-packages", "username": "acme-ci"}


def _project(tmp_path: Path, delivery: dict[str, Any]) -> Path:
    stack = THROWAWAY_STACK + f"  airflow:dags: {json.dumps(delivery)}\n"
    project = project_copy(tmp_path, stack)
    (project / "dags" / "requirements.txt").write_text(REQUIREMENTS)
    return project


def _run(project: Path) -> Recording:
    stack = project / "Pulumi.test.yaml"
    if "registryPassword" not in stack.read_text():
        stack.write_text(stack.read_text() + f"  airflow:registryPassword:\n    secure: {PASSWORD}\n")
    return run_project(project)


@pytest.mark.parametrize(
    "delivery",
    [
        {"delivery": "configmap", "packagesImage": PACKAGES},
        {
            "delivery": "git-bundle",
            "gitBundle": {"repo": "https://github.com/acme/dags.git"},
            "packagesImage": PACKAGES,
        },
    ],
)
def test_the_packages_image_is_what_every_airflow_pod_runs(tmp_path: Path, delivery: dict[str, Any]) -> None:
    project = _project(tmp_path, delivery)
    recording = _run(project)
    (image,) = recording.of_type(IMAGE_TYPE)
    inputs = plain(image.inputs)
    assert inputs["imageName"].startswith("ghcr.io/acme/airflow-packages:packages-")
    assert inputs["build"]["context"] == PACKAGES_CONTEXT
    context = project / PACKAGES_CONTEXT
    assert (context / "requirements.txt").read_text() == REQUIREMENTS
    assert (context / "Dockerfile").read_text() == packages_dockerfile()
    airflow = release_values(recording)["images"]["airflow"]
    assert airflow["repository"] == PACKAGES["repository"]
    assert airflow["tag"] == inputs["imageName"].split(":")[-1]
    assert airflow["digest"]  # the pushed digest (a stand-in under the mocks)
    assert release_values(recording)["imagePullSecrets"] == [{"name": "airflow-registry"}]
    assert image.urn in recording.release().dependencies


def test_a_dag_edit_leaves_the_packages_image_and_a_requirement_rebuilds_it(tmp_path: Path) -> None:
    project = _project(tmp_path, {"delivery": "configmap", "packagesImage": PACKAGES})

    def image_name() -> str:
        (image,) = _run(project).of_type(IMAGE_TYPE)
        return plain(image.inputs)["imageName"]

    first = image_name()
    dag = project / "dags" / "etl_taskflow.py"
    dag.write_text(dag.read_text().replace('"retries": 3', '"retries": 4'))
    assert image_name() == first
    (project / "dags" / "requirements.txt").write_text(REQUIREMENTS + "inflection==0.5.1\n")
    assert image_name() != first


def test_packages_image_needs_the_registry_password() -> None:
    with pytest.raises(
        pulumi.RunError,
        match=re.escape("airflow:dags.packagesImage needs the secret config value airflow:registryPassword"),
    ):
        run_stack("dev", fill_secrets=False, dags={"delivery": "configmap", "packagesImage": IMAGE})


def test_without_requirements_no_image_is_built() -> None:
    recording = image_stack({"delivery": "configmap", "packagesImage": PACKAGES})
    assert recording.of_type(IMAGE_TYPE) == []
    assert "airflow" not in release_values(recording).get("images", {})


def test_the_image_mode_has_no_packages_image_of_its_own() -> None:
    with pytest.raises(
        pulumi.RunError, match=re.escape("airflow:dags.packagesImage in Pulumi.dev.yaml is not a known key")
    ):
        image_stack({"delivery": "image", "image": IMAGE, "packagesImage": PACKAGES})


def test_a_registry_password_nothing_pushes_with_is_refused() -> None:
    with pytest.raises(pulumi.RunError) as caught:
        run_stack(
            "dev",
            secret_keys=["airflow:registryPassword"],
            dags={"delivery": "configmap"},
            registryPassword=PASSWORD,
        )
    assert (
        "airflow:registryPassword is only used with airflow:dags.delivery 'image' or "
        "airflow:dags.packagesImage" in str(caught.value)
    )
    assert PASSWORD not in str(caught.value)


def test_a_build_folder_that_cannot_be_written_is_one_line_before_any_resource(tmp_path: Path) -> None:
    """``pulumi up`` writes the packages image's context into the project; where it cannot (here a file
    named ``build`` stands in the way, as a read-only checkout would), one line names the folder."""
    project = _project(tmp_path, {"delivery": "configmap", "packagesImage": PACKAGES})
    (project / "build").write_text("not a folder\n")
    with pytest.raises(pulumi.RunError) as raised:
        _run(project)
    message = str(raised.value)
    assert message.startswith(f"{PACKAGES_CONTEXT}: cannot write the packages image's build context")
    assert "\n" not in message
    assert "Traceback" not in message
