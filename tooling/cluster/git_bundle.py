"""Check ``git-bundle-packages``: a DAG that imports a package of ``dags/requirements.txt`` passes the
DAG gate and runs on the real cluster with ``airflow:dags.delivery: git-bundle``, its file fetched by
Airflow's own GitDagBundle over SSH from a git server, its package from the image the program builds
(``airflow:dags.packagesImage``).

The git server is a pod in a namespace of its own (sshd and git as the Airflow image's user, a
repository made of the deployed project's ``dags/``), reached as a private fork is: an ``ssh://`` URL,
a deploy key (``airflow:gitSshKey``) and the server's host key in ``knownHosts``. The cluster reaches
nothing outside, so the image build's pip reads a package index the test serves inside the node's
network namespace (the stand-in Airflow image's ``PIP_INDEX_URL``); pulumi up, the build and the
chart's values are what a user's would be.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tooling.cluster.checks import Deployed
from tooling.cluster.external import (
    EXTERNAL_NAMESPACE,
    apply_outside,
    pod_object,
    secret_object,
    service_object,
    wait_ready,
)
from tooling.cluster.mid_run import made_since, terminating
from tooling.cluster.node import Node
from tooling.cluster.timeline import CheckFailed
from tooling.cluster.workspace import Workspace

__all__ = [
    "GIT_PORT",
    "PACKAGES_DAG",
    "PACKAGES_DAG_FILE",
    "PACKAGE_INDEX_PORT",
    "REQUIREMENT",
    "GitServer",
    "check_counted",
    "dags_repository",
    "deploy_from_git",
    "git_bundle_settings",
    "git_server",
    "git_server_objects",
    "import_errors",
    "package_index",
    "packages_images",
    "ssh_key_pair",
]

PACKAGES_DAG = "cluster_probe_packages"
PACKAGES_DAG_FILE = Path(__file__).resolve().parent / "git_dags" / f"{PACKAGES_DAG}.py"
REQUIREMENT = "toolz==1.0.0"  # pure Python, and not among Airflow's own dependencies
# What each task of PACKAGES_DAG prints (git_dags/cluster_probe_packages.py).
EXPECTED_LINE = "cluster-probe: toolz 1.0.0 counted [('a', 2), ('b', 1), ('c', 1)]"
# The stand-in Airflow image's PIP_INDEX_URL names this port (tooling/cluster/images/airflow/Dockerfile).
PACKAGE_INDEX_PORT = 3141
# The chart's component labels of the pods that run Airflow (and its log groomers) on the Airflow image.
AIRFLOW_COMPONENTS = frozenset({"scheduler", "dag-processor", "triggerer", "api-server", "worker"})
GIT_PORT = 2222  # sshd runs as the image's user, which cannot bind 22
_GIT_HOST = f"git.{EXTERNAL_NAMESPACE}.svc.cluster.local"
_REPOSITORY = "/srv/git/dags.git"
_GIT_USER = 50000  # the stand-in Airflow image's user, with a home and a login shell
# sshd as that user: no privilege separation to set up, only the key of the deploy key's owner.
_SERVE = f"""set -eu
mkdir -p /srv/ssh /srv/git
install -m 600 /conf/host_key /srv/ssh/host_key
install -m 600 /conf/authorized_keys /srv/ssh/authorized_keys
base64 -d /conf/dags.bundle.b64 > /srv/dags.bundle
git clone -q --bare /srv/dags.bundle {_REPOSITORY}
git -C {_REPOSITORY} symbolic-ref HEAD refs/heads/main
printf '%s\\n' 'Port {GIT_PORT}' 'HostKey /srv/ssh/host_key' 'AuthorizedKeysFile /srv/ssh/authorized_keys' \\
  'PasswordAuthentication no' 'KbdInteractiveAuthentication no' 'UsePAM no' 'StrictModes no' \\
  'PidFile /srv/ssh/sshd.pid' > /srv/ssh/sshd_config
exec /usr/sbin/sshd -D -e -f /srv/ssh/sshd_config
"""


@dataclass(frozen=True)
class GitServer:
    """What a user sets to fetch from the server: its URL, its host key as a known_hosts line, and the
    deploy key (secret)."""

    repo: str
    known_hosts: str
    deploy_key: str


def ssh_key_pair() -> tuple[str, str]:
    """A new Ed25519 key without a passphrase: (private key in OpenSSH's format, public key line)."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return private, public.decode()


def dags_repository(dags: Path, scratch: Path) -> tuple[bytes, str]:
    """A repository holding ``dags`` under ``dags/`` (the chart's default ``subPath``) on ``main``, as a
    git bundle: (the bundle's bytes, the commit)."""
    repository = scratch / "repository"
    shutil.rmtree(repository, ignore_errors=True)
    shutil.copytree(dags, repository / "dags", ignore=shutil.ignore_patterns("__pycache__"))

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "-c", "user.name=cluster-test", "-c", "user.email=cluster-test@invalid", *args],
            cwd=repository,
            check=True,
            capture_output=True,
            text=True,
        )
        return done.stdout.strip()

    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-q", "-m", "the DAGs the cluster test serves")
    bundle = scratch / "dags.bundle"
    git("bundle", "create", "-q", str(bundle), "main")
    return bundle.read_bytes(), git("rev-parse", "HEAD")


