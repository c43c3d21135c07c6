"""The drift check's reading of a ``--json`` preview: which resources it would change."""

from __future__ import annotations

import json

from tooling.cluster.drift import changed_names


def test_only_the_resources_a_preview_would_change_are_named() -> None:
    urn = "urn:pulumi:local::airflow::airflow:secrets:AirflowSecrets$kubernetes:core/v1:Secret::{}"
    preview = {
        "steps": [
            {"op": "update", "urn": urn.format("airflow-webserver-secret")},
            {"op": "same", "urn": urn.format("airflow-fernet")},
            {"op": "read", "urn": urn.format("airflow-metadata")},
            {"op": "replace", "urn": urn.format("airflow-jwt")},
        ]
    }
    assert changed_names(json.dumps(preview)) == [
        "kubernetes:core/v1:Secret::airflow-jwt",
        "kubernetes:core/v1:Secret::airflow-webserver-secret",
    ]
    assert changed_names(json.dumps({"steps": []})) == []
