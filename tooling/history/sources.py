"""Reading a stack's two records: Pulumi's update history through the ``pulumi`` CLI, and Helm's
release records of the Airflow chart through ``kubectl``. A failing command is one line (``Refused``),
its output masked."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from components.kube import RELEASE_NAME
from components.redact import safe_to_print
from tooling.history.records import Deploy, HelmRevision, deploys, helm_revision, release_of

__all__ = ["Refused", "deployed_values", "kubectl", "read_deploys", "run_pulumi", "stack_namespace"]


class Refused(Exception):
    """What stops the command, in one line."""


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise Refused(f"{name} is not on PATH")
    return found


def run_pulumi(project: Path, *args: str, capture: bool = True) -> str:
    """``pulumi ARGS`` in ``project``; its stdout. The CLI's own error, last line, on failure."""
    done = subprocess.run(
        [_tool("pulumi"), *args], cwd=project, capture_output=capture, text=True, check=False
    )
    if done.returncode != 0:
        raise Refused(f"pulumi {' '.join(args[:2])} failed: {_last_line(done)}")
    return done.stdout or ""


def _last_line(done: subprocess.CompletedProcess[str]) -> str:
    """A failed command's last line of error, escaped and masked."""
    last = (done.stderr or "").strip().splitlines()[-1:] or [f"exit code {done.returncode}"]
    return safe_to_print(last[0])[:500]


def kubectl(*args: str, failing: str | None = None) -> str:
    """``kubectl ARGS`` as the user's kubeconfig allows; its output, or ``Refused`` with its error
    after ``failing`` (what could not be done; by default the command)."""
    done = subprocess.run([_tool("kubectl"), *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise Refused(f"{failing or 'kubectl ' + ' '.join(args[:2]) + ' failed'}: {_last_line(done)}")
    return done.stdout


def _helm_records(namespace: str, selector: str = "") -> list[dict[str, Any]]:
    labels = f"owner=helm,name={RELEASE_NAME}{selector}"
    listed = kubectl(
        "get",
        "secrets",
        "-n",
        namespace,
        "-l",
        labels,
        "-o",
        "json",
        failing=f"kubectl cannot read Helm's records in {namespace}",
    )
    items: list[dict[str, Any]] = json.loads(listed).get("items", [])
    return [item for item in items if item.get("type") == "helm.sh/release.v1"]


def _helm_revisions(namespace: str) -> list[HelmRevision]:
    return [helm_revision(item) for item in _helm_records(namespace)]


def stack_namespace(project: Path, stack: str) -> str:
    """The namespace the stack's last ``up`` made (its output), or ``Refused``."""
    outputs = json.loads(run_pulumi(project, "stack", "output", "--json", "--stack", stack) or "{}")
    namespace = outputs.get("namespace")
    if not isinstance(namespace, str) or not namespace:
        raise Refused("the stack has no namespace output (destroyed?)")
    return namespace


def deployed_values(namespace: str) -> dict[str, Any]:
    """The chart values of the release's deployed revision."""
    records = _helm_records(namespace, ",status=deployed")
    if not records:
        raise Refused(f"no deployed Helm release {RELEASE_NAME} in {namespace}")
    config: dict[str, Any] = release_of(records[0]).get("config") or {}
    return config


def read_deploys(project: Path, stack: str) -> tuple[list[Deploy], str | None]:
    """The stack's deploys, newest first, and why Helm's records are missing from them (or None).
    ``--page-size 0``: the whole history (the CLI's default is the newest 10), so the numbers of a
    self-managed backend's updates, counted from the oldest, stay the same."""
    updates = json.loads(
        run_pulumi(project, "stack", "history", "--json", "--page-size", "0", "--stack", stack) or "[]"
    )
    outputs = json.loads(run_pulumi(project, "stack", "output", "--json", "--stack", stack) or "{}")
    namespace = outputs.get("namespace")
    if not isinstance(namespace, str) or not namespace:
        return deploys(updates, []), "the stack has no namespace output (destroyed?): no Helm records"
    try:
        return deploys(updates, _helm_revisions(namespace)), None
    except Refused as refused:
        return deploys(updates, []), str(refused)
