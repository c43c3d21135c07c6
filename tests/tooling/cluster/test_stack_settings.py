"""Check stack-settings-reach-tasks: what the probe DAG prints is what the check expects, and each missing
piece fails it."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tooling.cluster import stack_settings
from tooling.cluster.stack_settings import EXPECTED_LINE, check_stack_settings
from tooling.cluster.timeline import CheckFailed

PROBE_FOLDER = Path(__file__).resolve().parents[3] / "tooling" / "cluster" / "dags"


SINCE = datetime(2026, 12, 6, 4, 0, tzinfo=UTC)


def _pod(
    name: str, node_selector: dict[str, str] | None, created: str = "2026-12-06T04:00:00Z"
) -> dict[str, Any]:
    spec = {"nodeSelector": node_selector} if node_selector is not None else {}
    return {"metadata": {"name": name, "creationTimestamp": created}, "spec": spec}


PLACED = {"kubernetes.io/os": "linux"}
GOOD_POOL = {"name": "cluster_probe_pool", "slots": 3}
LOGS = {"reads_on_celery": f"... {EXPECTED_LINE} ...", "reads_in_a_pod": EXPECTED_LINE}


def test_the_probe_prints_the_line_the_check_expects_from_what_the_check_sets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The DAG reads the connection, variable, option and environment the check's own settings set."""
    monkeypatch.syspath_prepend(str(PROBE_FOLDER))
    monkeypatch.delitem(sys.modules, "cluster_probe", raising=False)
    import cluster_probe
    from airflow.configuration import conf

    seen: dict[str, Any] = {}
    monkeypatch.setattr(
        cluster_probe.Connection,
        "get",
        staticmethod(
            lambda conn_id: SimpleNamespace(conn_type="postgres", host=stack_settings._HOST, port=5432)
        ),
    )
    monkeypatch.setattr(
        cluster_probe.Variable,
        "get",
        staticmethod(lambda key: seen.setdefault("variable", key) and "set in the stack file"),
    )
    monkeypatch.setenv("AIRFLOW__CORE__PARALLELISM", str(stack_settings._PARALLELISM))
    monkeypatch.setenv("CLUSTER_PROBE_ENV", stack_settings._ENV)
    assert conf.get("core", "parallelism") == "48"
    assert cluster_probe.settings_seen() == EXPECTED_LINE
    assert seen["variable"] == "cluster_probe_greeting"


def test_settings_seen_by_each_task_and_every_pod_placed_pass() -> None:
    assert (
        check_stack_settings(LOGS, GOOD_POOL, [_pod("a", PLACED), _pod("b", PLACED | {"x": "y"})], SINCE) == 2
    )


def test_a_task_that_did_not_see_them_fails_the_check() -> None:
    with pytest.raises(
        CheckFailed,
        match=r"reads_in_a_pod did not see the stack file's settings: it printed .*parallelism 32",
    ):
        check_stack_settings(
            LOGS | {"reads_in_a_pod": EXPECTED_LINE.replace("48", "32")},
            GOOD_POOL,
            [_pod("a", PLACED)],
            SINCE,
        )


def test_a_pod_without_the_placement_fails_the_check() -> None:
    with pytest.raises(CheckFailed, match=r"\['scheduler-0'\]"):
        check_stack_settings(LOGS, GOOD_POOL, [_pod("a", PLACED), _pod("scheduler-0", None)], SINCE)


def test_a_pool_not_as_the_stack_file_sets_it_fails_the_check() -> None:
    with pytest.raises(CheckFailed, match="pool cluster_probe_pool is not as airflow:pools sets it"):
        check_stack_settings(LOGS, {"name": "cluster_probe_pool", "slots": 128}, [_pod("a", PLACED)], SINCE)


def test_pods_of_the_earlier_program_are_not_judged() -> None:
    """Found on the cluster: the earlier worker, finishing its task while it stops, and a task pod the
    earlier scheduler started ran without the placement the upgrade set."""
    stopping = _pod("airflow-worker-old", None)
    stopping["metadata"]["deletionTimestamp"] = "2026-12-06T04:01:00Z"
    earlier = _pod("cluster-probe-waits-waits-in-a-pod", None, created="2026-12-06T03:59:59Z")
    assert check_stack_settings(LOGS, GOOD_POOL, [_pod("a", PLACED), stopping, earlier], SINCE) == 1
