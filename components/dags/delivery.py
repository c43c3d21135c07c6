"""DAG delivery: how the stack's DAG files reach every pod that parses or runs them.

Four modes, one per stack (``airflow:dags.delivery``):

- ``image``: ``apache/airflow`` plus the DAG folder and its pinned requirements, built and pushed with
  pulumi-docker. The tag is the content hash of the build context, so the same files are the same tag
  (no rebuild, no Helm upgrade), a rollback is a redeploy of an old tag, and the chart pulls the pushed
  digest.
- ``git-bundle``: Airflow 3's ``GitDagBundle``. The dag-processor fetches the tracking ref itself and
  records the commit each DAG run starts from; Celery workers and task pods check out that commit, so a
  run keeps its code to the end. The repository, and for SSH the deploy key and the host keys to trust,
  reach Airflow as the connection ``dags_git`` in a Secret (an environment variable of exactly those
  pods) and a ConfigMap of known hosts. A DAG commit changes nothing here and restarts no pod.
- ``git-sync``: the chart's git-sync sidecars pull a branch or tag; the program only configures them,
  so a DAG commit changes nothing here.
- ``configmap``: the files in one ConfigMap mounted read-only at the DAGs folder of the scheduler,
  dag-processor, triggerer, Celery workers and Kubernetes-executor task pods. Kubelet refreshes a mounted
  ConfigMap in place, so a DAG edit changes only the ConfigMap's data and restarts nothing.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_docker as docker
from pydantic import SecretStr

from components.dags.folder import DagFolder, content_tag
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
from components.kube_objects import config_map, kubernetes_secret
from components.secrets.names import SecretNames

__all__ = [
    "DAGS_MOUNT_PATH",
    "DagDelivery",
    "DagDeliveryArgs",
    "bundle_config",
    "configmap_values",
    "delivery_values",
    "git_bundle_values",
    "git_connection",
    "git_sync_values",
    "image_values",
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
            "private_key": _with_final_newline(private_key),
            "strict_host_key_checking": "yes",
            "known_hosts_file": f"{KNOWN_HOSTS_DIR}/known_hosts",
        }
    return json.dumps({"conn_type": "git", "host": git.repo, "extra": extra}, sort_keys=True)


def git_bundle_values(git: GitBundleSettings, names: SecretNames) -> dict[str, Any]:
    """The connection and host keys in the pods that fetch the bundle, and in no other.

    The dag-processor fetches the tracking ref; Celery workers and task pods check out the commit of
    their DAG run. The scheduler, api-server and triggerer read serialized DAGs from the database.
    """
    assert names.git_connection is not None  # secret_names gives one to every git-bundle stack
    env = [
        {
            "name": GIT_CONN_ENV,
            "valueFrom": {"secretKeyRef": {"name": names.git_connection, "key": "connection"}},
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
    """The chosen mode's share of the Helm values; ``digest`` is the pushed image's, where known."""
    bundles = {"dagProcessor": {"dagBundleConfigList": bundle_config(settings)}}
    return merge_values(bundles, _mode_values(settings, names, dags, digest))


def _mode_values(
    settings: DagSettings, names: SecretNames, dags: DagFolder | None, digest: pulumi.Input[str | None]
) -> dict[str, Any]:
    match settings:
        case ImageDags(image=image):
            assert dags is not None  # dags_for_delivery reads the folder of every local mode
            assert names.registry is not None  # secret_names names a pull Secret for every image stack
            return image_values(image, content_tag(dags), digest, names.registry)
        case GitSyncDags(git_sync=git):
            return git_sync_values(git, names)
        case GitBundleDags(git_bundle=git):
            return git_bundle_values(git, names)
    assert dags is not None  # dags_for_delivery reads the folder of every local mode
    return configmap_values(dags)


def _mount() -> dict[str, Any]:
    return {"name": _VOLUME, "mountPath": DAGS_MOUNT_PATH, "readOnly": True}


@dataclass(frozen=True, kw_only=True)
class DagDeliveryArgs:
    settings: DagSettings
    # The secret config values the mode needs (checked present by StackSettings), None otherwise.
    registry_password: SecretStr | None
    git_ssh_key: SecretStr | None
    names: SecretNames
    namespace: pulumi.Input[str]
    # Read and checked before any resource exists; None only for git-sync without a local folder.
    dags: DagFolder | None


class DagDelivery(pulumi.ComponentResource):
    """Creates what the chosen mode needs and hands the release its share of the Helm values."""

    values: dict[str, Any]
    # What the release must wait for: the pushed image, the ConfigMap, the credential Secrets.
    dependencies: list[pulumi.Resource]
    image_ref: pulumi.Output[str] | None

    def __init__(self, name: str, args: DagDeliveryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airflow:components:DagDelivery", name, None, opts)
        self._name = name
        self._args = args
        self.dependencies = []
        self.image_ref = None
        settings = args.settings
        digest: pulumi.Input[str | None] = None
        match settings:
            case ImageDags(image=image):
                digest = self._image(image)
            case GitSyncDags():
                self._git_sync()
            case GitBundleDags(git_bundle=git):
                self._git_bundle(git)
            case _:
                self._configmap()
        self.values = delivery_values(settings, args.names, args.dags, digest)
        self.register_outputs({"image_ref": self.image_ref})

    def _child(self) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self)

    def _image(self, image: ImageSettings) -> pulumi.Output[str | None]:
        """Builds and pushes the image, with its pull Secret; the digest the registry gave it."""
        dags, names = self._args.dags, self._args.names
        # All present: StackSettings and dags_for_delivery checked them before any resource.
        assert dags is not None
        assert names.registry is not None
        assert self._args.registry_password is not None
        password = pulumi.Output.secret(self._args.registry_password.get_secret_value())
        built = docker.Image(
            f"{self._name}-dags-image",
            image_name=f"{image.repository}:{content_tag(dags)}",
            # Relative paths: Pulumi runs the program in the project folder, and the render stays
            # identical on every machine.
            build=docker.DockerBuildArgs(
                context=dags.folder, dockerfile=f"{dags.folder}/Dockerfile", platform=image.platform
            ),
            registry=docker.RegistryArgs(server=image.registry, username=image.username, password=password),
            skip_push=False,
            opts=self._child(),
        )
        pull_secret = kubernetes_secret(
            f"{self._name}-registry",
            role="registry",
            secret_name=names.registry,
            namespace=self._args.namespace,
            data={".dockerconfigjson": password.apply(lambda pw: _docker_config(image, pw))},
            type_="kubernetes.io/dockerconfigjson",
            opts=self._child(),
        )
        self.dependencies += [built, pull_secret]
        self.image_ref = built.repo_digest
        return built.repo_digest.apply(lambda ref: ref.split("@", 1)[1] if ref and "@" in ref else None)

    def _git_sync(self) -> None:
        """Only an SSH repo needs a resource: its deploy key; the rest is values."""
        names = self._args.names
        if names.git_ssh_key is not None:
            assert self._args.git_ssh_key is not None  # settings checked
            key = self._args.git_ssh_key.get_secret_value()
            self.dependencies.append(
                kubernetes_secret(
                    f"{self._name}-git-ssh",
                    role="git-ssh",
                    secret_name=names.git_ssh_key,
                    namespace=self._args.namespace,
                    data={"gitSshKey": pulumi.Output.secret(_with_final_newline(key))},
                    opts=self._child(),
                )
            )

    def _git_bundle(self, git: GitBundleSettings) -> None:
        """The ``dags_git`` connection as a Secret (the deploy key inside it), and for SSH the host keys."""
        names = self._args.names
        assert names.git_connection is not None
        key = self._args.git_ssh_key.get_secret_value() if git.uses_ssh and self._args.git_ssh_key else None
        self.dependencies.append(
            kubernetes_secret(
                f"{self._name}-git-connection",
                role="git-connection",
                secret_name=names.git_connection,
                namespace=self._args.namespace,
                data={"connection": git_connection(git, key)},
                opts=self._child(),
            )
        )
        if git.uses_ssh:
            assert git.known_hosts is not None  # checked by StackSettings
            self._config_map(
                "git-known-hosts", KNOWN_HOSTS_CONFIGMAP, {"known_hosts": git.known_hosts.strip() + "\n"}
            )

    def _configmap(self) -> None:
        dags = self._args.dags
        assert dags is not None  # checked before any resource
        data = {f.configmap_key: f.content.decode("utf-8") for f in dags.delivered_by_configmap()}
        self._config_map("dags", CONFIGMAP_NAME, data, resource_suffix="dags-configmap")

    def _config_map(self, component: str, name: str, data: dict[str, str], resource_suffix: str = "") -> None:
        """A ConfigMap of the release's namespace that the release waits for; public data only."""
        self.dependencies.append(
            config_map(
                f"{self._name}-{resource_suffix or component}",
                name=name,
                role=component,
                namespace=self._args.namespace,
                data=data,
                opts=self._child(),
            )
        )


def _docker_config(image: ImageSettings, password: str) -> str:
    auth = base64.b64encode(f"{image.username}:{password}".encode()).decode()
    entry = {"username": image.username, "password": password, "auth": auth}
    return json.dumps({"auths": {image.registry: entry}}, sort_keys=True)


def _with_final_newline(private_key: str) -> str:
    """ssh and git-sync reject a key without its final newline ("error in libcrypto"), which a pasted
    or ``$(cat ...)``-set secret loses."""
    return private_key.rstrip("\n") + "\n"
