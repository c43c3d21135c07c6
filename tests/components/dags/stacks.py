"""The stacks and values the DAG tests share: an image stack, a git-bundle stack, an SSH repo and its
key (made-up values), and the release values of a run."""

from __future__ import annotations

from typing import Any

from tests.conftest import run_stack
from tooling.offline.runtime import Recording, plain

__all__ = [
    "CONFIGMAP_TYPE",
    "HTTPS_REPO",
    "IMAGE",
    "IMAGE_TYPE",
    "PASSWORD",
    "SSH_KEY",
    "SSH_REPO",
    "git_bundle_stack",
    "image_stack",
    "release_values",
]


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


def image_stack(dags: dict[str, Any] | None = None, **overrides: Any) -> Recording:
    """dev building and pushing an image: the DAG image, or the image of ``dags``' settings."""
    return run_stack(
        "dev",
        secret_keys=["airflow:registryPassword"],
        dags=dags or {"delivery": "image", "image": IMAGE},
        registryPassword=PASSWORD,
        **overrides,
    )


def git_bundle_stack(repo: dict[str, Any], **overrides: Any) -> Recording:
    secret = {"secret_keys": ["airflow:gitSshKey"], "gitSshKey": SSH_KEY} if "knownHosts" in repo else {}
    return run_stack("dev", dags={"delivery": "git-bundle", "gitBundle": repo}, **(secret | overrides))


HTTPS_REPO = {"repo": "https://github.com/acme/dags.git", "ref": "main", "subPath": "dags"}


IMAGE_TYPE = "docker:index/image:Image"


CONFIGMAP_TYPE = "kubernetes:core/v1:ConfigMap"
