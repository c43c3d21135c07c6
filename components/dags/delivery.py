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
from components.dags.packages import PACKAGES_CONTEXT, packages_tag
from components.dags.settings import (
    DagSettings,
    GitBundleDags,
    GitBundleSettings,
    GitSyncDags,
    ImageDags,
    ImageSettings,
)
from components.dags.values import (
    CONFIGMAP_NAME,
    KNOWN_HOSTS_CONFIGMAP,
    delivery_values,
    git_connection,
    with_final_newline,
)
from components.kube_objects import config_map, kubernetes_secret
from components.secrets.names import GIT_CONNECTION_SECRET, REGISTRY_SECRET, SecretNames

__all__ = ["DagDelivery", "DagDeliveryArgs"]


@dataclass(frozen=True, kw_only=True)
class DagDeliveryArgs:
    """The mode's settings, the secrets it needs and the DAG folder read before any resource: what
    ``DagDelivery`` creates from, and nothing of the rest of the stack."""

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
        dags = args.dags
        if settings.packages is not None and dags is not None and dags.requirements:
            digest = self._packages(settings.packages, dags)
        self.values = delivery_values(settings, args.names, dags, digest)
        self.register_outputs({"image_ref": self.image_ref})

    def _child(self) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self)

    def _image(self, image: ImageSettings) -> pulumi.Output[str | None]:
        """Builds and pushes the DAG image, with its pull Secret; the digest the registry gave it."""
        dags = self._args.dags
        assert dags is not None  # dags_for_delivery reads the folder of the image mode
        return self._push("dags-image", image, content_tag(dags), dags.folder)

    def _packages(self, image: ImageSettings, dags: DagFolder) -> pulumi.Output[str | None]:
        """Builds and pushes the image of the folder's packages (``packages.py``); its digest."""
        # dags_for_delivery wrote the context before any resource.
        return self._push("packages-image", image, packages_tag(dags.requirements), PACKAGES_CONTEXT)

    def _push(self, role: str, image: ImageSettings, tag: str, context: str) -> pulumi.Output[str | None]:
        """Builds ``context`` (its Dockerfile) as ``repository:tag``, pushes it and writes the pull
        Secret; the digest the registry gave it."""
        # Present: StackSettings checked it before any resource.
        assert self._args.registry_password is not None
        password = pulumi.Output.secret(self._args.registry_password.get_secret_value())
        built = docker.Image(
            f"{self._name}-{role}",
            image_name=f"{image.repository}:{tag}",
            # Relative paths: Pulumi runs the program in the project folder, and the render stays
            # identical on every machine.
            build=docker.DockerBuildArgs(
                context=context, dockerfile=f"{context}/Dockerfile", platform=image.platform
            ),
            registry=docker.RegistryArgs(server=image.registry, username=image.username, password=password),
            skip_push=False,
            opts=self._child(),
        )
        pull_secret = kubernetes_secret(
            f"{self._name}-registry",
            role="registry",
            secret_name=REGISTRY_SECRET,
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
                    data={"gitSshKey": pulumi.Output.secret(with_final_newline(key))},
                    opts=self._child(),
                )
            )

    def _git_bundle(self, git: GitBundleSettings) -> None:
        """The ``dags_git`` connection as a Secret (the deploy key inside it), and for SSH the host keys."""
        key = self._args.git_ssh_key.get_secret_value() if git.uses_ssh and self._args.git_ssh_key else None
        self.dependencies.append(
            kubernetes_secret(
                f"{self._name}-git-connection",
                role="git-connection",
                secret_name=GIT_CONNECTION_SECRET,
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
