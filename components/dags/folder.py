"""The DAG folder as the program delivers it: read once, checked, hashed.

The gate here runs before any resource is registered, with the standard library only, so ``pulumi up``
refuses a folder that cannot be delivered (a syntax error, an oversized file, a packaged ``.zip`` that
Airflow would parse but nothing here can check, an unpinned requirement) with the file and line. What
needs Airflow itself (import errors, tags, owners, parse time) is the test suite's DAG gate
(``tooling/gate/``), which CI runs over the same folder.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from components.dags.entries import entries
from components.dags.packages import PACKAGES_CONTEXT, write_packages_context
from components.dags.settings import ConfigMapDags, DagSettings, ImageDags
from components.model import ConfigError

__all__ = [
    "BUILD_FILES",
    "CONFIGMAP_KEY_LIMIT",
    "CONFIGMAP_LIMIT_BYTES",
    "DOCKERFILE",
    "MAX_FILE_BYTES",
    "REQUIREMENTS",
    "DagFile",
    "DagFolder",
    "DagFolderError",
    "configmap_bytes",
    "configmap_problems",
    "content_tag",
    "dags_for_delivery",
    "load_dag_folder",
]

# A ConfigMap, like every object, must fit in etcd's 1 MiB request limit; keys count as well as data.
CONFIGMAP_LIMIT_BYTES = 1024 * 1024
# Kubernetes' limit on a ConfigMap key (a DNS subdomain's length).
CONFIGMAP_KEY_LIMIT = 253
# One DAG source file larger than this is generated data, not code: it slows every parse loop.
MAX_FILE_BYTES = 512 * 1024
# Pinned packages for image delivery; installed on top of apache/airflow, never parsed as a DAG.
REQUIREMENTS = "requirements.txt"
# The DAG image's build files live in the folder (the build context), so the content hash covers them;
# .dockerignore keeps them out of the image and the ConfigMap leaves them out too.
DOCKERFILE = "Dockerfile"
BUILD_FILES = frozenset({DOCKERFILE, ".dockerignore", REQUIREMENTS})
# Airflow parses .py files and zip archives of them; a zip cannot be checked line by line here.
_PACKAGED = (".zip",)
_PINNED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._,-]+\])?==[A-Za-z0-9.!+_-]+(\s*;.+)?$")
_CONFIGMAP_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")


class DagFolderError(ConfigError):
    """A DAG folder the program will not deliver; one line per problem, each naming the file."""


@dataclass(frozen=True)
class DagFile:
    """One delivered file, by its path inside the DAG folder; its bytes are what is hashed and shipped."""

    path: str  # relative to the folder, with "/" separators
    content: bytes

    @property
    def configmap_key(self) -> str:
        """ConfigMap keys cannot hold "/"; the volume's ``items`` map each key back to its path."""
        return self.path.replace("/", "--")


@dataclass(frozen=True)
class DagFolder:
    """The checked DAG folder: its files sorted by path, so the content tag and the ConfigMap are the same
    for the same files on every machine."""

    folder: str  # as configured, relative to the project
    files: tuple[DagFile, ...]  # sorted by path
    requirements: tuple[str, ...]  # the pinned lines of requirements.txt

    def largest(self, count: int = 3) -> list[DagFile]:
        """The biggest files, named in the message when the folder outgrows a ConfigMap."""
        return sorted(self.files, key=lambda f: (-len(f.content), f.path))[:count]

    def delivered_by_configmap(self) -> tuple[DagFile, ...]:
        """Everything but the build files, which only the image build reads."""
        return tuple(f for f in self.files if f.path not in BUILD_FILES)

    def has(self, path: str) -> bool:
        """Whether the folder holds ``path`` (the image mode needs its Dockerfile and requirements.txt)."""
        return any(f.path == path for f in self.files)


