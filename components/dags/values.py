"""Each DAG delivery mode's share of the chart values, and the ``dags_git`` connection: pure, so the
tests read them without a program run (the component that creates what they name: ``delivery``)."""

from __future__ import annotations

import json
from typing import Any

import pulumi

from components.dags.folder import DagFolder, content_tag
from components.dags.packages import packages_tag
from components.dags.settings import (
    DagSettings,
    GitBundleDags,
    GitBundleSettings,
    GitSyncDags,
    GitSyncSettings,
    ImageDags,
    ImageSettings,
)
from components.kube import RELEASE_NAME, RESTRICTED_CONTAINER, merge_values
from components.secrets.names import GIT_CONNECTION_SECRET, REGISTRY_SECRET, SecretNames

__all__ = [
    "CONFIGMAP_NAME",
    "DAGS_MOUNT_PATH",
    "GIT_BUNDLE_CLASS",
    "GIT_CONN_ENV",
    "KNOWN_HOSTS_CONFIGMAP",
    "KNOWN_HOSTS_DIR",
    "bundle_config",
    "configmap_values",
    "delivery_values",
    "git_bundle_values",
    "git_connection",
    "git_sync_values",
    "image_values",
    "with_final_newline",
]

DAGS_MOUNT_PATH = "/opt/airflow/dags"  # the chart's default: {{ .Values.airflowHome }}/dags
CONFIGMAP_NAME = f"{RELEASE_NAME}-dags"
GIT_SYNC_UID = 65533  # the git-sync image's user, the chart's dags.gitSync.uid
_VOLUME = "dags-configmap"  # not "dags": the chart owns that name for persistence and git-sync
LOCAL_BUNDLE_CLASS = "airflow.dag_processing.bundles.local.LocalDagBundle"
GIT_BUNDLE_CLASS = "airflow.providers.git.bundles.git.GitDagBundle"  # in the apache/airflow image
LOCAL_BUNDLE_NAME = "dags-folder"  # the chart's own name for it: DAG versions recorded so far keep theirs
GIT_BUNDLE_NAME = "dags-git"
GIT_CONN_ID = "dags_git"
GIT_CONN_ENV = "AIRFLOW_CONN_DAGS_GIT"  # Airflow reads a connection from AIRFLOW_CONN_<ID> as JSON
KNOWN_HOSTS_CONFIGMAP = f"{RELEASE_NAME}-git-known-hosts"
KNOWN_HOSTS_DIR = "/opt/airflow/git-known-hosts"  # a folder mount, so an edit reaches running pods
_KNOWN_HOSTS_VOLUME = "git-known-hosts"


def image_values(
    image: ImageSettings, tag: str, digest: pulumi.Input[str | None], pull_secret: str
) -> dict[str, Any]:
    """``images.airflow`` at the content-hash tag; the chart prefers ``digest`` over ``tag`` when set."""
    return {
        "images": {
            "airflow": {
                "repository": image.repository,
                "tag": tag,
                "digest": digest,
                "pullPolicy": "IfNotPresent",
            }
        },
        "imagePullSecrets": [{"name": pull_secret}],
    }


def git_sync_values(git: GitSyncSettings, names: SecretNames) -> dict[str, Any]:
    """``dags.gitSync`` for git-sync v4: ``ref`` is the branch, tag or commit to follow."""
    sync: dict[str, Any] = {
        "enabled": True,
        "repo": git.repo,
        "ref": git.ref,
        "branch": git.ref,
        "subPath": git.sub_path,
        "period": f"{git.period_seconds}s",
        "depth": 1,
        "uid": GIT_SYNC_UID,
        "resources": git.resources.to_kubernetes(),
        "securityContexts": {"container": {"runAsUser": GIT_SYNC_UID, **RESTRICTED_CONTAINER}},
    }
    if names.git_ssh_key is not None:
        sync["sshKeySecret"] = names.git_ssh_key
        sync["knownHosts"] = git.known_hosts
    return {"dags": {"gitSync": sync}}


def bundle_config(settings: DagSettings) -> list[dict[str, Any]]:
    """``[dag_processor] dag_bundle_config_list``: where every Airflow component finds DAG files.

    The local modes name their folder as a ``LocalDagBundle`` (git-sync's follows the chart's
    ``dags_folder``, which includes the repository's sub-path); ``git-bundle`` is one ``GitDagBundle``.
    """
    if not isinstance(settings, GitBundleDags):
        kwargs = {} if isinstance(settings, GitSyncDags) else {"path": DAGS_MOUNT_PATH}
        return [{"name": LOCAL_BUNDLE_NAME, "classpath": LOCAL_BUNDLE_CLASS, "kwargs": kwargs}]
    git = settings.git_bundle
    # repo_url repeats the connection's host, so the values (and the render) say what is cloned.
    kwargs = {
        "git_conn_id": GIT_CONN_ID,
        "repo_url": git.repo,
        "tracking_ref": git.ref,
        "refresh_interval": git.refresh_seconds,
    }
    if git.sub_path:
        kwargs["subdir"] = git.sub_path
    return [{"name": GIT_BUNDLE_NAME, "classpath": GIT_BUNDLE_CLASS, "kwargs": kwargs}]


