"""Fernet key rotation: new,old in the Secret, one rotation Job after the release, then old dropped; no
stored value is ever unreadable (checked with cryptography at every step)."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from components.model import ConfigError
from components.validation import parse_settings
from tests.conftest import run_stack
from tests.helpers import secret_string_data
from tooling.offline.runtime import Recording, plain

JOB = "kubernetes:batch/v1:Job"
RANDOM_ID = "random:index/randomId:RandomId"


def _fernet(recording: Recording) -> MultiFernet:
    """What Airflow builds from the Secret (airflow.models.crypto.get_fernet): every key, first encrypts."""
    keys = secret_string_data(recording, "airflow-fernet")["fernet-key"]
    return MultiFernet([Fernet(key.encode()) for key in keys.split(",")])


def _keys(recording: Recording) -> list[str]:
    return secret_string_data(recording, "airflow-fernet")["fernet-key"].split(",")


def test_rotation_never_leaves_a_stored_value_unreadable() -> None:
    before = run_stack("prod")
    rotating = run_stack("prod", fernet={"generation": 1, "previousGeneration": 0})
    after = run_stack("prod", fernet={"generation": 1})

    stored = _fernet(before).encrypt(b"postgres://user:conn-password@db/app")  # a connection, before
    # While rotating, pods hold new,old: the old value reads, and new writes use the new key.
    assert _keys(rotating)[1] == _keys(before)[0]
    assert _keys(rotating)[0] != _keys(before)[0]
    assert _fernet(rotating).decrypt(stored) == b"postgres://user:conn-password@db/app"
    # `airflow rotate-fernet-key` re-encrypts every value with MultiFernet.rotate.
    rotated = _fernet(rotating).rotate(stored)
    # After the old key is dropped, the rotated value reads; the unrotated one would not.
    assert _keys(after) == [_keys(rotating)[0]]
    assert _fernet(after).decrypt(rotated) == b"postgres://user:conn-password@db/app"
    with pytest.raises(InvalidToken):
        _fernet(after).decrypt(stored)


def test_generation_zero_keeps_the_key_it_always_had() -> None:
    inputs = {r.name: plain(r.inputs) for r in run_stack("prod").of_type(RANDOM_ID)}
    assert inputs == {"airflow-fernet-key": {"byteLength": 32, "keepers": {"rotation": "0"}}}


def test_only_the_current_key_is_protected() -> None:
    recording = run_stack("prod", fernet={"generation": 1, "previousGeneration": 0})
    protected = {r.name for r in recording.of_type(RANDOM_ID) if r.protect}
    assert protected == {"airflow-fernet-key-1"}
    assert recording.named("airflow-fernet-key").protect is False


def test_the_rotation_job_runs_once_per_generation_after_the_release() -> None:
    recording = run_stack("prod", fernet={"generation": 2, "previousGeneration": 1})
    (job,) = recording.of_type(JOB)
    assert job.inputs["metadata"]["name"] == "airflow-rotate-fernet-key-2"
    assert recording.release().urn in job.dependencies
    container = job.inputs["spec"]["template"]["spec"]["containers"][0]
    assert container["command"][:2] == ["python", "-c"]
    assert 'subprocess.call(["airflow", "rotate-fernet-key"])' in container["command"][2]
    env = {e["name"]: e for e in container["env"]}
    assert env["AIRFLOW__CORE__FERNET_KEY"]["valueFrom"]["secretKeyRef"] == {
        "name": "airflow-fernet",
        "key": "fernet-key",
    }
    # It waits for pods holding both keys: the annotation the release gives them while rotating.
    assert env["GENERATION"]["value"] == "2,1"
    assert run_stack("prod").of_type(JOB) == []
    assert run_stack("prod", fernet={"generation": 2}).of_type(JOB) == []


def test_a_new_generation_restarts_every_airflow_pod_and_so_does_dropping_the_old_key() -> None:
    """Pods read the key from their environment, set at start: a pod left running after the old key is
    dropped would keep it, so each change of the keys Airflow holds restarts every pod."""

    def annotations(**overrides: Any) -> dict[str, str]:
        return plain(run_stack("dev", **overrides).release().inputs)["values"]["airflowPodAnnotations"]

    assert annotations() == {"airflow-on-kubernetes/fernet-generation": "0"}
    assert annotations(fernet={"generation": 3, "previousGeneration": 2}) == {
        "airflow-on-kubernetes/fernet-generation": "3,2"
    }
    assert annotations(fernet={"generation": 3}) == {"airflow-on-kubernetes/fernet-generation": "3"}


def test_the_wait_script_is_valid_python() -> None:
    from components.secrets.fernet import WAIT_THEN_ROTATE

    compile(WAIT_THEN_ROTATE, "wait-then-rotate", "exec")


@pytest.mark.parametrize(
    ("fernet", "message"),
    [
        ({"generation": 1, "previousGeneration": 1}, "previousGeneration 1 must be below generation 1"),
        ({"generation": -1}, "airflow:fernet.generation in Pulumi.test.yaml"),
        ({"generation": 1, "previous": 0}, "airflow:fernet.previous in Pulumi.test.yaml is not a known key"),
    ],
)
def test_bad_rotation_settings_are_named(fernet: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_settings({"fernet": fernet}, source="Pulumi.test.yaml")
