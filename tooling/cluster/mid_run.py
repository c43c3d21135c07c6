"""Deploy while tasks run, judged on the real cluster: a DAG change and a config change roll every
Airflow component out while a Celery task and a KubernetesExecutor task run, and both still succeed at
their first try.

The tasks (``cluster_probe_waits`` in ``dags/cluster_probe.py``) run until this check releases them
through an Airflow Variable, so they are provably still running once the rollout is over: the scheduler
that started them, the api-server they report to and the worker that runs the Celery one have all been
replaced (the old worker still running its task in Celery's warm shutdown), and then the tasks finish
by reading the Variable through the new api-server. What people lost to deploys is what this proves
they keep.
"""

from __future__ import annotations

import time
import urllib.error
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tooling.cluster.probe_edits import retag_probe, wait_for_probe_tag
from tooling.cluster.timeline import CheckFailed
from tooling.cluster.workspace import Workspace
from tooling.rehearsal.api import Api
from tooling.rehearsal.services import wait_until

__all__ = ["MidRun", "check_deploy_mid_run"]

WAITING_DAG = "cluster_probe_waits"
RELEASE_VARIABLE = "cluster_probe_release"  # as in tooling/cluster/dags/cluster_probe.py
CELERY_TASK, POD_TASK = "waits_on_celery", "waits_in_a_pod"
# The chart's long-running Airflow components: a new DAG image replaces each of their pods.
ROLLED_COMPONENTS = ("scheduler", "api-server", "dag-processor", "triggerer", "worker")
CONCURRENCY_KEY = "airflow:tasks.celeryConcurrency"
DEFAULT_CONCURRENCY = 16  # components/release/settings.py, when the stack does not set it


@dataclass
class MidRun:
    """What the check measured."""

    seconds_until_live: float  # from the start of `up` to the new DAG version parsed
    replaced_pods: int  # Airflow pods the deploy replaced while the tasks ran
    killed_tasks: int  # tasks that did not succeed at their first try


def _quiet(call: Callable[[], Any]) -> Any:
    """``call()``, or None while the API cannot answer (its pods are being replaced)."""
    try:
        return call()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def _task_instances(api: Api, run: str) -> dict[str, dict[str, Any]] | None:
    answer = _quiet(lambda: api.call("GET", f"/api/v2/dags/{WAITING_DAG}/dagRuns/{run}/taskInstances"))
    return None if answer is None else {ti["task_id"]: ti for ti in answer["task_instances"]}


def _airflow_pods(kubectl_json: Callable[..., Any], namespace: str) -> dict[str, dict[str, Any]]:
    """The long-running Airflow components' pods, by name."""
    selector = f"component in ({','.join(ROLLED_COMPONENTS)})"
    pods = kubectl_json("get", "pods", "-n", namespace, "-l", selector)["items"]
    return {pod["metadata"]["name"]: pod for pod in pods}


def _states(tasks: dict[str, dict[str, Any]]) -> str:
    return ", ".join(f"{t}={ti['state']} (try {ti['try_number']})" for t, ti in sorted(tasks.items()))


def _next_concurrency(workspace: Workspace) -> str:
    """The stack's Celery concurrency plus one: a config change that rolls the workers out."""
    current = workspace.run("config", "get", "--path", CONCURRENCY_KEY)
    value = int(current.stdout.strip()) if current.code == 0 else DEFAULT_CONCURRENCY
    return str(value + 1 if value < 256 else value - 1)


def check_deploy_mid_run(
    workspace: Workspace, api: Api, kubectl_json: Callable[..., Any], namespace: str
) -> MidRun:
    """Starts both waiting tasks, rolls out a DAG change and a config change with ``pulumi up``, then
    releases the tasks: both succeed at their first try, and the deploy replaced every Airflow pod."""
    api.call("PATCH", f"/api/v2/dags/{WAITING_DAG}", {"is_paused": False})
    run = api.call("POST", f"/api/v2/dags/{WAITING_DAG}/dagRuns", {"logical_date": None})["dag_run_id"]
    tasks: dict[str, dict[str, Any]] = {}

    def both_running() -> bool:
        nonlocal tasks
        tasks = _task_instances(api, run) or {}
        return all(tasks.get(t, {}).get("state") == "running" for t in (CELERY_TASK, POD_TASK))

    wait_until(both_running, f"{WAITING_DAG} run {run}: both tasks running", 600, 3)
    celery_host, pod_host = tasks[CELERY_TASK]["hostname"], tasks[POD_TASK]["hostname"]
    before = _airflow_pods(kubectl_json, namespace)
    if celery_host not in before:
        raise CheckFailed(
            f"{CELERY_TASK} runs on {celery_host!r}, not on one of the worker pods {sorted(before)}"
        )

    marker = f"mid-run-{int(time.time())}"
    retag_probe(workspace.folder / "dags", marker)
    workspace.set_value(CONCURRENCY_KEY, _next_concurrency(workspace), path=True)
    started = time.monotonic()
    workspace.run("up", "--yes", "--skip-preview", check=True)
    wait_for_probe_tag(api, marker, 600)
    seconds = time.monotonic() - started

    def rolled_out() -> bool:
        now = _airflow_pods(kubectl_json, namespace)
        return not any(name in now and "deletionTimestamp" not in now[name]["metadata"] for name in before)

    wait_until(rolled_out, "every Airflow pod from before the deploy replaced", 600, 3)
    now = _airflow_pods(kubectl_json, namespace)
    tasks = _task_instances(api, run) or {}
    if any(
        tasks.get(t, {}).get("state") != "running" or tasks[t]["try_number"] != 1
        for t in (CELERY_TASK, POD_TASK)
    ):
        raise CheckFailed(f"the deploy stopped the tasks it should have left running: {_states(tasks)}")
    if celery_host in now and "deletionTimestamp" not in now[celery_host]["metadata"]:
        raise CheckFailed(f"the worker {celery_host} running {CELERY_TASK} was not told to stop")
    pod = kubectl_json("get", "pods", "-n", namespace, "--field-selector", f"metadata.name={pod_host}")[
        "items"
    ]
    if not pod or "deletionTimestamp" in pod[0]["metadata"]:
        raise CheckFailed(f"the deploy stopped the task pod {pod_host} running {POD_TASK}")

    api.call("POST", "/api/v2/variables", {"key": RELEASE_VARIABLE, "value": run})
    state = ""

    def finished() -> bool:
        nonlocal state
        answer = _quiet(lambda: api.call("GET", f"/api/v2/dags/{WAITING_DAG}/dagRuns/{run}"))
        state = "" if answer is None else answer["state"]
        return state in ("success", "failed")

    wait_until(finished, f"{WAITING_DAG} run {run} after its release", 600, 3)
    tasks = _task_instances(api, run) or {}
    killed = sum(1 for ti in tasks.values() if ti["state"] != "success" or ti["try_number"] != 1)
    if state != "success" or killed:
        raise CheckFailed(f"{WAITING_DAG} run {run} ended {state}: {_states(tasks)}")
    # Its task done, the old worker ends its warm shutdown and exits long before its grace period.
    wait_until(
        lambda: celery_host not in _airflow_pods(kubectl_json, namespace),
        f"the old worker {celery_host} gone once its task finished",
        300,
        3,
    )
    return MidRun(seconds_until_live=seconds, replaced_pods=len(before), killed_tasks=killed)
