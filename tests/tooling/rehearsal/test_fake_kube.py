"""The rehearsal's stand-in for the Kubernetes API authorizes as the API server does, so the real
provider code in the rehearsal is refused any call the stack's Roles do not grant."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from tooling.rehearsal.fake_kube import FakeKubernetes, rbac_request


@pytest.fixture
def fake() -> Iterator[FakeKubernetes]:
    kube = FakeKubernetes()
    kube.start()
    yield kube
    kube.stop()


def _client(fake: FakeKubernetes, tmp_path: Path, account: str) -> client.CoreV1Api:
    path = fake.kubeconfig(tmp_path / f"{account}.json", "airflow", account)
    return client.CoreV1Api(config.new_client_from_config(config_file=str(path)))


POD = {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "base", "image": "x"}]}}


def test_granted_calls_pass_and_others_are_forbidden(fake: FakeKubernetes, tmp_path: Path) -> None:
    fake.grant("airflow-scheduler", "airflow", {("pods", "list"), ("pods", "create")})
    api = _client(fake, tmp_path, "airflow-scheduler")
    assert api.list_namespaced_pod("airflow").items == []
    api.create_namespaced_pod("airflow", POD)
    with pytest.raises(ApiException) as forbidden:
        api.delete_namespaced_pod("p", "airflow")
    assert forbidden.value.status == 403
    with pytest.raises(ApiException):
        api.list_namespaced_pod("other")  # a Role holds in its own namespace only
    assert fake.denied == [
        "airflow-scheduler: delete pods in airflow",
        "airflow-scheduler: list pods in other",
    ]
    assert fake.calls["airflow-scheduler"] == {("pods", "list"), ("pods", "create")}


def test_an_account_without_rights_gets_nothing(fake: FakeKubernetes, tmp_path: Path) -> None:
    api = _client(fake, tmp_path, "airflow-dag-processor")
    with pytest.raises(ApiException):
        api.list_namespaced_pod("airflow")
    assert fake.denied == ["airflow-dag-processor: list pods in airflow"]


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/api/v1/namespaces/a/pods?watch=True&labelSelector=x", ("a", "pods", "watch")),
        ("GET", "/api/v1/namespaces/a/pods/p", ("a", "pods", "get")),
        ("GET", "/api/v1/namespaces/a/pods/p/log?follow=true", ("a", "pods/log", "get")),
        ("GET", "/api/v1/namespaces/a/pods/p/exec?command=sh", ("a", "pods/exec", "get")),
        ("POST", "/api/v1/namespaces/a/pods/p/exec?command=sh", ("a", "pods/exec", "create")),
        ("PATCH", "/api/v1/namespaces/a/pods/p", ("a", "pods", "patch")),
        ("DELETE", "/api/v1/namespaces/a/pods", ("a", "pods", "deletecollection")),
        ("GET", "/api/v1/namespaces/a/events", ("a", "events", "list")),
        ("GET", "/api/v1/pods", ("", "/api/v1/pods", "get")),  # every namespace: no Role grants it
        ("GET", "/version", None),
    ],
)
def test_requests_are_named_as_rbac_names_them(
    method: str, path: str, expected: tuple[str, ...] | None
) -> None:
    assert rbac_request(method, path) == expected
