"""DAG delivery under mocks: what each mode registers, what the release gets, and what stays secret."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pulumi
import pytest

from components.dags.delivery import DagDelivery, DagDeliveryArgs
from components.dags.folder import content_tag, load_dag_folder
from components.dags.settings import ConfigMapDags, GitSyncDags
from components.secrets.names import SecretNames
from components.settings import EXECUTORS
from components.stack import secret_names
from components.validation import parse_settings
from tests.components.dags.stacks import (
    CONFIGMAP_TYPE,
    HTTPS_REPO,
    IMAGE_TYPE,
    PASSWORD,
    SSH_KEY,
    SSH_REPO,
    image_stack,
    release_values,
)
from tests.conftest import ROOT, run_project, run_stack
from tests.helpers import secret_string_data
from tooling.offline.runtime import Recording, is_secret, plain
from tooling.offline.trial import THROWAWAY_STACK, project_copy


def test_image_is_built_from_the_dag_folder_and_tagged_by_its_content() -> None:
    recording = image_stack()
    (image,) = recording.of_type(IMAGE_TYPE)
    tag = content_tag(load_dag_folder(ROOT, "dags"))
    assert image.inputs["imageName"] == f"ghcr.io/acme/airflow-dags:{tag}"
    assert image.inputs["build"] == {
        "context": "dags",
        "dockerfile": "dags/Dockerfile",
        "platform": "linux/amd64",
    }
    assert image.inputs["skipPush"] is False
    assert is_secret(image.inputs["registry"])
    assert image.inputs["registry"]["value"] == {
        "server": "ghcr.io",
        "username": "acme-ci",
        "password": PASSWORD,
    }


def test_release_pulls_the_pushed_digest_at_the_content_tag() -> None:
    recording = image_stack()
    (image,) = recording.of_type(IMAGE_TYPE)
    airflow = release_values(recording)["images"]["airflow"]
    assert airflow["repository"] == "ghcr.io/acme/airflow-dags"
    assert image.inputs["imageName"].endswith(f":{airflow['tag']}")
    assert image.outputs["repoDigest"] == f"ghcr.io/acme/airflow-dags@{airflow['digest']}"
    assert airflow["tag"] != "latest"
    assert release_values(recording)["imagePullSecrets"] == [{"name": "airflow-registry"}]


def test_release_waits_for_the_image_and_its_pull_secret() -> None:
    recording = image_stack()
    release = recording.release()
    assert recording.of_type(IMAGE_TYPE)[0].urn in release.dependencies
    assert recording.named("airflow-registry").urn in release.dependencies


def test_pull_secret_is_a_docker_config_for_the_registry() -> None:
    recording = image_stack()
    secret = recording.named("airflow-registry")
    assert secret.inputs["type"] == "kubernetes.io/dockerconfigjson"
    config = json.loads(secret_string_data(recording, "airflow-registry")[".dockerconfigjson"])
    assert config["auths"]["ghcr.io"]["username"] == "acme-ci"
    assert config["auths"]["ghcr.io"]["password"] == PASSWORD


def test_registry_token_reaches_no_release_value_or_plain_output() -> None:
    recording = image_stack()
    assert PASSWORD not in json.dumps(recording.release().inputs)
    plain_outputs = {name: value for name, (value, secret) in recording.stack_outputs.items() if not secret}
    assert PASSWORD not in json.dumps(plain_outputs)
    assert recording.stack_outputs["dagImage"][0].startswith("ghcr.io/acme/airflow-dags@sha256:")


def test_a_broken_dag_file_stops_the_program_before_any_resource(tmp_path: Path) -> None:
    project = project_copy(
        tmp_path,
        THROWAWAY_STACK + "  airflow:dags: {delivery: configmap}\n",
    )
    (project / "dags" / "etl_taskflow.py").write_text("def broken(:\n")
    recording = Recording()
    with pytest.raises(pulumi.RunError, match=r"^dags/etl_taskflow.py:1: "):
        run_project(project, recording=recording)
    assert recording.registrations == []


def test_git_sync_follows_the_configured_ref_with_its_ssh_key_from_a_secret() -> None:
    recording = run_stack(
        "dev",
        secret_keys=["airflow:gitSshKey"],
        dags={"delivery": "git-sync", "gitSync": SSH_REPO},
        gitSshKey=SSH_KEY,
    )
    sync = release_values(recording)["dags"]["gitSync"]
    assert (sync["enabled"], sync["repo"], sync["ref"]) == (
        True,
        "git@github.com:acme/dags.git",
        "release-1.4",
    )
    assert sync["sshKeySecret"] == "airflow-git-ssh"
    assert sync["knownHosts"] == "github.com ssh-ed25519 AAAA"
    assert "sshKey" not in sync
    assert secret_string_data(recording, "airflow-git-ssh") == {"gitSshKey": SSH_KEY + "\n"}
    assert "b3BlbnNzaC1rZXktdjEAAAAA" not in json.dumps(recording.release().inputs)
    assert recording.named("airflow-git-ssh").urn in recording.release().dependencies


def test_git_sync_over_https_needs_no_credentials() -> None:
    git = {"repo": "https://github.com/acme/dags.git", "ref": "main", "subPath": "dags", "periodSeconds": 60}
    recording = run_stack("dev", dags={"delivery": "git-sync", "gitSync": git})
    sync = release_values(recording)["dags"]["gitSync"]
    assert (sync["ref"], sync["subPath"], sync["period"]) == ("main", "dags", "60s")
    assert "sshKeySecret" not in sync
    assert recording.of_type(IMAGE_TYPE) == []
    assert recording.of_component(CONFIGMAP_TYPE, "dags") == []


def test_configmap_holds_the_dag_files_and_is_mounted_wherever_dags_are_read() -> None:
    recording = run_stack("dev", dags={"delivery": "configmap"})
    (configmap,) = recording.of_component(CONFIGMAP_TYPE, "dags")
    data = configmap.inputs["data"]
    assert data["etl_taskflow.py"] == (ROOT / "dags" / "etl_taskflow.py").read_text()
    assert "Dockerfile" not in data
    assert "requirements.txt" not in data
    values = release_values(recording)
    mounted = [
        values["scheduler"],
        values["dagProcessor"],
        values["triggerer"],
        values["workers"]["celery"],
        values["workers"]["kubernetes"],
    ]
    for component in mounted:
        (volume,) = component["extraVolumes"]
        assert volume["configMap"]["name"] == configmap.inputs["metadata"]["name"]
        assert {item["key"] for item in volume["configMap"]["items"]} == set(data)
        assert component["extraVolumeMounts"] == [
            {"name": volume["name"], "mountPath": "/opt/airflow/dags", "readOnly": True}
        ]
    assert configmap.urn in recording.release().dependencies


@pytest.mark.parametrize(
    ("dags", "path"),
    [
        ({"delivery": "configmap"}, {"path": "/opt/airflow/dags"}),
        ({"delivery": "git-sync", "gitSync": HTTPS_REPO}, {}),
    ],
)
def test_local_modes_declare_their_folder_as_a_local_bundle(
    dags: dict[str, Any], path: dict[str, str]
) -> None:
    (bundle,) = release_values(run_stack("dev", dags=dags))["dagProcessor"]["dagBundleConfigList"]
    assert bundle == {
        "name": "dags-folder",
        "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
        "kwargs": path,
    }


def test_image_declares_its_dag_folder_as_a_local_bundle() -> None:
    (bundle,) = release_values(image_stack())["dagProcessor"]["dagBundleConfigList"]
    assert bundle["classpath"] == "airflow.dag_processing.bundles.local.LocalDagBundle"
    assert bundle["kwargs"] == {"path": "/opt/airflow/dags"}


_DELIVERIES: dict[str, dict[str, Any]] = {
    "git-sync": {"delivery": "git-sync", "gitSync": HTTPS_REPO},
    "git-bundle": {"delivery": "git-bundle", "gitBundle": HTTPS_REPO},
    "configmap": {"delivery": "configmap"},
}


@pytest.mark.parametrize("executor", EXECUTORS)
@pytest.mark.parametrize("delivery", ["image", *_DELIVERIES])
def test_every_delivery_mode_validates_against_the_chart_schema(
    chart_schema: dict[str, Any], delivery: str, executor: str
) -> None:
    overrides: dict[str, Any] = {"executor": executor}
    if delivery == "image":
        recording = image_stack(**overrides)
    else:
        recording = run_stack("dev", dags=_DELIVERIES[delivery], **overrides)
    jsonschema.validate(release_values(recording), chart_schema)


@pulumi.runtime.test
def test_the_configmap_mode_alone_makes_one_configmap_of_the_folder(pulumi_mocks: Recording) -> pulumi.Output:
    folder = load_dag_folder(ROOT, "dags")
    delivery = DagDelivery(
        "t",
        DagDeliveryArgs(
            settings=ConfigMapDags(),
            registry_password=None,
            git_ssh_key=None,
            names=_names(),
            namespace="ns",
            dags=folder,
        ),
    )
    assert delivery.image_ref is None
    assert len(delivery.dependencies) == 1

    def check(_: str) -> None:
        (configmap,) = pulumi_mocks.of_type(CONFIGMAP_TYPE)
        data = plain(configmap.inputs)["data"]
        assert sorted(data) == sorted(f.configmap_key for f in folder.delivered_by_configmap())
        assert pulumi_mocks.of_type(IMAGE_TYPE) == []

    return delivery.dependencies[0].urn.apply(check)


def test_git_sync_over_https_alone_makes_nothing() -> None:
    delivery = DagDelivery(
        "t",
        DagDeliveryArgs(
            settings=GitSyncDags(delivery="git-sync", git_sync=HTTPS_REPO),
            registry_password=None,
            git_ssh_key=None,
            names=_names(),
            namespace="ns",
            dags=None,
        ),
    )
    assert delivery.dependencies == []
    assert delivery.values["dags"]["gitSync"]["repo"] == HTTPS_REPO["repo"]


def _names() -> SecretNames:
    """The names of a stack that delivers by ConfigMap, as the wiring gives them."""
    return secret_names(parse_settings({"protectStatefulResources": "false"}, source="Pulumi.test.yaml"))
