"""``redis.mode: external``: the URL only in the broker Secret (made to verify TLS), the chart's Redis
off, the CA in every Airflow pod; and every wrong combination refused in one line before any resource."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pulumi
import pytest

from components.broker.settings import REDIS_CA_FILE
from tests.conftest import Deployment, run_stack
from tests.helpers import secret_string_data
from tooling.offline.runtime import plain
from tooling.rehearsal.certificates import certificate, key, pem

PASSWORD = "br0ker-s3cret"
CELERY = "CeleryExecutor,KubernetesExecutor"
URL = f"rediss://:{PASSWORD}@master.acme.cache.amazonaws.com:6379/0"
# A real CA certificate (public, not a secret).
CA = pem(certificate("acme broker CA", key(), None)).decode()


def _external(**overrides: object) -> dict[str, object]:
    """An external broker on a Celery stack, whatever executor the shipped prod file names."""
    return {"executor": CELERY, "redis": {"mode": "external", **overrides}, "brokerUrl": URL}


def test_the_url_goes_only_into_the_broker_secret_and_verifies_tls() -> None:
    recording = run_stack("prod", secret_keys=["airflow:brokerUrl"], **_external(caCertificate=CA))
    url = secret_string_data(recording, "airflow-broker")["connection"]
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(URL + "?")
    assert query == {
        "ssl_cert_reqs": ["required"],
        "ssl_check_hostname": ["true"],
        "ssl_ca_certs": [REDIS_CA_FILE],
    }
    values = plain(recording.release().inputs)["values"]
    assert PASSWORD not in json.dumps(values)
    assert values["data"]["brokerUrlSecretName"] == "airflow-broker"
    assert values["redis"]["enabled"] is False
    secrets = {r.inputs["metadata"]["name"] for r in recording.of_type("kubernetes:core/v1:Secret")}
    assert "airflow-redis-auth" not in secrets  # no password generated for a Redis that does not run


def test_the_ca_is_a_configmap_every_airflow_pod_mounts_before_it_starts() -> None:
    recording = run_stack("prod", secret_keys=["airflow:brokerUrl"], **_external(caCertificate=CA))
    (configmap,) = [r for r in recording.of_type("kubernetes:core/v1:ConfigMap") if "redis-ca" in r.name]
    assert plain(configmap.inputs)["data"] == {"ca.crt": CA}
    assert configmap.urn in recording.release().dependencies
    values = plain(recording.release().inputs)["values"]
    # Beside every Airflow pod's /tmp scratch volume.
    assert {"name": "redis-ca", "mountPath": "/opt/airflow/redis-ca", "readOnly": True} in values[
        "volumeMounts"
    ]
    (volume,) = [v for v in values["volumes"] if v["name"] == "redis-ca"]
    assert volume["configMap"]["name"] == plain(configmap.inputs)["metadata"]["name"]


def test_without_a_ca_the_image_s_trusted_cas_are_used() -> None:
    recording = run_stack("prod", secret_keys=["airflow:brokerUrl"], **_external())
    url = secret_string_data(recording, "airflow-broker")["connection"]
    assert "ssl_ca_certs" not in parse_qs(urlsplit(url).query)
    assert [v["name"] for v in plain(recording.release().inputs)["values"]["volumes"]] == ["tmp"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {**_external(), "executor": "KubernetesExecutor"},
            "airflow:redis.mode 'external' is Celery's broker, but airflow:executor 'KubernetesExecutor' "
            "runs no Celery; remove it",
        ),
        (
            {"executor": CELERY, "redis": {"mode": "bundled"}, "brokerUrl": URL},
            "airflow:brokerUrl is only used with airflow:redis.mode 'external'",
        ),
        (
            _external(caCertificate="not a certificate"),
            "airflow:redis.caCertificate in Pulumi.prod.yaml: must be PEM CA certificates",
        ),
        (  # not ASCII: OpenSSL is not even handed it
            _external(caCertificate="-----BEGIN CERTIFICATE-----\nMIIé\n-----END CERTIFICATE-----\n"),
            "airflow:redis.caCertificate in Pulumi.prod.yaml: must be PEM CA certificates",
        ),
        (
            _external(caCertificate=CA.replace("MII", "MIJ", 1)),
            "airflow:redis.caCertificate in Pulumi.prod.yaml: must be PEM CA certificates",
        ),
        (
            _external(
                caCertificate=CA
                + "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49\n-----END PRIVATE KEY-----\n"
            ),
            "airflow:redis.caCertificate in Pulumi.prod.yaml: must hold CA certificates only",
        ),
        (
            {**_external(caCertificate=CA), "brokerUrl": URL.replace("rediss", "redis")},
            "airflow:redis.caCertificate is only used with airflow:redis.mode 'external' and a rediss://",
        ),
        (
            {**_external(), "brokerUrl": URL + "?ssl_cert_reqs=none"},
            "airflow:brokerUrl sets ssl_cert_reqs, which would turn off checking the server's certificate",
        ),
        (
            {**_external(), "brokerUrl": URL.replace("rediss://", "amqp://")},
            "airflow:brokerUrl must start with 'rediss://' (TLS) or 'redis://' (value not shown)",
        ),
    ],
)
def test_a_wrong_broker_config_is_one_line_before_any_resource(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(pulumi.RunError) as caught:
        run_stack("prod", secret_keys=["airflow:brokerUrl"], **overrides)
    assert message in str(caught.value)
    assert PASSWORD not in str(caught.value)


def test_an_external_redis_without_its_url_says_how_to_set_it() -> None:
    with pytest.raises(pulumi.RunError) as caught:
        run_stack(
            "prod", fill_secrets=False, executor=CELERY, redis={"mode": "external"}, registryPassword=None
        )
    assert (
        "airflow:redis.mode 'external' needs the secret config value airflow:brokerUrl; set it with "
        "'pulumi config set --secret airflow:brokerUrl <the rediss:// URL, password included>'"
    ) in str(caught.value)


def test_a_plain_text_url_is_refused_without_echoing_it() -> None:
    with pytest.raises(pulumi.RunError) as caught:
        run_stack("prod", **_external())
    assert "airflow:brokerUrl in Pulumi.prod.yaml is stored in plain text" in str(caught.value)
    assert PASSWORD not in str(caught.value)


def test_on_the_real_chart_no_redis_runs_and_the_broker_pods_read_the_secret_and_the_ca(
    deployments: dict[str, Deployment],
) -> None:
    deployment = deployments["prod-external-redis"]
    names = {(o["kind"], o["metadata"]["name"]) for o in deployment.objects}
    assert ("StatefulSet", "airflow-redis") not in names
    assert ("NetworkPolicy", "airflow-redis-policy") not in names
    workloads = deployment.of_kind("Deployment") + deployment.of_kind("StatefulSet")
    pods = {o["metadata"]["name"]: o["spec"]["template"]["spec"] for o in workloads}
    assert deployment.task_pod is not None
    pods["task pod"] = deployment.task_pod["spec"]
    for name in ("airflow-scheduler", "airflow-worker", "task pod"):  # the ones that reach the broker
        spec = pods[name]
        main = spec["containers"][0]
        broker = next(e for e in main["env"] if e["name"] == "AIRFLOW__CELERY__BROKER_URL")
        assert broker["valueFrom"]["secretKeyRef"] == {"name": "airflow-broker", "key": "connection"}, name
        mounts = {m["mountPath"]: m["name"] for m in main["volumeMounts"]}
        volumes = {v["name"]: v for v in spec["volumes"]}
        assert volumes[mounts["/opt/airflow/redis-ca"]]["configMap"]["name"] == "airflow-redis-ca", name
