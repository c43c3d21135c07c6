"""DAG delivery under mocks: what each mode registers, what the release gets, and what stays secret."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pulumi
import pytest

from components.dags.folder import content_tag, load_dag_folder
from components.settings import EXECUTORS
from tests.conftest import ROOT, run_project, run_stack
from tests.helpers import secret_string_data
from tooling.offline.runtime import Recording, is_secret, plain
from tooling.offline.trial import THROWAWAY_STACK, project_copy

IMAGE_TYPE = "docker:index/image:Image"
CONFIGMAP_TYPE = "kubernetes:core/v1:ConfigMap"
IMAGE = {"registry": "ghcr.io", "repository": "ghcr.io/acme/airflow-dags", "username": "acme-ci"}
SSH_REPO = {
    "repo": "git@github.com:acme/dags.git",
    "ref": "release-1.4",
    "knownHosts": "github.com ssh-ed25519 AAAA",
}
PASSWORD = "ghp_registryTokenValue123"
SSH_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----"


def release_values(recording: Recording) -> dict[str, Any]:
    return plain(recording.release().inputs)["values"]


def image_stack(**overrides: Any) -> Recording:
    return run_stack(
        "dev",
        secret_keys=["airflow:registryPassword"],
        dags={"delivery": "image", "image": IMAGE},
        registryPassword=PASSWORD,
        **overrides,
    )


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


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"dags": {"delivery": "image", "image": IMAGE}},
            "airflow:dags.delivery 'image' needs the secret config value airflow:registryPassword",
        ),
        ({"dags": {"delivery": "image"}}, "delivery 'image' needs airflow:dags.image with registry"),
        (
            {"dags": {"delivery": "git-sync", "gitSync": SSH_REPO}},
            "needs the secret config value airflow:gitSshKey",
        ),
        (
            {"dags": {"delivery": "git-sync", "gitSync": {"repo": "git@github.com:acme/dags.git"}}},
            "airflow:dags.gitSync.knownHosts is required for an SSH repo",
        ),
        (
            {"dags": {"delivery": "git-sync", "gitSync": {"repo": "http://github.com/acme/dags.git"}}},
            "airflow:dags.gitSync.repo in Pulumi.dev.yaml: must be an https://, ssh:// or "
            "git@host:org/repo.git URL",
        ),
        ({"dags": {"delivery": "rsync"}}, "airflow:dags.delivery in Pulumi.dev.yaml: must be one of 'image'"),
        ({"dags": {"delivery": "git-bundle"}}, "delivery 'git-bundle' needs airflow:dags.gitBundle with"),
        (
            {"dags": {"delivery": "image", "image": IMAGE, "gitSync": {"repo": "https://a.io/r.git"}}},
            "airflow:dags.gitSync in Pulumi.dev.yaml is the settings of airflow:dags.delivery 'git-sync', "
            "but the delivery is 'image'",
        ),
        ({"dags": "configmap"}, "airflow:dags in Pulumi.dev.yaml: must be a mapping such as {delivery: "),
        (
            {"dags": {"delivery": "image", "image": {**IMAGE, "tag": "v1"}}},
            "airflow:dags.image.tag in Pulumi.dev.yaml is not a known key",
        ),
        (
            {"dags": {"folder": "/etc"}},
            "airflow:dags.folder in Pulumi.dev.yaml: must be a relative path inside",
        ),
        (
            {"dags": {"folder": "../elsewhere"}},
            "airflow:dags.folder in Pulumi.dev.yaml: must be a relative path",
        ),
        (
            {
                "dags": {
                    "delivery": "git-sync",
                    "gitSync": {"repo": "https://a.io/r.git", "subPath": "a/../../x"},
                }
            },
            "airflow:dags.gitSync.subPath in Pulumi.dev.yaml: must be a relative path inside the repository",
        ),
        ({"dags": {"folder": "no-such-folder"}}, "airflow:dags.folder: 'no-such-folder' is not a folder"),
    ],
)
def test_bad_delivery_config_stops_before_any_resource(overrides: dict[str, Any], message: str) -> None:
    recording = Recording()
    with pytest.raises(pulumi.RunError) as caught:
        run_stack("dev", recording=recording, fill_secrets=False, **overrides)
    assert message in str(caught.value)
    assert recording.registrations == []


@pytest.mark.parametrize("key", ["registryPassword", "gitSshKey"])
def test_plain_text_credentials_are_refused(key: str) -> None:
    with pytest.raises(pulumi.RunError) as caught:
        run_stack("dev", fill_secrets=False, **{key: "hunter2-plain"})
    assert f"airflow:{key} in Pulumi.dev.yaml is stored in plain text" in str(caught.value)
    assert "hunter2-plain" not in str(caught.value)


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


HTTPS_REPO = {"repo": "https://github.com/acme/dags.git", "ref": "main", "subPath": "dags"}
GIT_CONN_ENV = {
    "name": "AIRFLOW_CONN_DAGS_GIT",
    "valueFrom": {"secretKeyRef": {"name": "airflow-git-connection", "key": "connection"}},
}


def git_bundle_stack(repo: dict[str, Any], **overrides: Any) -> Recording:
    secret = {"secret_keys": ["airflow:gitSshKey"], "gitSshKey": SSH_KEY} if "knownHosts" in repo else {}
    return run_stack("dev", dags={"delivery": "git-bundle", "gitBundle": repo}, **(secret | overrides))


def fetching_components(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The pods that fetch a git bundle, and the ones that only read serialized DAGs."""
    return {
        "dagProcessor": values["dagProcessor"],
        "celery": values["workers"].get("celery", {}),
        "kubernetes": values["workers"].get("kubernetes", {}),
    }


