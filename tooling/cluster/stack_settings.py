"""Check ``stack-settings-reach-tasks``: what a platform team adds through the stack file reaches its
tasks on the real cluster. Set on ``local`` before the upgrade's ``up``, as a user sets them:

- a connection (``pulumi config set --secret --path airflow:connections.cluster_probe_db``) and a
  variable (``airflow:variables.cluster_probe_greeting``, a secret too), read by a task on each executor;
- a pool (``airflow:pools.cluster_probe_pool``) the Celery task runs in, read back through the API;
- an ``airflow.cfg`` option (``airflow:config.core.parallelism``) and an environment variable
  (``airflow:env``), read the same way;
- a stack-wide placement (``airflow:placement.nodeSelector``) every pod must still be scheduled with.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import datetime
from typing import Any

from tooling.cluster.mid_run import made_since, terminating
from tooling.cluster.timeline import CheckFailed
from tooling.cluster.workspace import Workspace

__all__ = [
    "EXPECTED_LINE",
    "POOL",
    "POOL_SLOTS",
    "SETTINGS_DAG",
    "check_stack_settings",
    "set_stack_settings",
]

SETTINGS_DAG = "cluster_probe_settings"
_HOST, _PORT = "probe-db.cluster-test.invalid", 5432
_GREETING = "set in the stack file"
_PARALLELISM = 48  # Airflow's default is 32
_ENV = "from airflow:env"
POOL, POOL_SLOTS = "cluster_probe_pool", 3
_NODE_SELECTOR = {"kubernetes.io/os": "linux"}  # a label the kubelet gives every Linux node
# What each task of SETTINGS_DAG prints (tooling/cluster/dags/cluster_probe.py, settings_seen).
EXPECTED_LINE = (
    f"cluster-probe: connection postgres {_HOST}:{_PORT}; variable {_GREETING!r}; "
    f"parallelism {_PARALLELISM}; env {_ENV!r}"
)


def set_stack_settings(workspace: Workspace) -> None:
    """The connection (a secret, with a password made here), variable, option, environment variable and
    placement, set with ``pulumi config set`` as a user sets them."""
    url = f"postgresql://probe:{secrets.token_urlsafe(16)}@{_HOST}:{_PORT}/probe"
    workspace.set_secret("airflow:connections.cluster_probe_db", url, path=True)
    workspace.set_secret("airflow:variables.cluster_probe_greeting", _GREETING, path=True)
    workspace.set_value("airflow:config.core.parallelism", str(_PARALLELISM), path=True)
    workspace.set_value("airflow:env.CLUSTER_PROBE_ENV", _ENV, path=True)
    workspace.set_value(f"airflow:pools.{POOL}.slots", str(POOL_SLOTS), path=True)
    for key, value in _NODE_SELECTOR.items():
        workspace.set_value(f'airflow:placement.nodeSelector["{key}"]', value, path=True)


def check_stack_settings(
    logs: dict[str, str], pool: dict[str, Any], pods: list[dict[str, Any]], since: datetime
) -> int:
    """Each task's log (task id -> log text) holds what the stack file set; the pool (as the API gives
    it) has its slots; every running pod made ``since`` the ``up`` that set the placement, and not
    stopping, carries the stack-wide nodeSelector (an older one is the earlier program's: a worker
    finishing its task, a task pod it started). The number of pods judged."""
    if pool.get("slots") != POOL_SLOTS:
        raise CheckFailed(f"pool {POOL} is not as airflow:pools sets it ({POOL_SLOTS} slots): {pool}")
    for task_id, log in logs.items():
        if EXPECTED_LINE not in log:
            seen = re.findall(r"cluster-probe: connection[^\"]*", log)
            printed = seen[-1] if seen else "nothing"
            raise CheckFailed(
                f"{task_id} did not see the stack file's settings: it printed {printed!r}, "
                f"not {EXPECTED_LINE!r}"
            )
    airflow_pods = [pod for pod in pods if not terminating(pod) and made_since(pod, since)]
    missing = [
        pod["metadata"]["name"]
        for pod in airflow_pods
        if any(pod["spec"].get("nodeSelector", {}).get(k) != v for k, v in _NODE_SELECTOR.items())
    ]
    if not airflow_pods or missing:
        raise CheckFailed(f"pods without the stack-wide nodeSelector {json.dumps(_NODE_SELECTOR)}: {missing}")
    return len(airflow_pods)
