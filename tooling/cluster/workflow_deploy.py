"""Check ``copied-stack-through-the-deploy-job``: a stack added as docs/ci-cd.md says (``Pulumi.local.yaml``
copied to ``Pulumi.staging.yaml``, its namespace changed, nothing else) is in the matrix the deploy
workflow builds, and the deploy job's own steps, read from ``.github/workflows/deploy.yml`` and run as
GitHub's runner runs them for that matrix entry, deploy it onto the real cluster from a backend that has
never heard of it. Its pods must all be Ready; then it is destroyed.

What the runner gives is played here: the job's ``env`` with the environment's secrets (the cluster's
kubeconfig as ``KUBECONFIG_B64``, the backend's passphrase) and variables (``PULUMI_BACKEND_URL``), a
``GITHUB_ENV`` file read back after each step, ``RUNNER_TEMP``. The checkout and setup-python actions
are the project copy and its Python; ``pulumi/actions`` is the CLI the test built (``command: up`` is
``pulumi up`` with the step's ``refresh``). A step of any other kind fails the check, so a change of the
job is never passed over unseen.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml

from tooling.cluster.timeline import CheckFailed
from tooling.cluster.workspace import Workspace

__all__ = [
    "COPIED_STACK",
    "copy_stack_file",
    "deploy_copied_stack",
    "deploy_job",
    "matrix_stacks",
    "run_deploy_job",
]

COPIED_STACK = "staging"
_EXPRESSION = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")
_NOOP_ACTIONS = ("actions/checkout@", "actions/setup-python@")


def copy_stack_file(folder: Path, source: str, stack: str, namespace: str) -> None:
    """``Pulumi.<source>.yaml`` copied to ``Pulumi.<stack>.yaml`` with ``airflow:namespace`` changed, as
    a user edits the copy (the rest, secrets and their salt included, as it was)."""
    text = (folder / f"Pulumi.{source}.yaml").read_text()
    edited, count = re.subn(r"(?m)^(\s*airflow:namespace:).*$", rf"\g<1> {namespace}", text)
    if count != 1:
        raise CheckFailed(f"Pulumi.{source}.yaml sets airflow:namespace {count} times, not once")
    (folder / f"Pulumi.{stack}.yaml").write_text(edited)


def matrix_stacks(github_output: str, key: str = "main") -> list[str]:
    """The stack names of one matrix ``python -m tooling.stacks --github-output`` wrote."""
    for line in github_output.splitlines():
        name, _, value = line.partition("=")
        if name == key:
            return [entry["name"] for entry in json.loads(value)]
    raise CheckFailed(f"tooling.stacks wrote no {key}= line: {github_output[-300:]}")


def deploy_job(workflow_file: Path) -> dict[str, Any]:
    """The ``deploy`` job of the workflow."""
    return yaml.safe_load(workflow_file.read_text())["jobs"]["deploy"]


def _expand(text: str, context: dict[str, str]) -> str:
    """``${{ expr }}`` replaced from ``context`` (``matrix.stack.name``, ``secrets.X``, ``vars.X``,
    ``env.X``); an expression the rehearsal does not know is an empty string, as GitHub gives a
    missing secret or variable."""
    return _EXPRESSION.sub(lambda m: context.get(m.group(1), ""), text)


def _condition_holds(condition: str | None, env: dict[str, str]) -> bool:
    """The two conditions the job's steps use on ``env.KUBECONFIG_B64``; any other fails the check."""
    if condition is None:
        return True
    match = re.fullmatch(r"env\.(\w+) (==|!=) ''", condition.strip())
    if match is None:
        raise CheckFailed(f"the deploy job's step condition {condition!r} is not one the rehearsal knows")
    empty = env.get(match.group(1), "") == ""
    return empty if match.group(2) == "==" else not empty


