"""The stand-in plugins' own logic (the protocol itself is exercised by the real engine in
``bash .ci/cluster-test``): what they generate, refuse and report."""

from __future__ import annotations

import base64
import string

import pytest
from google.protobuf import struct_pb2
from pulumi.runtime.proto import language_pb2

from tooling.cluster.plugins import docker_provider, language_host, random_provider
from tooling.cluster.plugins.provider import UNKNOWN, has_unknowns, to_dict, to_struct


def test_a_password_honours_every_minimum_and_the_alphabet() -> None:
    resource = random_provider.RandomPassword()
    inputs, failures = resource.check(
        {"length": 24, "special": False, "minLower": 3, "minUpper": 3, "minNumeric": 3}
    )
    assert failures == []
    for _ in range(50):
        _, outputs = resource.create(inputs, preview=False)
        result = outputs["result"]
        assert len(result) == 24
        assert set(result) <= set(string.ascii_letters + string.digits)
        assert sum(c.islower() for c in result) >= 3
        assert sum(c.isupper() for c in result) >= 3
        assert sum(c.isdigit() for c in result) >= 3


def test_two_passwords_differ() -> None:
    resource = random_provider.RandomPassword()
    inputs, _ = resource.check({"length": 32})
    assert resource.create(inputs, False)[1]["result"] != resource.create(inputs, False)[1]["result"]


@pytest.mark.parametrize(
    ("news", "property_"),
    [({"length": 0}, "length"), ({"length": 4, "minLower": 3, "minUpper": 3}, "length"), ({}, "length")],
)
def test_an_impossible_password_is_refused(news: dict, property_: str) -> None:
    _, failures = random_provider.RandomPassword().check(news)
    assert [name for name, _ in failures] == [property_]


def test_a_random_id_s_encodings_are_of_the_same_bytes() -> None:
    resource = random_provider.RandomId()
    inputs, failures = resource.check({"byteLength": 32})
    assert failures == []
    id_, outputs = resource.create(inputs, preview=False)
    raw = bytes.fromhex(outputs["hex"])
    assert len(raw) == 32
    assert base64.b64decode(outputs["b64Std"]) == raw
    assert base64.urlsafe_b64decode(outputs["b64Url"] + "=" * (-len(outputs["b64Url"]) % 4)) == raw
    assert int(outputs["dec"]) == int.from_bytes(raw, "big")
    assert id_ == outputs["b64Url"]


def test_nothing_is_generated_in_a_preview() -> None:
    _, outputs = random_provider.RandomPassword().create({"length": 8}, preview=True)
    assert "result" not in outputs


def test_every_random_input_replaces() -> None:
    # As in the Terraform provider, where each is ForceNew: a changed keeper must give a new value.
    assert {
        "keepers",
        "length",
        "byteLength",
    } <= random_provider.RandomPassword.replace_on | random_provider.RandomId.replace_on


@pytest.mark.parametrize(
    ("image", "repository"),
    [
        ("localhost:5000/airflow-dags:dags-abc", "localhost:5000/airflow-dags"),
        ("ghcr.io/acme/dags:1", "ghcr.io/acme/dags"),
        ("localhost:5000/airflow-dags", "localhost:5000/airflow-dags"),
        ("registry:5000/a/b@sha256:" + "0" * 64, "registry:5000/a/b"),
    ],
)
def test_the_repo_digest_keeps_the_repository_and_drops_the_tag(image: str, repository: str) -> None:
    assert docker_provider._repository(image) == repository


def test_no_image_is_built_while_an_input_is_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(docker_provider, "_docker", lambda *a, **k: pytest.fail("docker ran"))
    outputs = docker_provider.Image().update(
        {}, {"imageName": "r/x:1", "registry": {"password": UNKNOWN}}, False
    )
    assert "repoDigest" not in outputs


def test_properties_round_trip_and_unknowns_are_found() -> None:
    properties = {"a": "x", "b": {"c": [1.0, UNKNOWN]}}
    assert to_dict(to_struct(properties)) == properties
    assert has_unknowns(properties)
    assert not has_unknowns({"a": ["x"]})


def test_the_language_host_runs_the_virtualenv_pulumi_yaml_names(tmp_path) -> None:
    options = struct_pb2.Struct()
    options.update({"toolchain": "pip", "virtualenv": ".venv"})
    info = language_pb2.ProgramInfo(
        root_directory=str(tmp_path), program_directory=str(tmp_path), options=options
    )
    assert language_host._python(info, str(tmp_path)) == str(tmp_path / ".venv" / "bin" / "python")
