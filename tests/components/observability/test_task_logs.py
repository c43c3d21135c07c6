"""Remote task logs on S3, for real: the config our values give Airflow writes a task log to a bucket and
reads it back through the S3 task handler's IO, against moto's S3 on 127.0.0.1."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import boto3
import jsonschema
import pytest
from moto.server import ThreadedMotoServer

from components.model import ConfigError
from components.observability.task_logs import CONNECTION_ENV
from components.release.values import build_helm_values
from components.stack import secret_names
from components.validation import parse_settings

BUCKET = "acme-airflow-logs"
ROLE = "arn:aws:iam::123456789012:role/airflow-task-logs"
LOG_PATH = "dag_id=etl/run_id=manual__2026-11-25/task_id=load/attempt=1.log"
# What a task pod does at the end of a task, with the IO Airflow builds from its config.
_UPLOAD_AND_READ = """
import json, pathlib, sys
from airflow.config_templates import airflow_local_settings as settings
io = settings.REMOTE_TASK_LOG
path = pathlib.Path(settings.BASE_LOG_FOLDER) / sys.argv[1]
path.parent.mkdir(parents=True, exist_ok=True)
path.write_text("task log line 1\\ntask log line 2\\n")
io.upload(path, None)
messages, logs = io.read(sys.argv[1], None)
print(json.dumps({"io": type(io).__name__, "messages": messages, "logs": logs}))
"""


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto's S3 server on a free loopback port, with the bucket, and fake credentials."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(key, value)
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    # moto keeps its state per process, across servers: start each test from an empty S3.
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=10)
    boto3.client("s3", endpoint_url=endpoint, region_name="eu-west-1").create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    try:
        yield endpoint
    finally:
        server.stop()


def _values(remote_logs: dict[str, Any]) -> dict[str, Any]:
    settings = parse_settings({"remoteLogs": remote_logs}, source="Pulumi.test.yaml")
    return build_helm_values(settings, secret_names(settings))


def _pod_env(values: dict[str, Any], secrets: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """The environment the chart gives an Airflow container: [logging] config, env, Secret-backed env."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env |= {f"AIRFLOW__LOGGING__{key.upper()}": value for key, value in values["config"]["logging"].items()}
    env |= {item["name"]: item["value"] for item in values.get("env", [])}
    env |= {item["envName"]: secrets[item["secretName"]] for item in values.get("secret", [])}
    return env | {
        "AIRFLOW_HOME": str(tmp_path / "home"),
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(tmp_path / "logs"),
    }


def _upload_and_read(env: dict[str, str]) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", _UPLOAD_AND_READ, LOG_PATH],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _stored(endpoint: str) -> str:
    client = boto3.client("s3", endpoint_url=endpoint, region_name="eu-west-1")
    key = f"airflow/task-logs/{LOG_PATH}"
    return client.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()


def test_a_connection_secret_writes_the_log_to_the_bucket_and_reads_it_back(s3: str, tmp_path: Path) -> None:
    values = _values({"bucket": BUCKET, "region": "eu-west-1", "connectionSecretName": "airflow-aws-logs"})
    connection = {
        "conn_type": "aws",
        "login": "testing",
        "password": "testing",
        "extra": {"region_name": "eu-west-1", "endpoint_url": s3},
    }
    result = _upload_and_read(_pod_env(values, {"airflow-aws-logs": json.dumps(connection)}, tmp_path))
    assert result["io"] == "S3RemoteLogIO"
    assert _stored(s3) == "task log line 1\ntask log line 2\n"
    assert result["messages"] == [f"s3://{BUCKET}/airflow/task-logs/{LOG_PATH}"]
    assert result["logs"] == ["task log line 1\ntask log line 2\n"]


def test_an_iam_role_needs_no_secret_at_all(s3: str, tmp_path: Path) -> None:
    values = _values({"bucket": BUCKET, "region": "eu-west-1", "roleArn": ROLE})
    assert "secret" not in values
    for path in (("scheduler",), ("apiServer",), ("triggerer",), ("dagProcessor",), ("workers", "celery")):
        node = values
        for key in path:
            node = node[key]
        assert node["serviceAccount"]["annotations"] == {"eks.amazonaws.com/role-arn": ROLE}
    # IRSA gives the pod a web identity; here plain test credentials and moto's endpoint stand in for it.
    env = _pod_env(values, {}, tmp_path) | {"AWS_ENDPOINT_URL_S3": s3}
    result = _upload_and_read(env)
    assert result["logs"] == ["task log line 1\ntask log line 2\n"]
    assert _stored(s3) == "task log line 1\ntask log line 2\n"


def test_values_hold_no_credential_and_fit_the_chart(chart_schema: dict[str, Any]) -> None:
    for remote_logs in (
        {"bucket": BUCKET, "roleArn": ROLE},
        {"bucket": BUCKET, "connectionSecretName": "airflow-aws-logs"},
    ):
        values = _values(remote_logs)
        jsonschema.validate(values, chart_schema)
        assert values["config"]["logging"]["remote_base_log_folder"] == f"s3://{BUCKET}/airflow/task-logs"
        text = json.dumps(values)
        assert "aws_secret_access_key" not in text
        assert "password" not in json.dumps(values.get("env", []))
    assert _values({"bucket": BUCKET, "roleArn": ROLE})["env"][0]["name"] == CONNECTION_ENV


@pytest.mark.parametrize(
    ("remote_logs", "message"),
    [
        ({"bucket": BUCKET}, "needs exactly one of roleArn"),
        ({"bucket": BUCKET, "roleArn": ROLE, "connectionSecretName": "x"}, "needs exactly one of roleArn"),
        ({"bucket": "Not_A_Bucket", "roleArn": ROLE}, "airflow:remoteLogs.bucket in Pulumi.test.yaml"),
        (
            {"bucket": BUCKET, "roleArn": "arn:aws:iam::1:user/x"},
            "airflow:remoteLogs.roleArn in Pulumi.test.yaml",
        ),
        (
            {"bucket": BUCKET, "roleArn": ROLE, "accessKey": "AKIA"},
            "airflow:remoteLogs.accessKey in Pulumi.test.yaml",
        ),
    ],
)
def test_bad_remote_log_settings_are_named(remote_logs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_settings({"remoteLogs": remote_logs}, source="Pulumi.test.yaml")