def dags_for_delivery(settings: DagSettings, project: Path) -> DagFolder | None:
    """The checked folder the chosen mode delivers, or None for a git mode when there is no local copy.

    git-sync and git-bundle pull from the repository, so a local folder is optional; when there is one
    (this project deploying its own ``dags/``), it is checked all the same, since that is what will be
    pushed. Its packages (``requirements.txt``) reach the pods only in an image: the DAG image, or
    ``packagesImage`` where the files come from git or a ConfigMap.
    """
    packages = settings.packages
    if settings.git is not None and not (project / settings.folder).is_dir():
        if packages is not None:
            raise DagFolderError(
                f"airflow:dags.packagesImage builds the packages of {settings.folder}/{REQUIREMENTS}, which "
                "is not in this checkout; deploy from a checkout holding the DAG folder"
            )
        return None
    dags = load_dag_folder(project, settings.folder)
    problems = []
    if isinstance(settings, ImageDags):
        problems += [
            f"{dags.folder}/{name}: missing; delivery 'image' builds the DAG folder with its {DOCKERFILE} "
            f"and installs its {REQUIREMENTS} (comments only is fine); see this project's dags/"
            for name in (DOCKERFILE, REQUIREMENTS)
            if not dags.has(name)
        ]
    elif dags.requirements and packages is None:
        problems.append(
            f"{dags.folder}/{REQUIREMENTS}: lists {len(dags.requirements)} package(s), which reach the pods "
            f"only in an image: set airflow:dags.packagesImage {{registry, repository, username}} (and "
            f"airflow:registryPassword) so the program builds one, use airflow:dags.delivery 'image', or "
            "empty the file"
        )
    if isinstance(settings, ConfigMapDags):
        problems += configmap_problems(dags)
    if problems:
        raise DagFolderError("\n".join(problems))
    if packages is not None and dags.requirements:
        _write_packages_context(project, dags.requirements)
    return dags


def _write_packages_context(project: Path, requirements: tuple[str, ...]) -> None:
    """The packages image's build context, written before any resource: a project folder ``pulumi up``
    cannot write to is one line, not a traceback halfway through the deploy."""
    try:
        write_packages_context(project, requirements)
    except OSError as err:
        raise DagFolderError(
            f"{PACKAGES_CONTEXT}: cannot write the packages image's build context there "
            f"({err.strerror or err}); pulumi up needs the project folder writable"
        ) from None


def load_dag_folder(project: Path, folder: str) -> DagFolder:
    """Reads ``project/folder`` and checks every file, or raises one DagFolderError listing each problem."""
    root = project / folder
    if any(
        (project / Path(*Path(folder).parts[: i + 1])).is_symlink() for i in range(len(Path(folder).parts))
    ):
        raise DagFolderError(
            f"airflow:dags.folder {folder!r} is a symbolic link; the DAG folder must be a folder inside the "
            "repository, not a link to one elsewhere"
        )
    if not root.is_dir():
        raise DagFolderError(
            f"airflow:dags.folder: {folder!r} is not a folder in {project.name or project}; "
            "create it or set airflow:dags.folder to the folder that holds your DAG files"
        )
    files: list[DagFile] = []
    problems: list[str] = []
    for path, relative, problem in entries(root, folder):
        shown = f"{folder}/{relative}"
        if problem:
            problems.append(problem)
            continue
        try:
            content = path.read_bytes()
        except OSError as err:
            problems.append(f"{shown}: cannot be read ({err.strerror})")
            continue
        problems += _check(shown, relative, content)
        files.append(DagFile(relative, content))
    requirements = _requirements(folder, files, problems)
    if problems:
        raise DagFolderError("\n".join(problems))
    return DagFolder(folder=folder, files=tuple(files), requirements=requirements)


