"""What each stack would really deploy, judged object by object: the pinned chart rendered by Helm
with the program's values, plus every object the program creates itself."""

from __future__ import annotations

import functools
import json
from decimal import Decimal
from typing import Any

import kubernetes_validate
import pytest

from components.quantity import cpu_cores, memory_bytes
from tests.components.release.kube_rules import containers, pod_specs, resource_problems, restricted_problems
from tests.conftest import PINS, Deployment, render_chart
from tests.helpers import generated_values
from tooling.cluster.hardening import read_only_root_problems
from tooling.offline.footprint import workloads
from tooling.offline.runtime import SECRET
from tooling.offline.summary import stack_summary

# The README supports Kubernetes 1.30 and newer; the newest the validator knows stands for "newer".
KUBERNETES_VERSIONS = ("1.30", kubernetes_validate.utils.latest_version())
# kubernetes_validate reads and parses its schema files again for every object (1 s per stack); the
# files never change, so one read each is enough.
kubernetes_validate.utils.schema_contents = functools.cache(kubernetes_validate.utils.schema_contents)
# Custom resources have no schema among Kubernetes' own; the Prometheus Operator validates them.
_CUSTOM_KINDS = {"ServiceMonitor", "PrometheusRule"}


def _pods(d: Deployment) -> list[tuple[str, dict[str, Any]]]:
    found = [pair for obj in d.objects for pair in pod_specs(obj)]
    if d.task_pod is not None:
        found += [("task pod (pod_template_file)", d.task_pod["spec"])]
    return found


def test_the_chart_creates_no_secret(deployment: Deployment) -> None:
    """Every Secret comes from the program: one the chart made would hold a value it generated itself,
    outside Pulumi's state, and re-rolled or left behind by Helm hooks."""
    assert [o["metadata"]["name"] for o in deployment.chart_objects if o["kind"] == "Secret"] == []


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_object_is_valid_kubernetes(deployment: Deployment, version: str) -> None:
    problems = []
    objects = [o for o in deployment.objects if o["kind"] not in _CUSTOM_KINDS]
    if deployment.task_pod is not None:
        objects.append(deployment.task_pod)
    for obj in objects:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as err:
            problems.append(
                f"{obj['kind']}/{obj['metadata']['name']}: {'.'.join(map(str, err.path))}: {err.message}"
            )
    assert problems == []
    assert len(objects) >= 25


def test_validation_catches_a_misspelt_field() -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "x"},
        "spec": {"containers": [{"name": "c", "imag": "x"}]},
    }
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(pod, "1.30", strict=True)


def test_every_pod_is_restricted(deployment: Deployment) -> None:
    pods = _pods(deployment)
    assert len(pods) >= 6
    assert [p for where, spec in pods for p in restricted_problems(where, spec)] == []


def test_every_container_requests_cpu_and_memory_and_limits_memory(deployment: Deployment) -> None:
    assert [p for where, spec in _pods(deployment) for p in resource_problems(where, spec)] == []


def test_the_rules_catch_a_weak_pod() -> None:
    spec = {"hostNetwork": True, "containers": [{"name": "c", "securityContext": {"runAsUser": 0}}]}
    problems = restricted_problems("Pod/x", spec) + resource_problems("Pod/x", spec)
    assert "Pod/x: hostNetwork" in problems
    assert "Pod/x container c: allowPrivilegeEscalation is not false" in problems
    assert "Pod/x container c: runAsUser 0" in problems
    assert "Pod/x container c: no requests.cpu, requests.memory, limits.memory" in problems


def test_no_secret_value_in_any_object_values_or_record(deployment: Deployment) -> None:
    recording = deployment.recording
    texts = {
        "objects": json.dumps(deployment.objects),
        "values": json.dumps(deployment.values),
        "plain outputs": json.dumps(
            {k: v for k, (v, secret) in recording.stack_outputs.items() if not secret}
        ),
    }
    leaks = [
        (where, value[:4] + "...")
        for value in generated_values(recording)
        for where, text in texts.items()
        if value in text
    ]
    assert leaks == []


