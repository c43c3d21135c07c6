"""The fork trial: a copy of this repository edited as a platform team edits its fork, then the suite on it.

A fork replaces every example value, renames namespaces, resizes prod, switches dev to Celery and
ConfigMap delivery and adds a ``staging`` stack by copying prod. The suite must still pass on that copy:
a test that leans on a shipped stack file's values would fail a fork that did what the README says,
and the deploy workflow runs the tests before ``pulumi up``.

    python -m tooling.fork_trial [--keep] [PYTEST ARGS...]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from tooling.cli import add_debug_flag, guarded
from tooling.helm import CHART

__all__ = ["FORK_EDITS", "fork_copy", "main"]

ROOT = Path(__file__).resolve().parents[1]
Config = dict[str, Any]


def _prod(config: Config) -> None:
    """Every example value replaced; the namespace, replicas and resources changed."""
    config["airflow:namespace"] = "data-airflow"
    config["airflow:admin"] = {"email": "data-platform@acme.test"}
    config["airflow:dags"]["image"] = {
        "registry": "registry.acme.test",
        "repository": "registry.acme.test/data/airflow-dags",
        "username": "acme-deployer",
    }
    config["airflow:remoteLogs"] = {
        "bucket": "acme-data-airflow-logs",
        "roleArn": "arn:aws:iam::210987654321:role/acme-data-airflow-logs",
    }
    config["airflow:database"]["existingSecretName"] = "acme-airflow-db"
    config["airflow:database"]["pgbouncer"]["replicas"] = 3
    config["airflow:scheduler"] = {
        "replicas": 3,
        "resources": {"cpu": "2", "memory": "3Gi", "memoryLimit": "5Gi"},
    }
    config["airflow:apiServer"]["replicas"] = 3
    config["airflow:workers"] = {
        "replicas": 5,
        "resources": {"cpu": "2", "memory": "4Gi", "memoryLimit": "6Gi"},
    }
    config["airflow:monitoring"]["selectorLabels"] = {"prometheus": "platform"}


def _dev(config: Config) -> None:
    """Celery instead of Kubernetes jobs, DAGs in a ConfigMap instead of a git bundle, its own namespace."""
    config["airflow:executor"] = "CeleryExecutor"
    config["airflow:namespace"] = "data-airflow-dev"
    config["airflow:dags"] = {"delivery": "configmap"}


def _local(config: Config) -> None:
    """Another namespace and registry user."""
    config["airflow:namespace"] = "data-airflow-local"
    config["airflow:dags"]["image"]["username"] = "acme-local"


def _staging(config: Config) -> None:
    """prod's edited file copied, with a namespace of its own."""
    config["airflow:namespace"] = "data-airflow-staging"


# stack -> (the stack file it starts from, the edit). Staging starts from prod as the fork edited it.
FORK_EDITS: dict[str, tuple[str, Callable[[Config], None]]] = {
    "prod": ("prod", _prod),
    "dev": ("dev", _dev),
    "local": ("local", _local),
    "staging": ("prod", _staging),
}


def _git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def fork_copy(root: Path, into: Path) -> Path:
    """A clone of the repository in ``into/fork`` (its history too, as a fork has it) with the working
    tree's uncommitted changes, and :data:`FORK_EDITS` made and committed as a platform team would.
    The virtualenvs are linked, not copied: a fork's setup would build the same ones."""
    fork = into / "fork"
    _git("clone", "--quiet", "--local", "--no-hardlinks", str(root), str(fork), cwd=into)
    for name in _git("ls-files", "-z", "--modified", "--others", "--exclude-standard", cwd=root).split("\0"):
        if name and (root / name).is_file():
            (fork / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / name, fork / name)
    for name in _git("ls-files", "-z", "--deleted", cwd=root).split("\0"):
        if name:
            (fork / name).unlink(missing_ok=True)
    edited: dict[str, dict[str, Any]] = {}
    for stack, (source, edit) in FORK_EDITS.items():
        document = edited.get(source) or yaml.safe_load((root / f"Pulumi.{source}.yaml").read_text())
        document = yaml.safe_load(yaml.safe_dump(document))  # a copy: staging must not edit prod
        edit(document["config"])
        edited[stack] = document
        (fork / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    identity = ("-c", "user.name=fork trial", "-c", "user.email=fork-trial@localhost")
    _git("add", "--all", cwd=fork)
    # Empty where the repository is such a fork already (the trial's own tests, run inside the trial).
    _git(*identity, "commit", "--quiet", "--no-verify", "--allow-empty", "-m", "Our stacks", cwd=fork)
    for venv in (".venv", ".venv-dev"):  # after the commit: git takes a link for a file
        if (root / venv).is_dir():
            (fork / venv).symlink_to(root / venv)
    return fork


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tooling.fork_trial", description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the fork's copy and print where it is")
    add_debug_flag(parser)
    options, pytest_args = parser.parse_known_args(argv)
    return guarded(
        lambda: _trial(options.keep, pytest_args),
        command="fork trial",
        what="the fork trial",
        debug=options.debug,
        after_interrupt="its copy is removed",
    )


def _trial(keep: bool, pytest_args: list[str]) -> int:
    work = Path(tempfile.mkdtemp(prefix="fork-trial-"))
    try:
        fork = fork_copy(ROOT, work)
        print(
            f"fork trial: {', '.join(f'Pulumi.{stack}.yaml' for stack in FORK_EDITS)} edited in {fork}",
            flush=True,
        )
        # The chart stays where this repository finds it; the fork's own ../shared does not exist.
        environment = {**os.environ, "AIRFLOW_CHART_DIR": str(CHART)}
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *pytest_args],
            cwd=fork,
            env=environment,
        )
        print(f"fork trial: the suite on the fork {'passed' if result.returncode == 0 else 'failed'}")
        return result.returncode
    finally:
        if keep:
            print(f"fork trial: kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
