"""Stack config: defaults, the committed stacks, and one clear error per bad input."""

from __future__ import annotations

from typing import Any

import pytest

from components.model import ConfigError
from components.quantity import memory_bytes
from components.settings import StackSettings
from components.validation import parse_settings

RESOURCES = {"cpu": "100m", "memory": "128Mi", "memoryLimit": "256Mi"}


def _parse(raw: dict[str, Any]) -> StackSettings:
    """A throwaway stack unless ``raw`` says otherwise: protected ones must keep their task logs."""
    return parse_settings({"protectStatefulResources": "false"} | raw, source="Pulumi.test.yaml")


def test_defaults_protect_state_and_need_only_a_place_for_task_logs() -> None:
    settings = parse_settings({"logPersistence": {"enabled": True}}, source="Pulumi.test.yaml")
    assert settings.executor == "KubernetesExecutor"
    assert settings.database.mode == "bundled"
    assert settings.protect_stateful_resources is True


@pytest.mark.parametrize(
    "logs",
    [
        {"logPersistence": {"enabled": True, "storageClassName": "efs"}},
        {"remoteLogs": {"bucket": "b-1", "roleArn": "arn:aws:iam::111122223333:role/r"}},
    ],
)
def test_a_protected_stack_keeps_task_logs_somewhere(logs: dict[str, Any]) -> None:
    assert _parse({"protectStatefulResources": "true"} | logs).protect_stateful_resources