def test_program_secrets_list_their_keys_with_hidden_values(deployment: Deployment) -> None:
    secrets = [o for o in deployment.program_objects if o["kind"] == "Secret"]
    assert secrets
    for secret in secrets:
        assert secret["stringData"], secret["metadata"]["name"]
        assert set(secret["stringData"].values()) == {SECRET}


@pytest.mark.parametrize(
    ("key_paths", "chart_secrets"),
    [
        ([("fernetKeySecretName",)], {"airflow-fernet-key"}),
        # The chart refuses one of these two without the other.
        (
            [("data", "brokerUrlSecretName"), ("redis", "passwordSecretName")],
            {"airflow-broker-url", "airflow-redis-password"},
        ),
    ],
)
def test_without_our_secret_name_the_chart_makes_its_own(
    deployments: dict[str, Deployment], key_paths: list[tuple[str, ...]], chart_secrets: set[str]
) -> None:
    """The check above can fail: drop a name from the values of a stack with the chart's Redis, and the
    chart renders that Secret."""
    d = next(d for d in deployments.values() if d.settings.uses_celery and d.settings.redis.mode == "bundled")
    values = json.loads(json.dumps(d.values))
    for path in key_paths:
        parent = values
        for key in path[:-1]:
            parent = parent[key]
        del parent[path[-1]]
    names = {
        o["metadata"]["name"] for o in render_chart(values, namespace=d.namespace) if o["kind"] == "Secret"
    }
    assert names == chart_secrets


# The footprint's names for the chart's workloads (Deployment or StatefulSet of that name).
_WORKLOAD_NAMES = {
    "scheduler": "airflow-scheduler",
    "api-server": "airflow-api-server",
    "triggerer": "airflow-triggerer",
    "dag-processor": "airflow-dag-processor",
    "statsd": "airflow-statsd",
    "celery-worker": "airflow-worker",
    "redis": "airflow-redis",
    "pgbouncer": "airflow-pgbouncer",
    "postgresql": "airflow-postgresql",
}


def test_the_render_summary_s_footprint_is_what_the_chart_renders(deployment: Deployment) -> None:
    """The summary reads requests from the values; the chart decides which containers a pod gets."""
    rendered = {
        o["metadata"]["name"]: o
        for o in deployment.chart_objects
        if o["kind"] in ("Deployment", "StatefulSet")
    }
    for footprint in workloads(deployment.values):
        workload = rendered[_WORKLOAD_NAMES[footprint.name]]
        requests = [c["resources"]["requests"] for c in workload["spec"]["template"]["spec"]["containers"]]
        cpu = sum((cpu_cores(r["cpu"]) for r in requests), Decimal(0))
        memory = sum(memory_bytes(r["memory"]) for r in requests)
        assert (footprint.name, workload["spec"].get("replicas", 1), cpu, memory) == (
            footprint.name,
            footprint.replicas,
            footprint.cpu,
            footprint.memory,
        )


def _airflow_container(d: Deployment, container: dict[str, Any]) -> bool:
    """Whether a container runs Airflow's image (its own command line, the wait-for-migrations init
    container and the log groomer included)."""
    images = d.values.get("images", {}).get("airflow", {})
    airflow_image = images.get("repository") or d.values.get("defaultAirflowRepository", "apache/airflow")
    image = container.get("image", "")
    # The chart's PgBouncer images share the repository, under airflow-pgbouncer-* tags.
    return image.startswith((f"{airflow_image}:", f"{airflow_image}@")) and ":airflow-pgbouncer" not in image


# Left writable besides what the cluster check leaves (hardening.WRITABLE_ROOTS: the bundled PostgreSQL,
# git-sync): the Fernet rotation Job, which the real cluster has not run yet (issue 22's fernet-rotation).
NOT_YET_READ_ONLY = "rotate-fernet-key"


