"""Deploy while tasks run, judged on the real cluster: a DAG change and a config change roll every
Airflow component out while a Celery task and a KubernetesExecutor task run, and both still succeed at
their first try.

The tasks (``cluster_probe_waits`` in ``dags/cluster_probe.py``) run until this check releases them
through an Airflow Variable, so they are provably still running once the rollout is over: the scheduler
that started them, the api-server they report to and the worker that runs the Celery one have all been
replaced (the old worker still running its task in Celery's warm shutdown), and then the tasks finish
by reading the Variable through the new api-server. What people lost to deploys is what this proves
they keep. The same tasks prove a scheduler's loss costs nothing: its pod deleted mid-run, the new one
takes over both tasks.
"""

from __future__ import annotations

import time
import urllib.error
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from components.release.settings import TaskSettings
from tooling.cluster.probe_edits import retag_probe, wait_for_probe_tag
from tooling.cluster.timeline import CheckFailed
from tooling.cluster.workspace import Workspace
from tooling.rehearsal.api import Api
from tooling.rehearsal.services import wait_until

__all__ = [
    "WAITING_DAG",
    "MidRun",
    "WaitingRun",
    "airflow_pods",
    "check_deploy_mid_run",
    "check_scheduler_loss",
    "terminating",
]

WAITING_DAG = "cluster_probe_waits"
RELEASE_VARIABLE = "cluster_probe_release"  # as in tooling/cluster/dags/cluster_probe.py
CELERY_TASK, POD_TASK = "waits_on_celery", "waits_in_a_pod"
# The chart's long-running Airflow components: a new DAG image replaces each of their pods.
ROLLED_COMPONENTS = ("scheduler", "api-server", "dag-processor", "triggerer", "worker")
CONCURRENCY_KEY = "airflow:tasks.celeryConcurrency"


@dataclass
class MidRun:
    """What the check measured."""

    seconds_until_live: float  # from the start of `up` to the new DAG version parsed
    replaced_pods: int  # Airflow pods the deploy replaced while the tasks ran


def _quiet(call: Callable[[], Any]) -> Any:
    """``call()``, or None while the API cannot answer (its pods are being replaced)."""
    try:
        return call()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def _task_instances(api: Api, run: str) -> dict[str, dict[str, Any]] | None:
    answer = _quiet(lambda: api.call("GET", f"/api/v2/dags/{WAITING_DAG}/dagRuns/{run}/taskInstances"))
    return None if answer is None else {ti["task_id"]: ti for ti in answer["task_instances"]}


def airflow_pods(kubectl_json: Callable[..., Any], namespace: str) -> dict[str, dict[str, Any]]:
    """The long-running Airflow components' pods, by name: not the KubernetesExecutor's task pods,
    which the chart labels ``component=worker`` too (found on the cluster: the check waited for the
    running task pod to be replaced by the deploy)."""
    selector = f"component in ({','.join(ROLLED_COMPONENTS)}),!kubernetes_executor"
    pods = kubectl_json("get", "pods", "-n", namespace, "-l", selector)["items"]
    return {pod["metadata"]["name"]: pod for pod in pods}


def _states(tasks: dict[str, dict[str, Any]]) -> str:
    return ", ".join(f"{t}={ti['state']} (try {ti['try_number']})" for t, ti in sorted(tasks.items()))


def _next_concurrency(workspace: Workspace) -> str:
    """The stack's Celery concurrency plus one: a config change that rolls the workers out."""
    value = int(workspace.config_value(CONCURRENCY_KEY) or TaskSettings().celery_concurrency)
    return str(value + 1 if value < 256 else value - 1)


@dataclass
class WaitingRun:
    """A run of ``cluster_probe_waits`` whose two tasks run until ``release``."""

    api: Api
    run: str
    tasks: dict[str, dict[str, Any]]

    @classmethod
    def start(cls, api: Api) -> WaitingRun:
        """Triggers a run and waits until both its tasks run."""
        api.call("PATCH", f"/api/v2/dags/{WAITING_DAG}", {"is_paused": False})
        run = api.call("POST", f"/api/v2/dags/{WAITING_DAG}/dagRuns", {"logical_date": None})["dag_run_id"]
        waiting = cls(api, run, {})
        try:
            wait_until(waiting.both_running, f"{WAITING_DAG} run {run}: both tasks running", 600, 3)
        except BaseException:
            _quiet(waiting.release)  # its tasks never both ran: let them end
            raise
        return waiting

    def both_running(self) -> bool:
        """Both tasks running at their first try (the task instances read anew)."""
        self.tasks = _task_instances(self.api, self.run) or {}
        return all(
            self.tasks.get(t, {}).get("state") == "running" and self.tasks[t]["try_number"] == 1
            for t in (CELERY_TASK, POD_TASK)
        )

    def host(self, task_id: str) -> str:
        """The pod that runs ``task_id``: a Celery worker's, or the task's own."""
        return self.tasks[task_id]["hostname"]

    def still_running(self, after: str) -> None:
        if not self.both_running():
            raise CheckFailed(f"{after} stopped the tasks it should have left running: {_states(self.tasks)}")

    def release(self) -> None:
        """Sets the Variable the tasks wait for. Also what a failed check does last, so its tasks end
        and the next check's run is not queued behind them (``max_active_runs=1``)."""
        try:
            self.api.call(
                "PATCH", f"/api/v2/variables/{RELEASE_VARIABLE}", {"key": RELEASE_VARIABLE, "value": self.run}
            )
        except urllib.error.HTTPError as error:
            if error.code != 404:
                raise
            self.api.call("POST", "/api/v2/variables", {"key": RELEASE_VARIABLE, "value": self.run})

    def __enter__(self) -> WaitingRun:
        return self

    def __exit__(self, *failure: object) -> None:
        _quiet(self.release)

    def release_and_finish(self) -> None:
        """Releases the tasks and waits for the run to succeed, each task at its first try."""
        self.release()
        state = ""

        def finished() -> bool:
            nonlocal state
            answer = _quiet(lambda: self.api.call("GET", f"/api/v2/dags/{WAITING_DAG}/dagRuns/{self.run}"))
            state = "" if answer is None else answer["state"]
            return state in ("success", "failed")

        wait_until(finished, f"{WAITING_DAG} run {self.run} after its release", 600, 3)
        self.tasks = _task_instances(self.api, self.run) or {}
        killed = sum(1 for ti in self.tasks.values() if ti["state"] != "success" or ti["try_number"] != 1)
        if state != "success" or killed:
            raise CheckFailed(f"{WAITING_DAG} run {self.run} ended {state}: {_states(self.tasks)}")