def test_git_bundle_over_ssh_is_a_versioned_bundle_with_its_deploy_key_only_in_a_secret() -> None:
    recording = git_bundle_stack(
        {**SSH_REPO, "refreshSeconds": 120}, executor="CeleryExecutor,KubernetesExecutor"
    )
    values = release_values(recording)
    assert values["dagProcessor"]["dagBundleConfigList"] == [
        {
            "name": "dags-git",
            "classpath": "airflow.providers.git.bundles.git.GitDagBundle",
            "kwargs": {
                "git_conn_id": "dags_git",
                "repo_url": "git@github.com:acme/dags.git",
                "tracking_ref": "release-1.4",
                "subdir": "dags",
                "refresh_interval": 120,
            },
        }
    ]
    connection = json.loads(secret_string_data(recording, "airflow-git-connection")["connection"])
    assert connection == {
        "conn_type": "git",
        "host": "git@github.com:acme/dags.git",
        "extra": {
            "private_key": SSH_KEY + "\n",
            "strict_host_key_checking": "yes",
            "known_hosts_file": "/opt/airflow/git-known-hosts/known_hosts",
        },
    }
    (known_hosts,) = recording.of_component(CONFIGMAP_TYPE, "git-known-hosts")
    assert known_hosts.inputs["data"] == {"known_hosts": "github.com ssh-ed25519 AAAA\n"}
    for name, component in fetching_components(values).items():
        assert component["env"] == [GIT_CONN_ENV], name
        (volume,) = component["extraVolumes"]
        assert volume["configMap"]["name"] == known_hosts.inputs["metadata"]["name"]
        assert component["extraVolumeMounts"] == [
            {"name": volume["name"], "mountPath": "/opt/airflow/git-known-hosts", "readOnly": True}
        ]
    for name in ("scheduler", "apiServer", "triggerer"):
        assert "env" not in values[name], name
        assert "extraVolumes" not in values[name], name
    assert "b3BlbnNzaC1rZXktdjEAAAAA" not in json.dumps(recording.release().inputs)
    assert values["dags"]["gitSync"].get("enabled") is not True
    dependencies = recording.release().dependencies
    assert recording.named("airflow-git-connection").urn in dependencies
    assert known_hosts.urn in dependencies
    assert recording.of_type(IMAGE_TYPE) == []


def test_git_bundle_over_https_needs_no_key_and_no_host_keys() -> None:
    recording = git_bundle_stack({**HTTPS_REPO, "subPath": ""})
    values = release_values(recording)
    (bundle,) = values["dagProcessor"]["dagBundleConfigList"]
    assert bundle["kwargs"] == {
        "git_conn_id": "dags_git",
        "repo_url": "https://github.com/acme/dags.git",
        "tracking_ref": "main",
        "refresh_interval": 60,
    }
    connection = json.loads(secret_string_data(recording, "airflow-git-connection")["connection"])
    assert connection == {"conn_type": "git", "host": "https://github.com/acme/dags.git", "extra": {}}
    assert recording.of_component(CONFIGMAP_TYPE, "git-known-hosts") == []
    for component in fetching_components(values).values():
        assert component.get("env") == [GIT_CONN_ENV]
        assert "extraVolumes" not in component


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