def git_connection(git: GitBundleSettings, private_key: str | None) -> str:
    """The ``dags_git`` connection as Airflow reads it from an environment variable (JSON).

    Over SSH the deploy key travels inside it (the git provider writes it to a private temporary file
    per fetch) and only the mounted known hosts are trusted: ``StrictHostKeyChecking=yes``, never the
    provider's trust-on-first-use default.
    """
    extra: dict[str, str] = {}
    if git.uses_ssh:
        assert private_key is not None  # StackSettings requires airflow:gitSshKey for an SSH repo
        extra = {
            "private_key": with_final_newline(private_key),
            "strict_host_key_checking": "yes",
            "known_hosts_file": f"{KNOWN_HOSTS_DIR}/known_hosts",
        }
    return json.dumps({"conn_type": "git", "host": git.repo, "extra": extra}, sort_keys=True)


def git_bundle_values(git: GitBundleSettings) -> dict[str, Any]:
    """The connection and host keys in the pods that fetch the bundle, and in no other.

    The dag-processor fetches the tracking ref; Celery workers and task pods check out the commit of
    their DAG run. The scheduler, api-server and triggerer read serialized DAGs from the database.
    """
    env = [
        {
            "name": GIT_CONN_ENV,
            "valueFrom": {"secretKeyRef": {"name": GIT_CONNECTION_SECRET, "key": "connection"}},
        }
    ]
    fetches: dict[str, Any] = {"env": env}
    if git.uses_ssh:
        fetches |= {
            "extraVolumes": [{"name": _KNOWN_HOSTS_VOLUME, "configMap": {"name": KNOWN_HOSTS_CONFIGMAP}}],
            "extraVolumeMounts": [
                {"name": _KNOWN_HOSTS_VOLUME, "mountPath": KNOWN_HOSTS_DIR, "readOnly": True}
            ],
        }
    return {"dagProcessor": fetches, "workers": {"celery": fetches, "kubernetes": fetches}}


def configmap_values(dags: DagFolder) -> dict[str, Any]:
    """The ConfigMap as a read-only volume wherever DAGs are parsed or run.

    ``items`` map each flat key back to its path, so sub-folders and shared modules keep working. No
    ``subPath`` mounts: those would never see an updated ConfigMap.
    """
    volume = {
        "name": _VOLUME,
        "configMap": {
            "name": CONFIGMAP_NAME,
            "items": [{"key": f.configmap_key, "path": f.path} for f in dags.delivered_by_configmap()],
        },
    }
    mounted = {"extraVolumes": [volume], "extraVolumeMounts": [_mount()]}
    return {
        "scheduler": mounted,
        "dagProcessor": mounted,
        "triggerer": mounted,
        "workers": {"celery": mounted, "kubernetes": mounted},
    }


def delivery_values(
    settings: DagSettings,
    names: SecretNames,
    dags: DagFolder | None,
    digest: pulumi.Input[str | None] = None,
) -> dict[str, Any]:
    """The chosen mode's share of the Helm values; ``digest`` is the pushed image's (the DAG image, or
    the packages' image of ``packagesImage``), where known."""
    bundles = {"dagProcessor": {"dagBundleConfigList": bundle_config(settings)}}
    values = merge_values(bundles, _mode_values(settings, names, dags, digest))
    packages = settings.packages
    if packages is not None and dags is not None and dags.requirements:
        # Every Airflow pod and task pod runs Airflow with the packages; the DAG files come as before.
        values = merge_values(
            values, image_values(packages, packages_tag(dags.requirements), digest, REGISTRY_SECRET)
        )
    return values


def _mode_values(
    settings: DagSettings, names: SecretNames, dags: DagFolder | None, digest: pulumi.Input[str | None]
) -> dict[str, Any]:
    match settings:
        case ImageDags(image=image):
            assert dags is not None  # dags_for_delivery reads the folder of every local mode
            return image_values(image, content_tag(dags), digest, REGISTRY_SECRET)
        case GitSyncDags(git_sync=git):
            return git_sync_values(git, names)
        case GitBundleDags(git_bundle=git):
            return git_bundle_values(git)
    assert dags is not None  # dags_for_delivery reads the folder of every local mode
    return configmap_values(dags)


def _mount() -> dict[str, Any]:
    return {"name": _VOLUME, "mountPath": DAGS_MOUNT_PATH, "readOnly": True}


def with_final_newline(private_key: str) -> str:
    """ssh and git-sync reject a key without its final newline ("error in libcrypto"), which a pasted
    or ``$(cat ...)``-set secret loses."""
    return private_key.rstrip("\n") + "\n"
