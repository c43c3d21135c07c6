"""What a hatch refuses: each key the program owns, named with the key that sets it, in one line; a
credential in plain text; template syntax the chart's tpl would run."""

from __future__ import annotations

from typing import Any

import pytest

from components.model import ConfigError
from components.overrides.settings import OWNED_CONFIG, OWNED_VALUES
from components.validation import parse_settings

INGRESS = {"enabled": True, "host": "airflow.example.com", "clusterIssuer": "letsencrypt"}


def _refusal(raw: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_settings({"protectStatefulResources": "false"} | raw, source="Pulumi.test.yaml", offline=True)
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            {"config": {"core": {"executor": "LocalExecutor"}}},
            "airflow:config in Pulumi.test.yaml: core.executor is the program's: set airflow:executor",
        ),
        (
            {"config": {"core": {"fernet_key": "x"}}},
            "core.fernet_key is the program's: it is the generated Fernet key, which airflow:fernet rotates",
        ),
        (
            {"config": {"celery": {"worker_concurrency": 4}}},
            "celery.worker_concurrency is the program's: set airflow:tasks.celeryConcurrency instead",
        ),
        (
            {"config": {"smtp": {"smtp_password": "hunter2"}}},
            "smtp.smtp_password looks like a credential, and airflow:config is plain text in the Helm "
            "values; set AIRFLOW__SMTP__SMTP_PASSWORD with airflow:secretEnv (a Pulumi secret) instead",
        ),
        (
            {"config": {"Core": {"parallelism": 1}}},
            "airflow:config.Core in Pulumi.test.yaml: must be an airflow.cfg section",
        ),
        (
            {"config": {"core": {"hostname_callable": "{{ .Values }}"}}},
            "airflow:config.core.hostname_callable in Pulumi.test.yaml: must be a number, a boolean or at "
            "most 4096 characters of text without braces",
        ),
        (
            {"ingress": INGRESS, "config": {"api": {"base_url": "https://elsewhere.example.com"}}},
            "airflow:config.api.base_url is the program's while airflow:ingress is on: it follows "
            "airflow:ingress.host",
        ),
        (
            {"env": {"AIRFLOW__CORE__EXECUTOR": "LocalExecutor"}},
            "airflow:env in Pulumi.test.yaml: AIRFLOW__CORE__EXECUTOR is the program's: set airflow:executor",
        ),
        (
            {"env": {"AIRFLOW_CONN_DB": "x"}},
            "AIRFLOW_CONN_DB is the program's: set airflow:connections instead",
        ),
        ({"env": {"AIRFLOW_VAR_X": "x"}}, "AIRFLOW_VAR_X is the program's: set airflow:variables instead"),
        (
            {"env": {"SLACK_TOKEN": "x"}},
            "SLACK_TOKEN looks like a credential, and airflow:env is plain text in the Helm values",
        ),
        ({"env": {"1X": "x"}}, "must be an environment variable name"),
        (
            {"extraValues": {"executor": "LocalExecutor"}},
            "airflow:extraValues in Pulumi.test.yaml: executor is the program's: set airflow:executor",
        ),
        (
            {"extraValues": {"workers": {"securityContexts": {"pod": {"runAsUser": 0}}}}},
            "workers.securityContexts is the program's: every pod keeps the restricted security contexts",
        ),
        (
            {"extraValues": {"images": {"airflow": {"tag": "latest"}}}},
            "images.airflow is the program's: set airflow:dags.image (or airflow:images) instead",
        ),
        (
            {"extraValues": {"createUserJob": {"args": ["{{ .Values.fernetKey }}"]}}},
            "createUserJob.args is the program's: set airflow:admin instead",
        ),
        (
            {"extraValues": {"webserver": {"extraLabels": {"a": "{{ .Release.Name }}"}}}},
            "webserver.extraLabels.a holds '{{', which the chart's tpl would run as a template",
        ),
        (
            {"scheduler": {"placement": {"tolerations": [{"operator": "Sometimes"}]}}},
            "airflow:scheduler.placement.tolerations.0.operator in Pulumi.test.yaml",
        ),
        (
            {
                "tasks": {
                    "placement": {
                        "topologySpreadConstraints": [
                            {"maxSkew": 0, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}
                        ]
                    }
                }
            },
            "airflow:tasks.placement.topologySpreadConstraints.0.maxSkew in Pulumi.test.yaml",
        ),
        (
            {"placement": {"affinity": {"nodeAffinity": {"x": "{{ .Release.Name }}"}}}},
            "airflow:placement in Pulumi.test.yaml: affinity and labelSelector may not hold '{{'",
        ),
        (
            {"secretEnv": {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "postgresql://a:b@c/d"}},
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN is the program's: set airflow:database",
        ),
    ],
)
def test_a_hatch_refuses_what_the_program_owns_in_one_line(raw: dict[str, Any], expected: str) -> None:
    message = _refusal(raw)
    assert expected in message
    assert "postgresql://a:b@c/d" not in message


def test_every_owned_key_is_refused_through_its_hatch() -> None:
    for section, option in OWNED_CONFIG:
        assert f"{section}.{option} is the program's" in _refusal({"config": {section: {option: "x"}}})
    for path in OWNED_VALUES:
        head, *rest = path.split(".")
        value: Any = "x"
        for key in reversed(rest):
            value = {key: value}
        assert f"{path} is the program's" in _refusal({"extraValues": {head: value}})


def test_what_the_program_does_not_own_passes_through() -> None:
    settings = parse_settings(
        {
            "protectStatefulResources": "false",
            "config": {"core": {"parallelism": 64}, "api": {"base_url": "https://airflow.internal"}},
            "env": {"TZ": "UTC"},
            "extraValues": {"scheduler": {"podAnnotations": {"a": "b"}}},
        },
        source="Pulumi.test.yaml",
        offline=True,
    )
    assert settings.config["core"]["parallelism"] == 64
    assert settings.extra_values == {"scheduler": {"podAnnotations": {"a": "b"}}}