def git_server_objects(bundle: bytes, host_key: str, authorized_key: str) -> list[dict[str, Any]]:
    """The git server's namespace, Secret, pod and Service."""
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": EXTERNAL_NAMESPACE}},
        secret_object(
            "git-server",
            {
                "host_key": host_key,
                "authorized_keys": authorized_key + "\n",
                "dags.bundle.b64": base64.b64encode(bundle).decode(),
            },
        ),
        pod_object(
            "git",
            {
                "image": "apache/airflow:3.2.2",
                # containerd's store outlives a run: a tag it holds may be an older build of the image.
                "imagePullPolicy": "Always",
                "command": ["/bin/bash", "-c", _SERVE],
                "volumeMounts": [
                    {"name": "conf", "mountPath": "/conf", "readOnly": True},
                    {"name": "srv", "mountPath": "/srv"},
                ],
                "readinessProbe": {"tcpSocket": {"port": GIT_PORT}, "periodSeconds": 2},
            },
            _GIT_USER,
            [
                {"name": "conf", "secret": {"secretName": "git-server", "defaultMode": 0o440}},
                {"name": "srv", "emptyDir": {}},
            ],
        ),
        service_object("git", GIT_PORT),
    ]


def git_server(host_public_key: str, deploy_key: str) -> GitServer:
    """The URL, known_hosts line and deploy key of the server ``git_server_objects`` runs."""
    key_type, key = host_public_key.split()[:2]
    return GitServer(
        repo=f"ssh://airflow@{_GIT_HOST}:{GIT_PORT}{_REPOSITORY}",
        known_hosts=f"[{_GIT_HOST}]:{GIT_PORT} {key_type} {key}",
        deploy_key=deploy_key,
    )


def git_bundle_settings(server: GitServer, image_repository: str) -> dict[str, str]:
    """The plain stack config (``--path`` keys) that switches a stack to the git server's DAGs and the
    packages image pushed beside ``image_repository`` (the DAG image's repository)."""
    registry = image_repository.split("/", 1)[0]
    return {
        "airflow:dags.delivery": "git-bundle",
        "airflow:dags.gitBundle.repo": server.repo,
        "airflow:dags.gitBundle.ref": "main",
        "airflow:dags.gitBundle.subPath": "dags",
        "airflow:dags.gitBundle.knownHosts": server.known_hosts,
        "airflow:dags.gitBundle.refreshSeconds": "10",
        "airflow:dags.packagesImage.registry": registry,
        "airflow:dags.packagesImage.repository": f"{registry}/airflow-packages",
        "airflow:dags.packagesImage.username": "airflow",
    }


def package_index(wheels: Path, python: str, folder: Path) -> Path:
    """A PEP 503 index of ``REQUIREMENT`` under ``folder/simple`` (a directory listing is one), its wheel
    downloaded from PyPI by this machine's pip; the folder to serve."""
    name = REQUIREMENT.split("==")[0]
    project = folder / "simple" / name
    project.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            python,
            "-m",
            "pip",
            "download",
            "-q",
            "--no-deps",
            "--only-binary=:all:",
            "-d",
            str(wheels),
            REQUIREMENT,
        ],
        check=True,
        capture_output=True,
    )
    for wheel in wheels.glob(f"{name}-*.whl"):
        shutil.copy2(wheel, project / wheel.name)
    return folder


def check_counted(logs: dict[str, str], run: dict[str, Any], commit: str) -> None:
    """Each task printed what the package computed, and the run started from the served commit."""
    if run.get("bundle_version") != commit:
        raise CheckFailed(
            f"{PACKAGES_DAG} ran bundle version {run.get('bundle_version')!r}, not the git server's "
            f"commit {commit}: its DAG did not come from the repository"
        )
    for task_id, log in logs.items():
        if EXPECTED_LINE not in log:
            raise CheckFailed(f"{task_id} did not print {EXPECTED_LINE!r}: {json.dumps(log)[-600:]}")


