"""The read-only-roots check's rule on pod specs shaped as the cluster returns them."""

from __future__ import annotations

from typing import Any

from tooling.cluster.hardening import (
    TOKEN_PATH,
    image_digest_problems,
    read_only_root_problems,
    service_account_token_problems,
)

TMP = {"name": "tmp", "emptyDir": {}}


def _container(name: str, *, read_only: bool, tmp: bool = True) -> dict[str, Any]:
    return {
        "name": name,
        "securityContext": {"readOnlyRootFilesystem": read_only},
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}] if tmp else [],
    }


def test_a_hardened_pod_passes_and_git_sync_is_left_to_its_own_rules() -> None:
    spec = {
        "volumes": [TMP],
        "initContainers": [_container("wait-for-airflow-migrations", read_only=True)],
        "containers": [_container("scheduler", read_only=True), _container("git-sync", read_only=False)],
    }
    assert read_only_root_problems("pod s", spec) == []


def test_a_writable_root_and_a_missing_scratch_are_named() -> None:
    spec = {
        "volumes": [TMP, {"name": "logs", "persistentVolumeClaim": {"claimName": "x"}}],
        "containers": [
            _container("scheduler", read_only=False),
            _container("scheduler-log-groomer", read_only=True, tmp=False),
        ],
    }
    assert read_only_root_problems("pod s", spec) == [
        "pod s container scheduler: root filesystem writable",
        "pod s container scheduler-log-groomer: no emptyDir at /tmp",
    ]


def test_a_container_beside_airflow_needs_only_a_read_only_root_and_postgresql_is_left_out() -> None:
    spec = {
        "containers": [
            _container("statsd", read_only=False, tmp=False),
            _container("metrics-exporter", read_only=True, tmp=False),
            _container("postgresql", read_only=False, tmp=False),
        ]
    }
    assert read_only_root_problems("pod p", spec, airflow=False) == [
        "pod p container statsd: root filesystem writable"
    ]


def _pod(name: str, component: str, *, token: bool) -> dict[str, Any]:
    mounts = [{"name": "kube-api-access-x", "mountPath": TOKEN_PATH}] if token else []
    return {
        "metadata": {"name": name, "labels": {"component": component}},
        "spec": {"containers": [{"name": component, "volumeMounts": mounts}]},
    }


def test_a_token_is_named_where_no_api_is_called_and_missing_where_one_is() -> None:
    pods = [
        _pod("airflow-scheduler-0", "scheduler", token=True),
        _pod("airflow-statsd-1", "statsd", token=True),
        _pod("airflow-dag-processor-2", "dag-processor", token=False),
        _pod("airflow-triggerer-3", "triggerer", token=False),
    ]
    assert service_account_token_problems(pods) == [
        "pod airflow-statsd-1 (statsd): carries a service-account token but calls no Kubernetes API",
        "pod airflow-triggerer-3 (triggerer): calls the Kubernetes API but has no service-account token",
    ]


def test_an_image_by_tag_or_other_content_than_its_digest_is_named() -> None:
    digest = "sha256:" + "a" * 64
    pods = [
        {
            "metadata": {"name": "airflow-statsd-0"},
            "spec": {
                "containers": [
                    {"name": "statsd", "image": f"quay.io/prometheus/statsd-exporter:v0.30.0@{digest}"},
                    {"name": "sidecar", "image": "redis:7.2-bookworm"},
                    {"name": "moved", "image": f"redis:7.2-bookworm@{digest}"},
                ]
            },
            "status": {
                "containerStatuses": [
                    {"name": "statsd", "imageID": f"quay.io/prometheus/statsd-exporter@{digest}"},
                    {"name": "moved", "imageID": "docker.io/library/redis@sha256:" + "b" * 64},
                ]
            },
        }
    ]
    problems, seen = image_digest_problems(pods)
    assert seen == 3
    assert problems == [
        "pod airflow-statsd-0 container sidecar: redis:7.2-bookworm by tag",
        f"pod airflow-statsd-0 container moved: runs docker.io/library/redis@sha256:{'b' * 64}, not {digest}",
    ]
