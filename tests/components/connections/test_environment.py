"""Connections, variables and secret variables from the stack file: one Secret, read by every Airflow
pod through the chart's ``secret`` entries; never a value in the Helm values; a removed entry is gone."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from tests.conftest import run_stack
from tests.helpers import secret_string_data
from tooling.offline.runtime import Recording, plain

URL = "postgresql://reports:r3p0rts-s3cret@db.example.com:5432/reports"
ENTRIES: dict[str, Any] = {
    "connections": {"reports_db": URL, "slack": '{"conn_type": "slack", "password": "xoxb-s3cret"}'},
    "variables": {"greeting": "hello", "limits": {"rows": 10, "cols": 2}, "dry_run": True},
    "secretEnv": {"AIRFLOW__SMTP__SMTP_PASSWORD": "smtp-s3cret"},
}
SECRET_KEYS = ["airflow:connections", "airflow:secretEnv", "airflow:variables"]


def _run(**entries: Any) -> Recording:
    return run_stack("dev", secret_keys=[k for k in SECRET_KEYS if k.split(":")[1] in entries], **entries)


def test_every_entry_is_a_secret_value_of_one_secret_and_only_its_name_reaches_the_values() -> None:
    recording = _run(**ENTRIES)
    data = secret_string_data(recording, "airflow-environment")
    assert data == {
        "AIRFLOW_CONN_REPORTS_DB": URL,
        "AIRFLOW_CONN_SLACK": '{"conn_type":"slack","password":"xoxb-s3cret"}',
        "AIRFLOW_VAR_DRY_RUN": "true",
        "AIRFLOW_VAR_GREETING": "hello",
        "AIRFLOW_VAR_LIMITS": '{"cols":2,"rows":10}',
        "AIRFLOW__SMTP__SMTP_PASSWORD": "smtp-s3cret",
    }
    release = recording.release()
    assert recording.named("airflow-environment").urn in release.dependencies
    values = plain(release.inputs)["values"]
    assert {entry["envName"] for entry in values["secret"]} == set(data)
    assert {entry["secretName"] for entry in values["secret"]} == {"airflow-environment"}
    assert "airflow-on-kubernetes/environment-version" in values["airflowPodAnnotations"]
    text = json.dumps(values)
    for secret in ("r3p0rts-s3cret", "xoxb-s3cret", "smtp-s3cret"):
        assert secret not in text


def test_a_removed_entry_is_gone_from_the_secret_and_every_pod() -> None:
    before = _run(**ENTRIES)
    after = _run(
        connections={"reports_db": URL}, variables={"greeting": "hello"}, secretEnv=ENTRIES["secretEnv"]
    )
    assert "AIRFLOW_CONN_SLACK" in secret_string_data(before, "airflow-environment")
    assert set(secret_string_data(after, "airflow-environment")) == {
        "AIRFLOW_CONN_REPORTS_DB",
        "AIRFLOW_VAR_GREETING",
        "AIRFLOW__SMTP__SMTP_PASSWORD",
    }
    names = {entry["envName"] for entry in plain(after.release().inputs)["values"]["secret"]}
    assert "AIRFLOW_CONN_SLACK" not in names
    assert "AIRFLOW_VAR_LIMITS" not in names


def test_without_entries_there_is_no_secret_and_no_annotation() -> None:
    recording = _run()
    assert all(
        r.inputs.get("metadata", {}).get("name") != "airflow-environment" for r in recording.registrations
    )
    assert (
        "airflow-on-kubernetes/environment-version"
        not in plain(recording.release().inputs)["values"]["airflowPodAnnotations"]
    )


@pytest.mark.parametrize(
    ("entries", "secret_keys", "expected"),
    [
        (
            {"connections": {"reports_db": URL}},
            [],
            "airflow:connections in Pulumi.dev.yaml is stored in plain text; remove it and set each entry "
            "with 'pulumi config set --secret --path airflow:connections.<name> <value>'",
        ),
        (
            # Found on the cluster: a plain variable's value sat in the state's history in plain text,
            # while the Secret it went to says it is one.
            {"variables": {"greeting": "hello"}},
            [],
            "airflow:variables in Pulumi.dev.yaml is stored in plain text; remove it and set each entry "
            "with 'pulumi config set --secret --path airflow:variables.<name> <value>'",
        ),
        (
            {"connections": {"reports_db": "r3p0rts-s3cret"}},
            SECRET_KEYS[:1],
            "airflow:connections.reports_db in Pulumi.dev.yaml: must be a URI",
        ),
        (
            {"connections": {"Reports-DB": URL}},
            SECRET_KEYS[:1],
            "airflow:connections.Reports-DB in Pulumi.dev.yaml: must be a connection id of lowercase letters",
        ),
        (
            {"variables": {"x": None}},
            SECRET_KEYS[2:],
            "airflow:variables.x in Pulumi.dev.yaml: must be text, a number",
        ),
    ],
)
def test_bad_entries_are_refused_in_one_line_without_their_value(
    entries: dict[str, Any], secret_keys: list[str], expected: str
) -> None:
    with pytest.raises(pulumi.RunError) as caught:
        run_stack("dev", secret_keys=secret_keys, **entries)
    message = str(caught.value)
    assert (
        message.startswith(expected.replace("Value error, ", ""))
        or expected.replace("Value error, ", "") in message
    )
    assert "r3p0rts-s3cret" not in message
