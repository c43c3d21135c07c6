"""What the upgrade check compares: uids and the hashes of Secrets' data, Helm's records aside."""

from __future__ import annotations

from typing import Any

from tooling.cluster.upgrade import Snapshot, differences, snapshot


def _cluster(secrets: list[dict[str, Any]]):
    objects = {
        "namespace": {"metadata": {"uid": "ns-1"}},
        "pvc": {"items": [{"metadata": {"name": "data-airflow-postgresql-0", "uid": "pvc-1"}}]},
        "secrets": {"items": secrets},
    }

    def kubectl_json(verb: str, kind: str, *rest: str) -> Any:
        assert verb == "get"
        return objects[kind]

    return kubectl_json


def _secret(name: str, uid: str, data: dict[str, str], kind: str = "Opaque") -> dict[str, Any]:
    return {"metadata": {"name": name, "uid": uid}, "type": kind, "data": data}


def test_a_snapshot_holds_uids_and_data_hashes_but_no_value_and_no_helm_record() -> None:
    taken = snapshot(
        _cluster(
            [
                _secret("airflow-fernet", "s-1", {"fernet-key": "c2VjcmV0"}),
                _secret("sh.helm.release.v1.airflow.v1", "h-1", {"release": "x"}, "helm.sh/release.v1"),
            ]
        ),
        "airflow-local",
    )
    assert taken.uids == {
        "Namespace/airflow-local": "ns-1",
        "PersistentVolumeClaim/data-airflow-postgresql-0": "pvc-1",
        "Secret/airflow-fernet": "s-1",
    }
    assert list(taken.secret_hashes) == ["Secret/airflow-fernet"]
    assert "c2VjcmV0" not in repr(taken)


def test_an_upgrade_that_keeps_everything_differs_in_nothing() -> None:
    cluster = _cluster([_secret("airflow-fernet", "s-1", {"fernet-key": "a2V5"})])
    assert differences(snapshot(cluster, "ns"), snapshot(cluster, "ns")) == []


def test_a_lost_a_replaced_and_a_rerolled_object_are_each_named() -> None:
    before = Snapshot(
        uids={"Secret/a": "1", "Secret/b": "2", "Secret/c": "3"},
        secret_hashes={"Secret/a": "x", "Secret/b": "y", "Secret/c": "z"},
    )
    after = Snapshot(
        uids={"Secret/b": "22", "Secret/c": "3", "Secret/new": "4"},
        secret_hashes={"Secret/b": "y", "Secret/c": "zz", "Secret/new": "n"},
    )
    assert differences(before, after) == [
        "Secret/a is gone",
        "Secret/b was replaced",
        "Secret/c changed its data",
    ]


def test_the_earlier_commit_is_an_ancestor_of_this_one() -> None:
    import subprocess

    import pytest

    from tooling.cluster.upgrade import EARLIER_COMMIT
    from tooling.cluster.workspace import PROJECT

    def git(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["git", *args], cwd=PROJECT, capture_output=True, text=True, check=False)

    if git("rev-parse", "--is-shallow-repository").stdout.strip() == "true":
        pytest.skip("a shallow clone holds no earlier commit")
    assert git("merge-base", "--is-ancestor", EARLIER_COMMIT, "HEAD").returncode == 0
