"""A git DAG bundle on the real chart's output: the connection and the host keys reach exactly the pods
that fetch the bundle, and Airflow's config names the bundle for every component."""

from __future__ import annotations

import configparser
import json
from typing import Any

import pytest

from components.dags.values import GIT_CONN_ENV, KNOWN_HOSTS_DIR
from tests.conftest import Deployment

from ..release.kube_rules import containers, pod_specs

# The dag-processor and Celery workers, by workload name, and the KubernetesExecutor's task pods.
FETCHERS = {"airflow-dag-processor", "airflow-worker", "task-pod"}


def _pods(deployment: Deployment) -> dict[str, dict[str, Any]]:
    """Every pod spec the chart renders, by workload name (task pods from the executor's template)."""
    pods = {
        where.split("/", 1)[1]: spec for obj in deployment.chart_objects for where, spec in pod_specs(obj)
    }
    if deployment.task_pod is not None:
        pods["task-pod"] = deployment.task_pod["spec"]
    return pods


@pytest.fixture(scope="module")
def bundle(deployments: dict[str, Deployment]) -> Deployment:
    return deployments["both-git-bundle-ssh"]


def test_the_connection_and_host_keys_reach_exactly_the_pods_that_fetch(bundle: Deployment) -> None:
    with_connection, with_host_keys = set(), set()
    for component, spec in _pods(bundle).items():
        for container in containers(spec):
            if any(env["name"] == GIT_CONN_ENV for env in container.get("env", [])):
                with_connection.add(component)
            if any(m["mountPath"] == KNOWN_HOSTS_DIR for m in container.get("volumeMounts", [])):
                with_host_keys.add(component)
    assert with_connection == FETCHERS
    assert with_host_keys == FETCHERS


def test_the_main_containers_that_fetch_read_the_connection_from_its_secret(bundle: Deployment) -> None:
    pods = _pods(bundle)
    for component in FETCHERS:
        main = pods[component]["containers"][0]
        (env,) = [e for e in main["env"] if e["name"] == GIT_CONN_ENV]
        assert env["valueFrom"]["secretKeyRef"] == {"name": "airflow-git-connection", "key": "connection"}
        assert "value" not in env


def test_no_git_sync_sidecar_runs_with_a_bundle(bundle: Deployment) -> None:
    for component, spec in _pods(bundle).items():
        assert not [c for c in containers(spec) if "git-sync" in c["name"]], component


def test_every_component_reads_the_bundle_from_airflow_cfg(bundle: Deployment) -> None:
    (config,) = [
        o
        for o in bundle.chart_objects
        if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "airflow-config"
    ]
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read_string(config["data"]["airflow.cfg"])
    (entry,) = json.loads(cfg["dag_processor"]["dag_bundle_config_list"])
    assert entry["name"] == "dags-git"
    assert entry["classpath"] == "airflow.providers.git.bundles.git.GitDagBundle"
    assert entry["kwargs"]["repo_url"] == "git@github.com:acme/dags.git"
