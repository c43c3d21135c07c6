"""How the Pulumi config the engine passes becomes the settings' raw input (components/config.py)."""

from __future__ import annotations

import json

from components.config import raw_from_config
from components.validation import parse_settings

_CONNECTION = json.dumps(
    {"conn_type": "aws", "login": "k", "password": "p", "extra": {"endpoint_url": "http://s3:9000"}}
)


def test_a_secret_string_that_reads_as_json_stays_a_string() -> None:
    # Found by the real `pulumi up`: `pulumi config set --secret airflow:remoteLogsConnection '{...}'`
    # reaches the program as JSON text, exactly like a structured value; a secret key is never one.
    raw = raw_from_config(
        {"airflow:remoteLogsConnection": _CONNECTION, "airflow:dags": '{"delivery": "configmap"}'}
    )
    assert raw["remoteLogsConnection"] == _CONNECTION
    assert raw["dags"] == {"delivery": "configmap"}


def test_the_json_connection_is_taken_by_the_settings() -> None:
    raw = raw_from_config(
        {
            "airflow:protectStatefulResources": "false",
            "airflow:remoteLogs": json.dumps(
                {"bucket": "airflow-task-logs", "connectionSecretName": "airflow-task-logs"}
            ),
            "airflow:remoteLogsConnection": _CONNECTION,
        }
    )
    settings = parse_settings(raw, source="Pulumi.test.yaml")
    assert settings.remote_logs_connection is not None
    assert settings.remote_logs_connection.get_secret_value() == _CONNECTION
