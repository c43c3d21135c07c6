"""The escape hatches, judged on what the real chart renders from a stack that uses each of them."""

from __future__ import annotations

import configparser
import json
from typing import Any

import pytest

from tests.conftest import HATCH_SECRETS, HATCHES, Deployment, run_stack
from tooling.offline.runtime import plain


@pytest.fixture(scope="module")
def hatches(deployments: dict[str, Deployment]) -> Deployment:
    return deployments["hatches"]


def _airflow_cfg(deployment: Deployment) -> configparser.ConfigParser:
    config_map = next(c for c in deployment.of_kind("ConfigMap") if c["metadata"]["name"] == "airflow-config")
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(config_map["data"]["airflow.cfg"])
    return parser


def _pod(deployment: Deployment, component: str) -> dict[str, Any]:
    """The pod spec of the Deployment or StatefulSet of ``component``."""
    for workload in deployment.of_kind("Deployment") + deployment.of_kind("StatefulSet"):
        if workload["metadata"]["labels"].get("component") == component:
            return workload["spec"]["template"]["spec"]
    raise AssertionError(f"no workload of component {component}")


def test_airflow_config_options_reach_airflow_cfg_beside_the_programs_own(hatches: Deployment) -> None:
    cfg = _airflow_cfg(hatches)
    assert cfg["core"]["parallelism"] == "64"
    assert cfg["core"]["dags_are_paused_at_creation"] == "False"
    assert cfg["smtp"]["smtp_port"] == "2525"
    assert cfg["celery"]["worker_concurrency"] == "16"  # the program's own option stays


def test_the_api_base_url_follows_the_ingress_host(deployments: dict[str, Deployment]) -> None:
    assert _airflow_cfg(deployments["prod-ingress"])["api"]["base_url"] == "https://airflow.example.com"


def test_env_and_secret_env_reach_every_airflow_container_and_task_pods(hatches: Deployment) -> None:
    pods = [_pod(hatches, "scheduler"), _pod(hatches, "worker")]
    pods.append(hatches.task_pod["spec"])  # type: ignore[index]
    for pod in pods:
        env = {
            e["name"]: e
            for e in next(c for c in pod["containers"] if c["name"] in ("scheduler", "worker", "base"))["env"]
        }
        assert env["TZ"]["value"] == "Europe/Berlin"
        assert env["AIRFLOW__SMTP__SMTP_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
            "name": "airflow-environment",
            "key": "AIRFLOW__SMTP__SMTP_PASSWORD",
        }
        assert env["AIRFLOW_CONN_REPORTS_DB"]["valueFrom"]["secretKeyRef"]["name"] == "airflow-environment"
        assert env["AIRFLOW_VAR_LIMITS"]["valueFrom"]["secretKeyRef"]["key"] == "AIRFLOW_VAR_LIMITS"


def test_no_secret_value_reaches_the_values_or_the_chart(hatches: Deployment) -> None:
    text = json.dumps(hatches.values) + json.dumps(hatches.chart_objects)
    for secret in HATCH_SECRETS:
        assert secret not in text


def test_placement_per_component_and_stack_wide(hatches: Deployment) -> None:
    scheduler = _pod(hatches, "scheduler")
    assert scheduler["nodeSelector"] == {"pool": "control"}
    assert scheduler["priorityClassName"] == "airflow-standard"
    toleration = {"key": "dedicated", "operator": "Equal", "value": "airflow", "effect": "NoSchedule"}
    assert scheduler["tolerations"] == [toleration]
    worker = _pod(hatches, "worker")
    assert worker["nodeSelector"] == {"pool": "workers"}
    task = hatches.task_pod["spec"]  # type: ignore[index]
    assert task["nodeSelector"] == {"pool": "tasks"}
    assert task["topologySpreadConstraints"][0]["topologyKey"] == "kubernetes.io/hostname"
    statsd = _pod(hatches, "statsd")
    assert statsd["tolerations"] == [toleration]
    # The bundled PostgreSQL's subchart has no fallback of its own: the stack-wide placement reaches it.
    (postgresql,) = [
        s for s in hatches.of_kind("StatefulSet") if s["metadata"]["name"] == "airflow-postgresql"
    ]
    assert postgresql["spec"]["template"]["spec"]["tolerations"] == [toleration]
    assert postgresql["spec"]["template"]["spec"]["priorityClassName"] == "airflow-standard"
    jobs = [job["spec"]["template"]["spec"] for job in hatches.of_kind("Job")]
    assert jobs
    assert {job["priorityClassName"] for job in jobs} == {"airflow-batch"}


def test_extra_values_are_merged_last(hatches: Deployment) -> None:
    annotations = next(
        d for d in hatches.of_kind("Deployment") if d["metadata"]["labels"].get("component") == "scheduler"
    )["spec"]["template"]["metadata"]["annotations"]
    assert annotations["example.com/team"] == "data"


def test_the_programs_own_job_is_placed_as_the_charts_are() -> None:
    """The Fernet rotation Job: the jobs' own placement key by key, else the stack-wide one."""
    recording = run_stack(
        "dev",
        fernet={"generation": 1, "previousGeneration": 0},
        placement=HATCHES["placement"],
        jobs=HATCHES["jobs"],
    )
    (job,) = [r for r in recording.of_type("kubernetes:batch/v1:Job")]
    spec = plain(job.inputs)["spec"]["template"]["spec"]
    assert spec["priorityClassName"] == "airflow-batch"
    assert spec["tolerations"] == [
        {"key": "dedicated", "operator": "Equal", "value": "airflow", "effect": "NoSchedule"}
    ]