def _read_github_env(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines a step appended to ``GITHUB_ENV``."""
    found = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep:
            found[key] = value
    return found


def run_deploy_job(
    job: dict[str, Any],
    stack: str,
    base_env: dict[str, str],
    given: dict[str, dict[str, str]],
    cwd: Path,
) -> list[str]:
    """Runs the job's steps for matrix entry ``stack``, as the runner would, with the environment's
    ``given`` secrets and variables (``{"secrets": {...}, "vars": {...}}``); the steps run, by name."""
    runner_temp = Path(tempfile.mkdtemp(prefix="runner-temp-"))
    github_env = runner_temp / "github_env"
    github_env.touch()
    context = {"matrix.stack.name": stack}
    context |= {f"{kind}.{k}": v for kind, values in given.items() for k, v in values.items()}
    env = base_env | {"RUNNER_TEMP": str(runner_temp), "GITHUB_ENV": str(github_env)}
    env |= {name: _expand(str(value), context) for name, value in job.get("env", {}).items()}
    context |= {f"env.{k}": v for k, v in env.items()}
    ran = []
    for number, step in enumerate(job["steps"], start=1):
        name = step.get("name") or step.get("uses") or f"step {number}"
        if not _condition_holds(step.get("if"), env):
            continue
        uses = step.get("uses", "")
        if "run" in step:
            done = subprocess.run(
                ["bash", "-e", "-o", "pipefail", "-c", _expand(step["run"], context)],
                cwd=cwd,
                env=env,
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                raise CheckFailed(
                    f"deploy job step {name!r} exited {done.returncode}: {done.stderr.strip()[-600:]}"
                )
        elif uses.startswith(_NOOP_ACTIONS):
            pass  # the project copy is the checkout; its Python is set up
        elif uses.startswith("pulumi/actions@") and "command" not in step.get("with", {}):
            pass  # the CLI is the one the test built, on PATH
        elif uses.startswith("pulumi/actions@") and step["with"]["command"] == "up":
            options = step["with"]
            command = [
                "pulumi",
                "up",
                "--yes",
                "--skip-preview",
                "--stack",
                _expand(options["stack-name"], context),
            ]
            if options.get("refresh"):
                command.append("--refresh")
            done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
            if done.returncode != 0:
                raise CheckFailed(
                    f"deploy job's pulumi up of {stack} failed: {(done.stdout + done.stderr)[-1500:]}"
                )
        else:
            raise CheckFailed(f"the deploy job's step {name!r} ({uses}) is not one the rehearsal can run")
        env |= _read_github_env(github_env)
        context |= {f"env.{k}": v for k, v in env.items()}
        ran.append(name)
    return ran


def deploy_copied_stack(workspace: Workspace, namespace: str) -> tuple[str, list[str]]:
    """The copy, the matrix and the deploy job for it, from the workspace; (matrix line, steps run)."""
    folder = workspace.folder
    copy_stack_file(folder, workspace.stack, COPIED_STACK, namespace)
    stacks = subprocess.run(
        [str(folder / ".venv" / "bin" / "python"), "-m", "tooling.stacks", "--github-output"],
        cwd=folder,
        capture_output=True,
        text=True,
    )
    if stacks.returncode != 0:
        raise CheckFailed(f"tooling.stacks refused the copied stack: {stacks.stderr.strip()[-400:]}")
    main = matrix_stacks(stacks.stdout)
    if COPIED_STACK not in main:
        raise CheckFailed(f"the deploy matrix for main does not hold {COPIED_STACK}: {main}")
    env = dict(workspace.env)
    kubeconfig = Path(env.pop("KUBECONFIG")).read_bytes()
    passphrase = Path(env.pop("PULUMI_CONFIG_PASSPHRASE_FILE")).read_text()
    given = {
        "secrets": {
            "KUBECONFIG_B64": base64.b64encode(kubeconfig).decode(),
            "PULUMI_CONFIG_PASSPHRASE": passphrase,
        },
        "vars": {"PULUMI_BACKEND_URL": env.pop("PULUMI_BACKEND_URL")},
    }
    job = deploy_job(folder / ".github" / "workflows" / "deploy.yml")
    try:
        ran = run_deploy_job(job, COPIED_STACK, env, given, folder)
    finally:
        # first-deploy selects the new stack, as on a runner; the test's own commands go on with theirs.
        workspace.run("stack", "select", workspace.stack, check=True)
    return f"main={main}", ran