def _check(shown: str, relative: str, content: bytes) -> list[str]:
    if relative.endswith(_PACKAGED):
        return [
            f"{shown}: Airflow parses .zip files as packaged DAGs, which cannot be checked before "
            "delivery; commit the .py files instead"
        ]
    if len(content) > MAX_FILE_BYTES:
        return [
            f"{shown}: {len(content)} bytes, over the {MAX_FILE_BYTES}-byte limit for one DAG folder file; "
            "keep data out of the DAG folder (object storage, or the image's own files)"
        ]
    if not relative.endswith(".py"):
        return []
    try:
        content.decode("utf-8")
    except UnicodeDecodeError as err:
        return [f"{shown}: not UTF-8 (byte {err.start}); Airflow reads DAG files as UTF-8"]
    try:
        # From bytes, as Python imports a file: a UTF-8 byte-order mark or a coding line is honoured.
        compile(content, shown, "exec", dont_inherit=True)
    except SyntaxError as err:
        return [f"{shown}:{err.lineno}: {err.msg}"]
    except ValueError as err:  # null bytes in the source
        return [f"{shown}: {err}"]
    return []


def _requirements(folder: str, files: list[DagFile], problems: list[str]) -> tuple[str, ...]:
    """The pinned lines of ``requirements.txt``: every package ``name==version``, so an image rebuild
    installs exactly what was tested (a range would make the content hash lie)."""
    found = next((f for f in files if f.path == REQUIREMENTS), None)
    if found is None:
        return ()
    pinned = []
    for number, raw in enumerate(found.content.decode("utf-8", "replace").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if _PINNED.match(line):
            pinned.append(line)
        else:
            problems.append(
                f"{folder}/{REQUIREMENTS}:{number}: {line!r} is not pinned; write name==version "
                "(e.g. pendulum==3.1.0)"
            )
    return tuple(pinned)


def configmap_problems(dags: DagFolder) -> list[str]:
    """Why this folder cannot be one ConfigMap, or nothing: names, encoding and size."""
    problems = []
    keys: dict[str, str] = {}
    for f in dags.delivered_by_configmap():
        shown = f"{dags.folder}/{f.path}"
        if not _CONFIGMAP_KEY.match(f.configmap_key):
            problems.append(f"{shown}: a ConfigMap key allows only letters, digits, '-', '_' and '.'")
        elif len(f.configmap_key) > CONFIGMAP_KEY_LIMIT:
            problems.append(
                f"{shown}: its ConfigMap key ({f.configmap_key!r}, the path with '/' as '--') has "
                f"{len(f.configmap_key)} characters, over Kubernetes' {CONFIGMAP_KEY_LIMIT}; shorten the path"
            )
        elif f.configmap_key in keys:
            problems.append(
                f"{shown}: maps to the same ConfigMap key as {dags.folder}/{keys[f.configmap_key]}"
            )
        keys[f.configmap_key] = f.path
        try:
            f.content.decode("utf-8")
        except UnicodeDecodeError:
            problems.append(f"{shown}: is not UTF-8 text, which a ConfigMap's data cannot hold")
    size = configmap_bytes(dags)
    if size > CONFIGMAP_LIMIT_BYTES:
        largest = ", ".join(f"{f.path} ({len(f.content)} bytes)" for f in dags.largest())
        problems.append(
            f"{dags.folder}: {size} bytes of DAG files, over the {CONFIGMAP_LIMIT_BYTES}-byte ConfigMap "
            f"limit; largest: {largest}. Use airflow:dags.delivery 'image' or 'git-bundle' instead"
        )
    return problems


def configmap_bytes(dags: DagFolder) -> int:
    """What the ConfigMap's data costs: every key plus every value."""
    return sum(len(f.configmap_key.encode()) + len(f.content) for f in dags.delivered_by_configmap())


def content_tag(dags: DagFolder) -> str:
    """The image tag: a hash of the whole build context (Dockerfile, requirements, DAG files), so the
    same content is the same tag and a rebuild of it changes nothing.

    Each file is hashed with its path and length, so renaming or moving a file changes the tag too.
    """
    digest = hashlib.sha256()
    for f in dags.files:
        path, content = f.path, f.content
        digest.update(f"{path}\0{len(content)}\0".encode())
        digest.update(content)
    return f"dags-{digest.hexdigest()[:20]}"
