"""How the stack delivers DAGs (``airflow:dags``): the mode and each mode's settings."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, Discriminator, Field, Tag, model_validator
from pydantic.alias_generators import to_snake
from pydantic_core import PydanticCustomError

from components.model import ConfigModel, RelativePath, Resources, SubPath, matching, resources_of
from components.redact import embedded_credential

__all__ = [
    "DEFAULT_DELIVERY",
    "ConfigMapDags",
    "DagDelivery",
    "DagSettings",
    "GitBundleDags",
    "GitBundleSettings",
    "GitDags",
    "GitSource",
    "GitSyncDags",
    "GitSyncSettings",
    "ImageDags",
    "ImageSettings",
    "deploy_key_problem",
]


DagDelivery = Literal["image", "git-bundle", "git-sync", "configmap"]
RegistryHost = matching(
    r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]{1,5})?",
    "a registry host name, lowercase, with an optional :port (e.g. ghcr.io)",
)
ImageName = matching(
    r"[a-z0-9]([-a-z0-9._/]*[a-z0-9])?(:[0-9]{1,5})?(/[-a-z0-9._]+)+",
    "a lowercase image name without a tag: <registry>/<path> (e.g. ghcr.io/acme/airflow-dags)",
)


def _git_ref(ref: str) -> str:
    """A ref as ``git check-ref-format`` takes it, on the characters git-sync and the bundle pass safely:
    no part starting with '.' or ending with '.lock', no '..', '//', '@{' or trailing '/', and no
    leading '-', which git would read as an option (``--upload-pack=...`` runs a command)."""
    parts = ref.split("/")
    if (
        not _GIT_REF_CHARS.fullmatch(ref)
        or ref.startswith("-")
        or ref == "@"
        or any(token in ref for token in ("..", "@{"))
        or any(not part or part.startswith(".") or part.endswith(".lock") for part in parts)
        or ref.endswith(".")
    ):
        raise PydanticCustomError(
            "git_ref",
            "must be a branch, tag or commit git accepts: letters, digits, '.', '_', '-', '@' and '/', "
            "not starting with '-', without '..', '//', '@{', a part starting with '.' or ending with "
            "'.lock', or a trailing '/' or '.'",
        )
    return ref


_GIT_REF_CHARS = re.compile(r"[A-Za-z0-9._/@-]{1,255}")
GitRef = Annotated[str, AfterValidator(_git_ref)]
_GIT_URL = re.compile(r"https://[^\s@]+|ssh://[^\s]+|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+")


def _git_url(url: str) -> str:
    """A git URL git-sync can clone, without a token in it: the URL lands in the chart values, the state
    and every log that prints them."""
    if embedded_credential(url):
        raise PydanticCustomError(
            "embedded_credential",
            "embeds a credential, which would be stored in plain text (value not shown); use an SSH repo "
            "and set its deploy key with 'pulumi config set --secret airflow:gitSshKey "
            "< ~/.ssh/airflow_deploy_key'",
        )
    if not _GIT_URL.fullmatch(url) or not _PRINTABLE_ASCII.fullmatch(url) or "?" in url or "#" in url:
        raise PydanticCustomError(
            "git_url",
            "must be an https://, ssh:// or git@host:org/repo.git URL of printable ASCII, without a query "
            "(?) or fragment (#): a token there would be stored in plain text, and a hidden or bidi "
            "character would clone another repository than the one shown",
        )
    return url


_PRINTABLE_ASCII = re.compile(r"[!-~]+")
GitRepo = Annotated[str, AfterValidator(_git_url)]

# One known_hosts line (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"): optional marker, host patterns, key type,
# base64 key, optional comment.
_KNOWN_HOST = re.compile(
    r"(@cert-authority |@revoked )?[^\s]+ (ssh-ed25519|ssh-rsa|ssh-dss|ecdsa-sha2-nistp(256|384|521)"
    r"|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,2}( .*)?"
)


def _known_hosts(text: str) -> str:
    """Public host keys only, so nothing else (a private key pasted by mistake) hides in this plain key."""
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if not lines or not all(_KNOWN_HOST.fullmatch(line) for line in lines):
        raise PydanticCustomError(
            "known_hosts",
            "must be known_hosts lines, '<host> <key type> <base64 key>' (the output of 'ssh-keyscan "
            "<host>'), and nothing else",
        )
    return text


KnownHosts = Annotated[str, AfterValidator(_known_hosts)]

_PRIVATE_KEY = re.compile(
    r"-----BEGIN (?P<kind>[A-Z0-9 ]*)PRIVATE KEY-----(?P<body>.*?)-----END [A-Z0-9 ]*PRIVATE KEY-----", re.S
)


def deploy_key_problem(key: str) -> str | None:
    """Why a deploy key could never authenticate, in words that do not show it; None when it can.

    git-sync and the git provider run ssh without a terminal, so a key with a passphrase fails in the
    cluster on every fetch, and a public key pasted in place of the private one as well.
    """
    found = _PRIVATE_KEY.search(key)
    if found is None:
        return (
            "is not a private key (value not shown): set the private half of the deploy key, the file "
            "without .pub (pulumi config set --secret airflow:gitSshKey < ~/.ssh/airflow_deploy_key)"
        )
    passphrase = (
        "is protected by a passphrase (value not shown), which ssh cannot be given in the cluster; "
        "use a deploy key made without one (ssh-keygen -t ed25519 -N '')"
    )
    if found["kind"] == "ENCRYPTED " or "ENCRYPTED" in found["body"].split("\n\n", 1)[0]:
        return passphrase  # PKCS#8 "ENCRYPTED PRIVATE KEY", or a PEM "Proc-Type: 4,ENCRYPTED" header
    if found["kind"] == "OPENSSH " and _openssh_cipher(found["body"]) not in (None, b"none"):
        return passphrase
    return None


def _openssh_cipher(body: str) -> bytes | None:
    """The cipher name of an OpenSSH private key ("none" when it has no passphrase); None if unreadable."""
    try:
        blob = base64.b64decode("".join(body.split()), validate=True)
    except (binascii.Error, ValueError):
        return None
    magic = b"openssh-key-v1\0"
    if not blob.startswith(magic) or len(blob) < len(magic) + 4:
        return None
    length = int.from_bytes(blob[len(magic) : len(magic) + 4], "big")
    return blob[len(magic) + 4 : len(magic) + 4 + length] or None


class ImageSettings(ConfigModel):
    """Where the DAG image is pushed; the password is the secret config value ``airflow:registryPassword``.

    ``repository`` is the full name without a tag (``ghcr.io/acme/airflow-dags``): the tag is always the
    content hash of what goes into the image, so it is not configurable.
    """

    registry: RegistryHost
    repository: ImageName
    username: Annotated[str, Field(min_length=1, max_length=255)]
    platform: Literal["linux/amd64", "linux/arm64"] = "linux/amd64"

    @model_validator(mode="after")
    def _repository_is_on_the_registry(self) -> ImageSettings:
        if not self.repository.startswith(self.registry + "/"):
            raise ValueError(
                f"repository {self.repository!r} must start with the registry {self.registry + '/'!r}, "
                "since the image is pushed there with the registry's credentials"
            )
        return self


class GitSource(ConfigModel):
    """A repository to take DAGs from: what to clone, which ref, which folder of it.

    An SSH ``repo`` (``git@host:org/repo.git`` or ``ssh://...``) needs the secret config value
    ``airflow:gitSshKey`` and ``knownHosts``: host keys are checked, never skipped.
    """

    repo: GitRepo
    ref: GitRef = "main"
    sub_path: SubPath = "dags"
    known_hosts: KnownHosts | None = None

    @property
    def uses_ssh(self) -> bool:
        return not self.repo.startswith("https://")


class GitSyncSettings(GitSource):
    """git-sync v4 (the chart's sidecar beside every pod that reads DAGs), and how often it pulls."""

    period_seconds: int = Field(60, ge=5, le=3600)
    resources: Resources = resources_of("20m", "64Mi", "256Mi")


class GitBundleSettings(GitSource):
    """Airflow 3's own ``GitDagBundle``: the dag-processor fetches the tracking ref every
    ``refreshSeconds`` and records the commit each DAG run starts from; workers and task pods check out
    that commit, so a run keeps its code to the end whatever is merged meanwhile. No sidecar."""

    refresh_seconds: int = Field(60, ge=10, le=86400)


class _DagModeSettings(ConfigModel):
    """What every mode shares: the project folder that holds the DAGs (pushed, packed or checked)."""

    folder: RelativePath = "dags"

    @property
    def git(self) -> GitSource | None:
        """The repository a git mode reads; None for the modes that deliver local files."""
        return None

    @property
    def packages(self) -> ImageSettings | None:
        """Where the image of the folder's packages (``requirements.txt``) is pushed, in the modes that
        deliver DAG files without an image of their own; None otherwise."""
        return None


class _PackagesSettings(_DagModeSettings):
    """``packagesImage``: the DAG files come from git or a ConfigMap, but the packages they import
    (``requirements.txt``) can only come from an image. The program builds ``apache/airflow`` with them
    (and nothing else, so a DAG change rebuilds nothing) and every Airflow pod and task pod runs it."""

    packages_image: ImageSettings | None = None

    @property
    def packages(self) -> ImageSettings | None:
        return self.packages_image


def _needs(data: Any, key: str, message: str) -> Any:
    """Refuses a mode without its settings in words that show the fix (pydantic would say "Field
    required" at ``airflow:dags.<key>``). ``key`` as the stack file spells it, or by its field name."""
    if isinstance(data, dict) and key not in data and to_snake(key) not in data:
        raise ValueError(message)
    return data


class ImageDags(_DagModeSettings):
    """``image``: the folder built into an image on ``apache/airflow`` and pushed to ``image``'s registry."""

    delivery: Literal["image"]
    image: ImageSettings

    @model_validator(mode="before")
    @classmethod
    def _has_image(cls, data: Any) -> Any:
        return _needs(
            data,
            "image",
            "delivery 'image' needs airflow:dags.image with registry, repository and username "
            "(e.g. {registry: ghcr.io, repository: ghcr.io/acme/airflow-dags, username: acme})",
        )


class _GitModeSettings(_PackagesSettings):
    """What both git modes share: a repository under the mode's own key (``git_key``), required."""

    git_key: ClassVar[str]  # the config key of the mode's settings, for messages
    mode: ClassVar[str]

    @model_validator(mode="before")
    @classmethod
    def _has_repo(cls, data: Any) -> Any:
        return _needs(data, cls.git_key, _NEEDS_REPO.format(mode=cls.mode, key=cls.git_key))


class GitBundleDags(_GitModeSettings):
    """``git-bundle``: Airflow's own ``GitDagBundle`` fetches ``gitBundle.repo``."""

    delivery: Literal["git-bundle"]
    git_bundle: GitBundleSettings
    git_key: ClassVar[str] = "gitBundle"
    mode: ClassVar[str] = "git-bundle"

    @property
    def git(self) -> GitSource:
        return self.git_bundle


class GitSyncDags(_GitModeSettings):
    """``git-sync``: the chart's git-sync sidecars pull ``gitSync.repo``."""

    delivery: Literal["git-sync"]
    git_sync: GitSyncSettings
    git_key: ClassVar[str] = "gitSync"
    mode: ClassVar[str] = "git-sync"

    @property
    def git(self) -> GitSource:
        return self.git_sync


class ConfigMapDags(_PackagesSettings):
    """``configmap``, the default because it needs nothing outside the stack: the folder in one
    ConfigMap (1 MiB at most) mounted wherever DAGs are parsed or run."""

    delivery: Literal["configmap"] = "configmap"


_NEEDS_REPO = (
    "delivery '{mode}' needs airflow:dags.{key} with at least repo "
    "(e.g. {{repo: https://github.com/acme/dags.git, ref: main, subPath: dags}})"
)
DEFAULT_DELIVERY = "configmap"


def _delivery_of(value: Any) -> Any:
    """The mode a stack file's ``airflow:dags`` names; ``configmap`` where it names none."""
    if isinstance(value, dict):
        return value.get("delivery", DEFAULT_DELIVERY)
    return getattr(value, "delivery", None)


# How DAG files reach the scheduler, dag-processor, workers and task pods: one settings type per mode,
# chosen by ``delivery``, so each mode's code takes its own type and nothing re-checks what this proved.
DagSettings = Annotated[
    Annotated[ImageDags, Tag("image")]
    | Annotated[GitBundleDags, Tag("git-bundle")]
    | Annotated[GitSyncDags, Tag("git-sync")]
    | Annotated[ConfigMapDags, Tag("configmap")],
    Discriminator(_delivery_of),
]
GitDags = GitBundleDags | GitSyncDags