def test_a_protected_stack_without_task_logs_is_refused_naming_the_keys() -> None:
    with pytest.raises(ConfigError) as caught:
        _parse({"protectStatefulResources": "true"})
    (line,) = str(caught.value).splitlines()
    assert line.startswith("Pulumi.test.yaml: airflow:protectStatefulResources is true, but task logs")
    assert "airflow:remoteLogs" in line
    assert "airflow:logPersistence.enabled" in line


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            {"executer": "CeleryExecutor"},
            "airflow:executer in Pulumi.test.yaml is not a known key; did you mean 'executor'?",
        ),
        (
            {"scheduler": {"replica": 2, "resources": RESOURCES}},
            "airflow:scheduler.replica in Pulumi.test.yaml is not a known key; did you mean 'replicas'?",
        ),
        (
            {"executor": "LocalExecutor"},
            "airflow:executor in Pulumi.test.yaml: must be one of 'KubernetesExecutor', 'CeleryExecutor' "
            "or 'CeleryExecutor,KubernetesExecutor', got 'LocalExecutor'",
        ),
        (
            {"scheduler": {"replicas": 0, "resources": RESOURCES}},
            "airflow:scheduler.replicas in Pulumi.test.yaml: "
            "Input should be greater than or equal to 1, got 0",
        ),
        (
            {"scheduler": {"replicas": "two", "resources": RESOURCES}},
            "airflow:scheduler.replicas in Pulumi.test.yaml: Input should be a valid integer",
        ),
        # yaml.v2 reads an unquoted yes/true inside an object as a boolean, which pydantic took for 1.
        (
            {"scheduler": {"replicas": True, "resources": RESOURCES}},
            "airflow:scheduler.replicas in Pulumi.test.yaml: must be a whole number, not the boolean true",
        ),
        (
            {"fernet": {"generation": False}},
            "airflow:fernet.generation in Pulumi.test.yaml: must be a whole number, not the boolean false",
        ),
        (
            {"workers": {"resources": {**RESOURCES, "cpu": "lots"}}},
            "airflow:workers.resources.cpu in Pulumi.test.yaml: "
            "'lots' is not a CPU quantity such as '250m' or '1.5'",
        ),
        (
            {"workers": {"resources": {**RESOURCES, "memory": "1GB"}}},
            "airflow:workers.resources.memory in Pulumi.test.yaml: '1GB' is not a memory quantity",
        ),
        (
            {"workers": {"resources": {**RESOURCES, "memoryLimit": "64Mi"}}},
            "airflow:workers.resources in Pulumi.test.yaml: "
            "memoryLimit 64Mi is below the memory request 128Mi",
        ),
        (
            # A partial component keeps its defaults (memoryLimit 1Gi), which must still cover the request.
            {"workers": {"resources": {"cpu": "1", "memory": "2Gi"}}},
            "airflow:workers.resources in Pulumi.test.yaml: memoryLimit 1Gi is below the memory request 2Gi",
        ),
        # Kubernetes' quantity grammar takes ASCII digits only, and nothing after the unit: Python's \d
        # would take full-width digits, and $ a trailing newline.
        (
            {"workers": {"resources": {**RESOURCES, "memory": "\uff11\uff12\uff18Mi"}}},
            "airflow:workers.resources.memory in Pulumi.test.yaml: "
            "'\uff11\uff12\uff18Mi' is not a memory quantity",
        ),
        (
            {"workers": {"resources": {**RESOURCES, "memoryLimit": "256Mi\n"}}},
            "airflow:workers.resources.memoryLimit in Pulumi.test.yaml: '256Mi\\n' is not a memory quantity",
        ),
        (
            {"workers": {"resources": {**RESOURCES, "cpu": "100m\n"}}},
            "airflow:workers.resources.cpu in Pulumi.test.yaml: '100m\\n' is not a CPU quantity",
        ),
        (
            {"workers": {"resources": {"cpu": "0", "memory": "0", "memoryLimit": "0"}}},
            "airflow:workers.resources in Pulumi.test.yaml: memoryLimit must be above 0",
        ),
        (
            {"namespace": "Airflow_Prod"},
            "airflow:namespace in Pulumi.test.yaml: must be a DNS label: 1 to 63 lowercase letters, digits "
            "and '-', starting and ending with a letter or digit, got 'Airflow_Prod'",
        ),
        (
            {"protectStatefulResources": "sometimes"},
            "airflow:protectStatefulResources in Pulumi.test.yaml: Input should be a valid boolean",
        ),
        (
            {"helmTimeoutSeconds": 5},
            "airflow:helmTimeoutSeconds in Pulumi.test.yaml: "
            "Input should be greater than or equal to 60, got 5",
        ),
        (
            {"admin": {"email": "not-an-email"}},
            "airflow:admin.email in Pulumi.test.yaml: must be an e-mail address (name@example.com)",
        ),
        (
            {"admin": {"username": "ad min"}},
            "airflow:admin.username in Pulumi.test.yaml: must be 1 to 64 letters, digits, "
            "'_', '.', '@' or '-'",
        ),
        (
            {"database": {"mode": "cloud"}},
            "airflow:database.mode in Pulumi.test.yaml: must be one of 'bundled' or 'external', got 'cloud'",
        ),
        (
            {"database": {"mode": "external"}},
            "Pulumi.test.yaml: airflow:database.mode 'external' needs exactly one of "
            "airflow:database.existingSecretName",
        ),
        (
            {"database": {"existingSecretName": "pg"}},
            "Pulumi.test.yaml: airflow:database.mode is 'bundled', "
            "so neither airflow:database.existingSecretName",
        ),
        (
            {
                "database": {"mode": "external", "existingSecretName": "pg"},
                "metadataConnection": "postgresql://u:p@h/db",
            },
            "Pulumi.test.yaml: airflow:database.mode 'external' needs exactly one of",
        ),
    ],
)
def test_bad_config_names_the_key_and_what_is_allowed(raw: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _parse(raw)
    assert expected in str(caught.value)
    assert isinstance(caught.value.__cause__, Exception)


def test_connection_error_never_echoes_the_secret_value() -> None:
    secret = "mysql://u:hunter2@h/db"  # short: pydantic elides the middle of long inputs
    with pytest.raises(ConfigError) as caught:
        _parse({"database": {"mode": "external"}, "metadataConnection": secret})
    assert "must start with 'postgresql://'" in str(caught.value)
    assert "hunter2" not in str(caught.value)
    assert "hunter2" not in repr(caught.value)
    assert "hunter2" not in str(caught.value.__cause__)


def test_every_problem_is_reported_one_line_each() -> None:
    with pytest.raises(ConfigError) as caught:
        _parse({"executor": "Nope", "namespace": "UPPER"})
    lines = str(caught.value).splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("airflow:executor")
    assert lines[1].startswith("airflow:namespace")


@pytest.mark.parametrize(
    ("memory", "expected"), [("512Mi", 512 * 2**20), ("1G", 10**9), ("1.5Gi", 3 * 2**29)]
)
def test_memory_quantities(memory: str, expected: int) -> None:
    assert memory_bytes(memory) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            {"tasks": {"autoscaling": {"enabled": True}}},
            "airflow:tasks.autoscaling scales Celery workers, but airflow:executor 'KubernetesExecutor' runs",
        ),
        (
            {"executor": "CeleryExecutor", "tasks": {"autoscaling": {"minReplicas": 5, "maxReplicas": 2}}},
            "airflow:tasks.autoscaling in Pulumi.test.yaml: maxReplicas 2 is below minReplicas 5",
        ),
        (
            {"tasks": {"maxTaskMinutes": 0}},
            "airflow:tasks.maxTaskMinutes in Pulumi.test.yaml: Input should be",
        ),
        ({"tasks": {"celeryConcurrency": "many"}}, "airflow:tasks.celeryConcurrency in Pulumi.test.yaml"),
    ],
)
def test_bad_task_settings_are_named(raw: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _parse(raw)
    assert expected in str(caught.value)


def test_unknown_key_inside_an_optional_section_gets_a_hint() -> None:
    image = {"registry": "ghcr.io", "repository": "ghcr.io/a/b", "username": "u", "usrname": "u"}
    with pytest.raises(ConfigError) as caught:
        _parse({"dags": {"delivery": "image", "image": image}})
    assert (
        "airflow:dags.image.usrname in Pulumi.test.yaml is not a known key; did you mean 'username'?"
        in str(caught.value)
    )


def test_a_stack_file_lists_only_what_differs_for_a_component() -> None:
    """``scheduler: {replicas: 2}`` keeps the default resources; a partial ``resources`` keeps the rest."""
    defaults = _parse({})
    settings = _parse({"scheduler": {"replicas": 2}, "workers": {"resources": {"cpu": "2"}}})
    assert settings.scheduler.replicas == 2
    assert settings.scheduler.resources == defaults.scheduler.resources
    assert settings.workers.resources.cpu == "2"
    assert settings.workers.resources.memory_limit == defaults.workers.resources.memory_limit
