"""The read-only-roots check's rule on pod specs shaped as the cluster returns them."""

from __future__ import annotations

from typing import Any

from tooling.cluster.hardening import read_only_root_problems

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
