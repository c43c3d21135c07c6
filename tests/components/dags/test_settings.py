"""DAG delivery settings refused before any resource, in one line naming the key: each mode without
its settings, another mode's settings, plain-text or unusable credentials."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pulumi
import pytest

from tests.components.dags.stacks import (
    HTTPS_REPO,
    IMAGE,
    SSH_KEY,
    SSH_REPO,
    git_bundle_stack,
    release_values,
)
from tests.conftest import run_stack
from tests.helpers import secret_string_data
from tooling.offline.runtime import Recording


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


def test_a_deploy_key_without_an_ssh_repo_is_refused() -> None:
    with pytest.raises(pulumi.RunError, match=r"airflow:gitSshKey is only used with airflow:dags\.delivery"):
        run_stack(
            "dev",
            secret_keys=["airflow:gitSshKey"],
            dags={"delivery": "git-bundle", "gitBundle": HTTPS_REPO},
            gitSshKey=SSH_KEY,
        )


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
