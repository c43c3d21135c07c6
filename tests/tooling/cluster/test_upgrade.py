"""What the upgrade check compares: uids and the hashes of Secrets' data, Helm's records aside."""

from __future__ import annotations

from typing import Any

from tooling.cluster.upgrade import DERIVED_KEYS, Snapshot, differences, snapshot


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


def test_a_snapshot_holds_uids_and_each_keys_hash_but_no_value_and_no_helm_record() -> None:
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
    assert list(taken.key_hashes) == [("airflow-fernet", "fernet-key")]
    assert "c2VjcmV0" not in repr(taken)


def test_an_upgrade_that_keeps_everything_differs_in_nothing() -> None:
    cluster = _cluster([_secret("airflow-fernet", "s-1", {"fernet-key": "a2V5"})])
    assert differences(snapshot(cluster, "ns"), snapshot(cluster, "ns")) == ([], [])


def test_a_lost_a_replaced_and_a_rerolled_object_are_each_named() -> None:
    before = Snapshot(
        uids={"Secret/a": "1", "Secret/b": "2", "Secret/c": "3", "PersistentVolumeClaim/d": "4"},
        key_hashes={("a", "k"): "x", ("b", "k"): "y", ("c", "password"): "z"},
    )
    after = Snapshot(
        uids={"Secret/b": "22", "Secret/c": "3", "PersistentVolumeClaim/d": "44", "Secret/new": "5"},
        key_hashes={("b", "k"): "y", ("c", "password"): "zz", ("new", "k"): "n"},
    )
    problems, notes = differences(before, after)
    assert problems == [
        "PersistentVolumeClaim/d was replaced",
        "Secret/a is gone",
        "Secret/b was replaced",
        "Secret/c changed its password",
    ]
    assert notes == []


def test_a_secret_of_derived_configuration_may_change_and_so_be_replaced() -> None:
    """pulumi-kubernetes replaces a Secret whose data changes (Secrets are immutable to it): for a key
    built from other values, such as pgbouncer.ini, that is an upgrade's change, not a loss."""
    (name, key), *_ = sorted(DERIVED_KEYS)
    before = Snapshot(uids={f"Secret/{name}": "1"}, key_hashes={(name, key): "x", (name, "users.txt"): "u"})
    changed = Snapshot(uids={f"Secret/{name}": "2"}, key_hashes={(name, key): "y", (name, "users.txt"): "u"})
    assert differences(before, changed) == ([], [f"{name}'s {key} changed (the Secret replaced)"])
    rerolled = Snapshot(uids={f"Secret/{name}": "2"}, key_hashes={(name, key): "y", (name, "users.txt"): "v"})
    problems, _ = differences(before, rerolled)
    assert problems == [f"Secret/{name} changed its users.txt", f"Secret/{name} was replaced"]


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