@pytest.mark.parametrize(
    ("repo", "message"),
    [
        (SSH_REPO, "airflow:dags.delivery 'git-bundle' needs the secret config value airflow:gitSshKey"),
        (
            {"repo": "git@github.com:acme/dags.git"},
            "airflow:dags.gitBundle.knownHosts is required for an SSH repo",
        ),
        ({**HTTPS_REPO, "refreshSeconds": 1}, "airflow:dags.gitBundle.refreshSeconds in Pulumi.dev.yaml"),
        (
            {"repo": "https://user:hunter2secret@github.com/acme/dags.git"},
            "airflow:dags.gitBundle.repo in Pulumi.dev.yaml: embeds a credential",
        ),
        (None, "delivery 'git-bundle' needs airflow:dags.gitBundle with at least repo"),
    ],
)
def test_bad_git_bundle_config_stops_before_any_resource(repo: dict[str, Any] | None, message: str) -> None:
    recording = Recording()
    dags: dict[str, Any] = {"delivery": "git-bundle"} | ({"gitBundle": repo} if repo else {})
    with pytest.raises(pulumi.RunError) as caught:
        run_stack("dev", recording=recording, fill_secrets=False, dags=dags)
    assert message in str(caught.value)
    assert "hunter2secret" not in str(caught.value)
    assert recording.registrations == []


def test_a_deploy_key_without_an_ssh_repo_is_refused() -> None:
    with pytest.raises(pulumi.RunError, match=r"airflow:gitSshKey is only used with airflow:dags\.delivery"):
        run_stack(
            "dev",
            secret_keys=["airflow:gitSshKey"],
            dags={"delivery": "git-bundle", "gitBundle": HTTPS_REPO},
            gitSshKey=SSH_KEY,
        )


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


@pytest.mark.parametrize("mode", ["gitSync", "gitBundle"])
def test_an_ssh_url_with_a_user_name_is_not_mistaken_for_a_credential(mode: str) -> None:
    repo = {**SSH_REPO, "repo": "ssh://git@git.example.com:2222/acme/dags.git"}
    delivery = {"gitSync": "git-sync", "gitBundle": "git-bundle"}[mode]
    recording = run_stack(
        "dev",
        secret_keys=["airflow:gitSshKey"],
        dags={"delivery": delivery, mode: repo},
        gitSshKey=SSH_KEY,
    )
    assert "ssh://git@git.example.com:2222/acme/dags.git" in json.dumps(release_values(recording))


def _ssh_keygen(tmp_path: Path, passphrase: str) -> Path:
    key = tmp_path / "deploy_key"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", "", "-f", str(key)], check=True
    )
    return key


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs ssh-keygen (openssh-client)")
@pytest.mark.parametrize(
    ("which", "message"),
    [
        ("public", "airflow:gitSshKey is not a private key (value not shown)"),
        ("encrypted", "airflow:gitSshKey is protected by a passphrase (value not shown)"),
    ],
)
def test_a_deploy_key_that_cannot_work_is_refused_before_any_resource(
    tmp_path: Path, which: str, message: str
) -> None:
    key = _ssh_keygen(tmp_path, "a passphrase" if which == "encrypted" else "")
    text = (key.with_suffix(".pub") if which == "public" else key).read_text()
    recording = Recording()
    with pytest.raises(pulumi.RunError) as caught:
        git_bundle_stack(SSH_REPO, recording=recording, gitSshKey=text)
    assert message in str(caught.value)
    assert text.split()[1][:20] not in str(caught.value)
    assert recording.registrations == []


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs ssh-keygen (openssh-client)")
def test_a_deploy_key_without_a_passphrase_is_taken(tmp_path: Path) -> None:
    key = _ssh_keygen(tmp_path, "").read_text()
    recording = git_bundle_stack(SSH_REPO, gitSshKey=key)
    assert (
        json.loads(secret_string_data(recording, "airflow-git-connection")["connection"])["extra"][
            "private_key"
        ]
        == key
    )
