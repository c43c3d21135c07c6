"""The rehearsal's own pieces that can fail quietly: the local rewrites and the task-pod verdict."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from tooling.rehearsal.pods import Rewrites
from tooling.rehearsal.task_pods import dag_image, pod_problems


def _rewrites() -> Rewrites:
    return Rewrites(
        namespace="airflow",
        home=Path("/tmp/home"),
        dags=Path("/tmp/dags"),
        services={("airflow-pgbouncer", 6543): 41000, ("airflow-redis", 6379): 42000},
    )


@pytest.mark.parametrize(
    "host",
    ["airflow-pgbouncer", "airflow-pgbouncer.airflow", "airflow-pgbouncer.airflow.svc.cluster.local"],
)
def test_every_dns_form_of_a_service_maps_to_its_loopback_port(host: str) -> None:
    rewrites = _rewrites()
    url = f"postgresql+psycopg2://u:p@{host}:6543/airflow-metadata?sslmode=disable"
    assert rewrites.text(url) == "postgresql+psycopg2://u:p@127.0.0.1:41000/airflow-metadata?sslmode=disable"
    assert rewrites.describe() == ["airflow-pgbouncer:6543 -> 127.0.0.1:41000"]


def test_only_services_and_image_paths_are_rewritten() -> None:
    rewrites = _rewrites()
    text = "db.example.com:6543 airflow-redis:6380 /opt/airflow/dags/x.py /opt/airflow/logs"
    assert rewrites.text(text) == "db.example.com:6543 airflow-redis:6380 /tmp/dags/x.py /tmp/home/logs"


GOOD_POD: dict[str, Any] = {
    "spec": {
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "volumes": [{"name": "config", "configMap": {"name": "airflow-config"}}],
        "containers": [
            {
                "name": "base",
                "image": "ghcr.io/acme/dags:dags-1",
                "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
                "resources": {"requests": {"cpu": "100m", "memory": "1Gi"}, "limits": {"memory": "1Gi"}},
                "volumeMounts": [{"name": "config", "mountPath": "/opt/airflow/airflow.cfg"}],
            }
        ],
    }
}


def test_a_good_task_pod_passes() -> None:
    assert pod_problems(GOOD_POD, "ghcr.io/acme/dags:dags-1") == []


@pytest.mark.parametrize(
    ("break_it", "expected"),
    [
        (lambda p: p["spec"]["securityContext"].pop("runAsNonRoot"), "runAsNonRoot is not true"),
        (lambda p: p["spec"]["containers"][0]["resources"]["limits"].clear(), "a memory limit"),
        (lambda p: p["spec"]["containers"][0].update(image="apache/airflow:3.2.2"), "not the DAG image"),
        (
            lambda p: p["spec"]["containers"][0].update(volumeMounts=[]),
            "does not mount the rendered airflow.cfg",
        ),
        (lambda p: p["spec"]["containers"][0]["securityContext"].pop("capabilities"), "do not drop ALL"),
    ],
)
def test_each_broken_property_is_named(break_it: Any, expected: str) -> None:
    pod = copy.deepcopy(GOOD_POD)
    break_it(pod)
    problems = pod_problems(pod, "ghcr.io/acme/dags:dags-1")
    assert len(problems) == 1
    assert expected in problems[0]


def test_a_task_pod_must_run_the_dag_image_by_its_digest_where_it_has_one() -> None:
    """Found by the rehearsal: the executor now runs ``repository:TAG@DIGEST``; a rehearsal that expected
    the tag alone refused the right pods."""
    digest = "sha256:" + "a" * 64
    image = {"repository": "ghcr.io/acme/dags", "tag": "dags-1"}
    assert (
        dag_image({"images": {"airflow": {**image, "digest": digest}}})
        == f"ghcr.io/acme/dags:dags-1@{digest}"
    )
    assert dag_image({"images": {"airflow": {**image, "digest": None}}}) == "ghcr.io/acme/dags:dags-1"
    pod = copy.deepcopy(GOOD_POD)
    pod["spec"]["containers"][0]["image"] = f"ghcr.io/acme/dags:dags-1@{digest}"
    assert pod_problems(pod, f"ghcr.io/acme/dags:dags-1@{digest}") == []
    assert pod_problems(GOOD_POD, f"ghcr.io/acme/dags:dags-1@{digest}") == [
        f"base runs ghcr.io/acme/dags:dags-1, not the DAG image ghcr.io/acme/dags:dags-1@{digest}"
    ]
