"""What the cluster checks read from a ``--json`` run of the real CLI: the resources it would change."""

from __future__ import annotations

import json

from tooling.cluster.workspace import PulumiResult


def _result(stdout: str) -> PulumiResult:
    return PulumiResult(code=0, stdout=stdout, stderr="", seconds=0.0)


def test_only_the_resources_a_preview_would_change_are_named_by_type_and_name() -> None:
    urn = "urn:pulumi:local::airflow::airflow:secrets:AirflowSecrets$kubernetes:core/v1:Secret::{}"
    preview = {
        "steps": [
            {"op": "update", "urn": urn.format("airflow-webserver-secret")},
            {"op": "same", "urn": urn.format("airflow-fernet")},
            {"op": "read", "urn": urn.format("airflow-metadata")},
            {"op": "replace", "urn": urn.format("airflow-jwt")},
        ]
    }
    assert _result(json.dumps(preview)).changes() == [
        ("kubernetes:core/v1:Secret", "airflow-jwt"),
        ("kubernetes:core/v1:Secret", "airflow-webserver-secret"),
    ]


def test_a_run_without_json_output_changes_nothing_it_can_name() -> None:
    assert _result(json.dumps({"steps": []})).changes() == []
    assert _result("error: could not load plugin").changes() == []
