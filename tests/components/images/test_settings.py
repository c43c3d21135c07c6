"""``airflow:images``: a pin names its content by digest, or the stack is refused with one line."""

from __future__ import annotations

import pytest

from components.settings import ConfigError
from components.validation import parse_settings

DIGEST = "sha256:" + "0123456789abcdef" * 4
PIN = f"quay.io/prometheus/statsd-exporter:v0.30.0@{DIGEST}"


def _parse(images: dict[str, str], **raw: object) -> object:
    return parse_settings(
        {"protectStatefulResources": False, "images": images, **raw}, source="Pulumi.t.yaml"
    )


def test_a_pin_by_digest_is_taken_as_given() -> None:
    assert _parse({"statsd": PIN, "postgresql": f"localhost:5000/pg:16@{DIGEST}"}).images.statsd == PIN


@pytest.mark.parametrize(
    "pin",
    [
        "quay.io/prometheus/statsd-exporter:v0.30.0",  # a tag alone
        f"quay.io/prometheus/statsd-exporter@{DIGEST}",  # no tag: the reviewer cannot tell the version
        PIN.upper(),
        PIN + "\n",
        PIN[:-1] + "\uff11",  # a full-width digit
        PIN.replace("sha256:", "sha512:"),
        PIN[:-2],
    ],
)
def test_a_pin_without_a_well_formed_digest_is_refused_in_one_line(pin: str) -> None:
    with pytest.raises(ConfigError) as raised:
        _parse({"statsd": pin})
    message = str(raised.value)
    assert "airflow:images.statsd" in message
    assert "NAME:TAG, then @sha256: and its digest of 64 lowercase hex digits" in message
    assert "\n" not in message.strip()


def test_an_image_the_chart_does_not_run_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"airflow:images\.flower"):
        _parse({"flower": PIN})


def test_the_airflow_pin_is_refused_where_the_dag_image_runs_instead() -> None:
    image = {"registry": "ghcr.io", "repository": "ghcr.io/acme/dags", "username": "ci"}
    with pytest.raises(ConfigError, match=r"airflow:images\.airflow is not used with .*dags/Dockerfile"):
        _parse(
            {"airflow": f"apache/airflow:3.2.2@{DIGEST}"},
            dags={"delivery": "image", "image": image},
            registryPassword="x",
        )
