"""The git-bundle mode under mocks: Airflow's own GitDagBundle, its connection and host keys in exactly
the pods that fetch, and its settings refused in one line."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from tests.components.dags.stacks import (
    CONFIGMAP_TYPE,
    HTTPS_REPO,
    IMAGE_TYPE,
    SSH_KEY,
    SSH_REPO,
    git_bundle_stack,
    release_values,
)
from tests.conftest import run_stack
from tests.helpers import secret_string_data
from tooling.offline.runtime import Recording

GIT_CONN_ENV = {
    "name": "AIRFLOW_CONN_DAGS_GIT",
    "valueFrom": {"secretKeyRef": {"name": "airflow-git-connection", "key": "connection"}},
}


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