def deploy_from_git(node: Node, workspace: Workspace, deployed: Deployed) -> str:
    """The whole check on ``local`` after its other checks: the DAG and its package added as a user adds
    them, the gate, the switch to git-bundle with a packages image, ``up``, and a run on each
    executor. A line for the timeline's facts."""
    scratch = workspace.layout.run / "git-bundle"
    scratch.mkdir(parents=True, exist_ok=True)
    python = deployed.tools_python
    index = package_index(scratch / "wheels", python, scratch / "index")
    node.serve(
        "package-index",
        [
            python,
            "-m",
            "http.server",
            "--bind",
            "127.0.0.1",
            "--directory",
            str(index),
            str(PACKAGE_INDEX_PORT),
        ],
        PACKAGE_INDEX_PORT,
    )
    # What the user commits: the DAG, and the package it imports pinned in requirements.txt.
    dags = workspace.folder / "dags"
    shutil.copy2(PACKAGES_DAG_FILE, dags / PACKAGES_DAG_FILE.name)
    requirements = dags / "requirements.txt"
    requirements.write_text(requirements.read_text() + REQUIREMENT + "\n")
    bundle, commit = dags_repository(dags, scratch)
    host_key, host_public = ssh_key_pair()
    deploy_key, deploy_public = ssh_key_pair()
    apply_outside(node, scratch, "git-server", git_server_objects(bundle, host_key, deploy_public))
    wait_ready(node, ("git",), "the git server")
    server = git_server(host_public, deploy_key)
    image_repository = workspace.config_value("airflow:dags.image.repository")
    assert image_repository is not None, "local builds its DAG image"
    workspace.run("config", "rm", "--path", "airflow:dags.image", check=True)
    for key, value in git_bundle_settings(server, image_repository).items():
        workspace.set_value(key, value, path=True)
    workspace.set_secret("airflow:gitSshKey", server.deploy_key)
    # The gate as CI runs it before a deploy: the folder's packages installed for its parse.
    gate = subprocess.run(
        [python, "-m", "tooling.gate", "--stack", workspace.stack],
        cwd=workspace.folder,
        capture_output=True,
        text=True,
    )
    if gate.returncode != 0:
        raise CheckFailed(f"the DAG gate refused the folder: {(gate.stdout + gate.stderr).strip()[-800:]}")
    # The API server stamps objects in whole seconds, on this machine's clock.
    up_started = datetime.now(UTC).replace(microsecond=0)
    workspace.run("up", "--yes", "--skip-preview", check=True)
    api = deployed.api
    assert api is not None
    try:
        run = deployed.run_dag(PACKAGES_DAG)
    except RuntimeError as err:  # never parsed: say what Airflow said of the file
        raise CheckFailed(f"{err}; {import_errors(api.call('GET', '/api/v2/importErrors'))}") from None
    logs = deployed.task_logs(PACKAGES_DAG, run, ["counts_on_celery", "counts_in_a_pod"])
    check_counted(logs, api.call("GET", f"/api/v2/dags/{PACKAGES_DAG}/dagRuns/{run}"), commit)
    images = packages_images(
        deployed.kubectl_json("get", "pods", "-n", deployed.namespace)["items"], up_started
    )
    return (
        f"{PACKAGES_DAG} passed the gate with {REQUIREMENT}, and ran from commit {commit[:12]} of the git "
        f"server on both executors; Airflow pods on the packages image: {images}"
    )


def import_errors(listed: dict[str, Any]) -> str:
    """The last line of each import error Airflow holds for the packages DAG's file (``/importErrors``)."""
    lines = [
        f"{error['filename']}: {((error.get('stack_trace') or '').strip().splitlines() or ['?'])[-1]}"
        for error in listed.get("import_errors", [])
        if PACKAGES_DAG in error.get("filename", "")
    ]
    return "import errors: " + ("; ".join(lines) if lines else "none for its file")


def packages_images(pods: list[dict[str, Any]], since: datetime) -> int:
    """How many containers of the running Airflow pods made ``since`` the switch's ``up`` run the
    packages image; a CheckFailed naming any that runs another (the packages reach every pod that parses
    or runs DAGs, or none). An older pod is the earlier deploy's: a task pod finishing its task."""
    others, count = [], 0
    for pod in pods:
        metadata = pod["metadata"]
        if metadata.get("labels", {}).get("component") not in AIRFLOW_COMPONENTS:
            continue
        if pod["status"].get("phase") != "Running" or terminating(pod) or not made_since(pod, since):
            continue
        for container in pod["spec"]["containers"]:
            if "/airflow-packages" in container["image"]:
                count += 1
            else:
                others.append(f"{metadata['name']}/{container['name']}: {container['image']}")
    if others or not count:
        raise CheckFailed(f"Airflow containers not on the packages image: {others or 'none runs it'}")
    return count