def terminating(pod: dict[str, Any]) -> bool:
    """Told to stop: deleted, and still there for its grace period."""
    return "deletionTimestamp" in pod["metadata"]


def made_since(pod: dict[str, Any], since: datetime) -> bool:
    """Created at or after ``since`` (aware): a pod of this deploy, not of the one before it."""
    return datetime.fromisoformat(pod["metadata"]["creationTimestamp"].replace("Z", "+00:00")) >= since


def check_deploy_mid_run(
    workspace: Workspace, api: Api, kubectl_json: Callable[..., Any], namespace: str
) -> MidRun:
    """Starts both waiting tasks, rolls out a DAG change and a config change with ``pulumi up``, then
    releases the tasks: both succeed at their first try, and the deploy replaced every Airflow pod."""
    with WaitingRun.start(api) as waiting:
        return _deploy_while_running(waiting, workspace, api, kubectl_json, namespace)


def _deploy_while_running(
    waiting: WaitingRun, workspace: Workspace, api: Api, kubectl_json: Callable[..., Any], namespace: str
) -> MidRun:
    celery_host, pod_host = waiting.host(CELERY_TASK), waiting.host(POD_TASK)
    before = airflow_pods(kubectl_json, namespace)
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
        now = airflow_pods(kubectl_json, namespace)
        return not any(name in now and not terminating(now[name]) for name in before)

    wait_until(rolled_out, "every Airflow pod from before the deploy replaced", 600, 3)
    waiting.still_running("the deploy")
    now = airflow_pods(kubectl_json, namespace)
    # The old worker must still be there, stopping: in Celery's warm shutdown, holding the task.
    if celery_host not in now:
        raise CheckFailed(f"the worker {celery_host} was gone while its task {CELERY_TASK} still ran")
    if not terminating(now[celery_host]):
        raise CheckFailed(f"the worker {celery_host} running {CELERY_TASK} was not told to stop")
    pods = {p["metadata"]["name"]: p for p in kubectl_json("get", "pods", "-n", namespace)["items"]}
    if pod_host not in pods or terminating(pods[pod_host]):
        raise CheckFailed(f"the deploy stopped the task pod {pod_host} running {POD_TASK}")

    waiting.release_and_finish()
    # Its task done, the old worker ends its warm shutdown and exits long before its grace period.
    wait_until(
        lambda: celery_host not in airflow_pods(kubectl_json, namespace),
        f"the old worker {celery_host} gone once its task finished",
        300,
        3,
    )
    return MidRun(seconds_until_live=seconds, replaced_pods=len(before))


def check_scheduler_loss(
    api: Api, kubectl_json: Callable[..., Any], kubectl: Callable[..., str], namespace: str
) -> str:
    """Deletes the scheduler pod (every one, where there are several) while both waiting tasks run: its
    replacement adopts the Celery task and the task pod, and both succeed at their first try. The
    deleted pods' names."""
    with WaitingRun.start(api) as waiting:
        return _lose_the_schedulers(waiting, api, kubectl_json, kubectl, namespace)


def _lose_the_schedulers(
    waiting: WaitingRun,
    api: Api,
    kubectl_json: Callable[..., Any],
    kubectl: Callable[..., str],
    namespace: str,
) -> str:
    schedulers = sorted(
        name
        for name, pod in airflow_pods(kubectl_json, namespace).items()
        if pod["metadata"]["labels"].get("component") == "scheduler"
    )
    if not schedulers:
        raise CheckFailed("no scheduler pod to delete")
    kubectl("delete", "pod", "-n", namespace, "--wait=true", *schedulers)

    def replaced() -> bool:
        pods = airflow_pods(kubectl_json, namespace)
        fresh = [
            pod
            for name, pod in pods.items()
            if pod["metadata"]["labels"].get("component") == "scheduler" and name not in schedulers
        ]
        return bool(fresh) and all(
            c.get("ready") for pod in fresh for c in pod["status"].get("containerStatuses", [])
        )

    wait_until(replaced, "a new scheduler Ready", 300, 3)
    waiting.still_running("the scheduler's loss")
    waiting.release_and_finish()
    return ", ".join(schedulers)