def test_every_container_has_a_read_only_root_and_airflow_s_a_scratch_tmp(deployment: Deployment) -> None:
    """Airflow writes to its logs and DAG volumes and to /tmp, an emptyDir; StatsD's exporter, PgBouncer
    and its exporter, and the chart's Redis write only to their volumes: whatever else a compromised
    container writes fails. Judged by the rule the cluster check applies to the running pods."""
    problems, airflow_containers = [], 0
    for where, spec in _pods(deployment):
        kept = [c for c in containers(spec) if not c["name"].startswith(NOT_YET_READ_ONLY)]
        airflow = [c for c in kept if _airflow_container(deployment, c)]
        others = [c for c in kept if not _airflow_container(deployment, c)]
        airflow_containers += len(airflow)
        problems += read_only_root_problems(where, {**spec, "initContainers": [], "containers": airflow})
        problems += read_only_root_problems(
            where, {**spec, "initContainers": [], "containers": others}, airflow=False
        )
    assert airflow_containers >= 6
    assert problems == []


MIN_EXEC_PROBE_SECONDS = 5


def test_no_exec_probe_can_unready_a_pod_for_a_slow_fork(deployment: Deployment) -> None:
    """An exec probe forks a process; on a busy node that takes over a second. The chart's PgBouncer
    exporter probe had 1 s: on the real cluster, a DAG edit's rollout made it time out, the pod left its
    Service, and every Airflow pod lost its database ("No route to host") and restarted."""
    short = [
        f"{where} container {c['name']} {kind}: {probe.get('timeoutSeconds', 1)} s"
        for where, spec in _pods(deployment)
        for c in containers(spec)
        for kind in ("livenessProbe", "readinessProbe", "startupProbe")
        if "exec" in (probe := c.get(kind) or {}) and probe.get("timeoutSeconds", 1) < MIN_EXEC_PROBE_SECONDS
    ]
    assert short == []


@pytest.mark.parametrize("name", ["pinned-both-git-sync-bundled", "pinned-prod"])
def test_a_stack_that_pins_every_image_runs_each_by_its_digest(
    name: str, deployments: dict[str, Deployment]
) -> None:
    """Every container of every pod, and the task pods the KubernetesExecutor starts, by digest: the
    pins given, or the DAG image's push."""
    deployment = deployments[name]
    pinned = {pin.split("@")[1] for pin in PINS.values()}
    if deployment.settings.dags.delivery == "image":
        pinned.add(
            deployment.recording.of_type("docker:index/image:Image")[0].outputs["repoDigest"].split("@")[1]
        )
    # The KubernetesExecutor replaces the pod template's base image with its own (checked below).
    images = {
        f"{where} container {container['name']}": container["image"]
        for where, spec in _pods(deployment)
        for container in containers(spec)
        if not (where.startswith("task pod") and container["name"] == "base")
    }
    # What the executor puts there: worker_container_repository (the chart's) with this tag.
    tag = deployment.values["config"].get("kubernetes_executor", {}).get("worker_container_tag", "")
    images["task pods (worker_container_tag)"] = tag
    by_tag = {where: image for where, image in images.items() if image.partition("@")[2] not in pinned}
    assert by_tag == {}


def test_the_render_summary_names_images_by_tag_exactly_when_the_chart_runs_some(
    deployment: Deployment,
) -> None:
    """The summary reads the values; the chart decides which images its pods name, and how."""
    by_tag = [
        f"{where} container {c['name']}: {c['image']}"
        for where, spec in _pods(deployment)
        for c in containers(spec)
        # The KubernetesExecutor replaces the template's base image with its own tag (below).
        if "@" not in c["image"] and not (where.startswith("task pod") and c["name"] == "base")
    ]
    executor = deployment.values["config"].get("kubernetes_executor", {})
    if deployment.task_pod is not None and "@" not in executor.get("worker_container_tag", ""):
        by_tag.append("task pods (worker_container_tag)")
    (line,) = [
        line
        for line in stack_summary(deployment.name, deployment.recording).splitlines()
        if line.startswith("images")
    ]
    assert (line == "images: every one by digest") == (by_tag == []), (line, by_tag)
