"""The deploy history and the rollback, judged on the real cluster through the command a user runs
(``python -m tooling.history``, README "Day two").

``history``: every ``up`` the test ran is listed, oldest to newest, with the commit it deployed (the
project copy is a git repository; each ``up`` deploys a commit) and a clean tree, each with a Helm
revision; the newest shows the revision Kubernetes labels as deployed and the image the scheduler runs.

``rollback``: back to the deploy before the last one (the last changed the chart values: a DAG edit
and a Celery concurrency), through the command's check-and-preview and then its ``--yes``: a new update
of that commit, which wrote a new Helm revision with the very values digest of the deploy it rolls back
to, and the DAG version of that commit live again.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from typing import Any

from components.kube import RELEASE_NAME
from components.redact import redact
from components.release.chart import CHART
from tooling.cluster.mid_run import airflow_pods, terminating
from tooling.cluster.probe_edits import PROBE_DAG, probe_marker, wait_for_probe_tag
from tooling.cluster.timeline import CheckFailed
from tooling.cluster.workspace import PROJECT, Workspace
from tooling.rehearsal.api import Api
from tooling.rehearsal.services import wait_until

__all__ = ["HistoryCommand", "check_history", "check_rollback"]


class HistoryCommand:
    """``python -m tooling.history`` on the test's stack, as a user runs it."""

    def __init__(self, tools_python: str, workspace: Workspace) -> None:
        self.tools_python, self.workspace = tools_python, workspace

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        workspace = self.workspace
        command = [self.tools_python, "-m", "tooling.history", "--stack", workspace.stack]
        return subprocess.run(
            [*command, "--project", str(workspace.folder), *args],
            cwd=PROJECT,
            env=workspace.env,
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )

    def updates(self) -> list[dict[str, Any]]:
        """The stack's updates, newest first."""
        done = self.run("--json")
        if done.returncode != 0 or done.stderr.strip():
            raise CheckFailed(f"the history command: {redact(done.stderr.strip())[-500:]}")
        return [row for row in json.loads(done.stdout) if row["kind"] == "update"]


def check_history(command: HistoryCommand, kubectl_json: Callable[..., Any], namespace: str) -> str:
    """See the module's docstring; what was listed, for the timeline."""
    updates = command.updates()
    oldest_first = list(reversed(updates))
    deployed = command.workspace.deployed_commits
    if [row["commit"] for row in oldest_first] != deployed:
        raise CheckFailed(
            f"the history lists {len(updates)} updates whose commits are not the {len(deployed)} "
            "the test deployed, in order"
        )
    for row in oldest_first:
        if row["result"] != "succeeded" or row["dirty"] or row["helm"] is None:
            raise CheckFailed(
                f"update {row['version']}: {row['result']}, dirty={row['dirty']}, helm={row['helm']}"
            )
        if row["helm"]["chart"] != f"{CHART.name}-{CHART.version}":
            raise CheckFailed(f"update {row['version']} lists the chart {row['helm']['chart']}")
    numbers = [row["version"] for row in oldest_first]
    if numbers != sorted(set(numbers)) or min(numbers) < 1:
        raise CheckFailed(f"the updates are not numbered one each, oldest first: {numbers}")
    revisions = [row["helm"]["revision"] for row in oldest_first]
    if revisions != sorted(revisions):
        raise CheckFailed(f"the Helm revisions do not follow the updates: {revisions}")
    labelled = kubectl_json(
        "get", "secrets", "-n", namespace, "-l", f"owner=helm,name={RELEASE_NAME},status=deployed"
    )["items"]
    running = [int(item["metadata"]["labels"]["version"]) for item in labelled]
    newest = updates[0]["helm"]
    if running != [newest["revision"]]:
        raise CheckFailed(f"the newest update lists Helm revision {newest['revision']}, deployed: {running}")
    schedulers = kubectl_json("get", "pods", "-n", namespace, "-l", "component=scheduler")["items"]
    images = {
        c["image"]
        for pod in schedulers
        if not terminating(pod)
        for c in pod["spec"]["containers"]
        if c["name"] == "scheduler"
    }
    if images != {newest["image"]}:
        raise CheckFailed(f"the newest update lists the image {newest['image']}, the scheduler runs {images}")
    return f"{len(updates)} updates, each with its commit and Helm revision (newest {newest['revision']})"


def _rolled_out(kubectl_json: Callable[..., Any], namespace: str, image: str) -> bool:
    """Every Airflow pod Ready on ``image``, none left stopping."""
    pods = list(airflow_pods(kubectl_json, namespace).values())
    return bool(pods) and all(
        not terminating(pod)
        and all(s.get("ready") for s in pod["status"].get("containerStatuses", []))
        and image in {c["image"] for c in pod["spec"]["containers"]}
        for pod in pods
    )


def check_rollback(
    command: HistoryCommand, api: Api, kubectl_json: Callable[..., Any], namespace: str
) -> str:
    """See the module's docstring; what was rolled back, for the timeline."""
    current, target = command.updates()[:2]
    if target["helm"]["valuesDigest"] == current["helm"]["valuesDigest"]:
        raise CheckFailed("the last deploy changed no chart value: a rollback would prove nothing")
    version = str(target["version"])
    for args in (("rollback", version), ("rollback", version, "--yes")):
        done = command.run(*args)
        if done.returncode != 0:
            raise CheckFailed(f"{' '.join(args)}: {redact((done.stderr or done.stdout).strip())[-800:]}")
        if args[-1] != "--yes" and command.updates()[0]["version"] != current["version"]:
            raise CheckFailed("the rollback without --yes deployed")
    newest = command.updates()[0]
    if newest["commit"] != target["commit"] or not newest["helm"]["wrote"]:
        raise CheckFailed(
            f"the rollback's update {newest['version']} is not a deploy of {target['commit'][:12]}"
        )
    if newest["helm"]["valuesDigest"] != target["helm"]["valuesDigest"]:
        raise CheckFailed(
            f"the rollback wrote values {newest['helm']['valuesDigest']}, update {version} had "
            f"{target['helm']['valuesDigest']}"
        )
    marker = probe_marker(command.workspace.file_at(target["commit"], f"dags/{PROBE_DAG}.py"))
    wait_for_probe_tag(api, marker, 600)
    image = newest["helm"]["image"]
    wait_until(lambda: _rolled_out(kubectl_json, namespace, image), "every Airflow pod rolled back", 600, 3)
    return (
        f"update {version} ({target['commit'][:12]}) deployed again as update {newest['version']}: Helm "
        f"revision {newest['helm']['revision']} with its values digest {newest['helm']['valuesDigest']}, "
        "its DAG version live"
    )
