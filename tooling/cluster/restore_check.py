"""The restore of a dump, judged on the real cluster through the command a user runs
(``python -m tooling.history restore``): Airflow stopped, the newest dump on the backups' claim
restored, Airflow started again, and the metadata database is the one the dump holds.

A run of the probe DAG made after the dump is gone, a run from before it (the one the upgrade check
made) is there, every pod is Ready again and a new run succeeds: Airflow runs on the restored history.
"""

from __future__ import annotations

import urllib.error

from components.redact import redact
from tooling.cluster.checks import Deployed
from tooling.cluster.deploy_history import HistoryCommand
from tooling.cluster.probe_edits import PROBE_DAG
from tooling.cluster.timeline import CheckFailed
from tooling.rehearsal.api import Api, healthy
from tooling.rehearsal.services import wait_until

__all__ = ["check_restore"]


def _run_exists(api: Api, dag_id: str, run: str) -> bool:
    try:
        api.call("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run}")
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return False
        raise
    return True


def check_restore(command: HistoryCommand, deployed: Deployed, earlier: tuple[str, str]) -> str:
    """``earlier``: (dag id, run id) of a run made before the newest dump. What was restored."""
    listed = command.run("restore")
    dumps = listed.stdout.split()
    if listed.returncode != 0 or not dumps:
        raise CheckFailed(f"restore lists no dump: {redact(listed.stderr.strip())[-300:]}")
    newest = dumps[-1]
    after = deployed.run_dag(PROBE_DAG)

    def task_pods_done() -> bool:
        pods = deployed.kubectl_json(
            "get", "pods", "-n", deployed.namespace, "-l", "kubernetes_executor=True"
        )
        return all(pod["status"].get("phase") in ("Succeeded", "Failed") for pod in pods["items"])

    # The run's task pod outlives its task by a few seconds, and restore refuses while one runs (found on
    # the cluster: "task pods still run"): as a user would, wait for it first.
    wait_until(task_pods_done, "the probe run's task pods finished", 300, 2)
    for args in (("restore", newest), ("restore", newest, "--yes")):
        done = command.run(*args)
        if done.returncode != 0:
            raise CheckFailed(f"{' '.join(args)}: {redact((done.stderr or done.stdout).strip())[-500:]}")
    api = deployed.api
    assert api is not None
    wait_until(lambda: healthy(api), "Airflow healthy after the restore", 600, 3)
    deployed.pods_ready()
    if _run_exists(api, PROBE_DAG, after):
        raise CheckFailed(f"the run {after}, made after the dump {newest}, is still there")
    if not _run_exists(api, *earlier):
        raise CheckFailed(f"the run {earlier[1]} of {earlier[0]}, made before the dump, is gone")
    deployed.run_dag(PROBE_DAG)
    return f"{newest} restored: the later run gone, the earlier one there, a new run succeeded"
