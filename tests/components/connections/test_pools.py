"""airflow:pools: the Job the program registers, and its script run against a real Airflow 3.2.2 database
(SQLite here): the listed pools made as listed, the Job's own removed once unlisted, others untouched."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components.connections.pools import MANAGED_MARK, SYNC_POOLS, desired_pools
from components.connections.settings import Pool
from tests.conftest import run_stack
from tooling.offline.runtime import plain

JOB_TYPE = "kubernetes:batch/v1:Job"
POOLS = {"reports": {"slots": 4, "description": "nightly reports", "includeDeferred": True}}


def _job(pools: dict[str, Any]) -> dict[str, Any]:
    (job,) = [r for r in run_stack("dev", pools=pools).of_type(JOB_TYPE) if "pools" in r.name]
    return plain(job.inputs)


def test_the_job_is_named_by_its_pools_and_waits_for_the_release() -> None:
    recording = run_stack("dev", pools=POOLS)
    (job,) = [r for r in recording.of_type(JOB_TYPE) if "pools" in r.name]
    assert recording.release().urn in job.dependencies
    name = plain(job.inputs)["metadata"]["name"]
    assert name.startswith("airflow-pools-")
    assert name == _job(POOLS)["metadata"]["name"]  # the same pools: the same (finished) Job
    assert name != _job({"reports": {"slots": 5}})["metadata"]["name"]
    spec = plain(job.inputs)["spec"]["template"]["spec"]
    env = {e["name"]: e for e in spec["containers"][0]["env"]}
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]["valueFrom"]["secretKeyRef"]["key"] == "connection"
    assert json.loads(env["POOLS"]["value"]) == {
        "reports": {"slots": 4, "description": f"nightly reports {MANAGED_MARK}", "include_deferred": True}
    }
    assert spec["automountServiceAccountToken"] is False


def test_no_pools_no_job() -> None:
    assert [r for r in run_stack("dev").of_type(JOB_TYPE) if "pools" in r.name] == []


def test_a_bad_pool_is_refused_in_one_line() -> None:
    with pytest.raises(
        pulumi.RunError, match=r"airflow:pools.reports.slots in Pulumi.dev.yaml: Input should be"
    ):
        run_stack("dev", pools={"reports": {"slots": -1}})


def _airflow(home: Path, *args: str) -> str:
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    return subprocess.run(
        [str(Path(sys.executable).parent / "airflow"), *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def _pools(home: Path) -> dict[str, dict[str, str]]:
    listed = [
        line
        for line in _airflow(home, "pools", "list", "--output", "json").splitlines()
        if line.startswith("[")
    ]
    return {pool["pool"]: pool for pool in json.loads(listed[-1])}


def test_the_script_makes_the_listed_pools_and_removes_only_its_own(tmp_path: Path) -> None:
    home = tmp_path / "airflow"
    home.mkdir()
    _airflow(home, "db", "migrate")
    _airflow(home, "pools", "set", "made_in_the_ui", "2", "someone's")
    _airflow(home, "pools", "set", "unlisted", "2", f"was listed {MANAGED_MARK}")
    wanted = desired_pools({"reports": Pool(slots=4, include_deferred=True), "default_pool": Pool(slots=64)})
    subprocess.run(
        [sys.executable, "-c", SYNC_POOLS],
        env={
            **os.environ,
            "AIRFLOW_HOME": str(home),
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
            "POOLS": json.dumps(wanted),
            "MANAGED_MARK": MANAGED_MARK,
            "MIGRATION_WAIT_SECONDS": "60",
        },
        check=True,
        capture_output=True,
    )
    pools = _pools(home)
    assert set(pools) == {"default_pool", "made_in_the_ui", "reports"}
    assert (pools["reports"]["slots"], pools["reports"]["include_deferred"]) == ("4", "True")
    assert pools["default_pool"]["slots"] == "64"
    assert pools["made_in_the_ui"]["description"] == "someone's"
