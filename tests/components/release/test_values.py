"""The release values: valid for the chart's schema, secrets by name only; what the chart makes of them is
judged on its real render in test_deployed_objects and test_network_flows."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from components.dags.folder import dags_for_delivery
from components.dags.values import delivery_values
from components.release.values import CREATE_USER_SCRIPT, build_helm_values
from components.settings import EXECUTORS, StackSettings
from components.stack import secret_names
from components.validation import parse_settings
from tests.conftest import ROOT, raw_settings

SCHEMA_FIXTURES = [(stack, executor) for stack in ("dev", "prod") for executor in EXECUTORS]


def settings_of(stack: str, **overrides: Any) -> StackSettings:
    return parse_settings(raw_settings(stack, **overrides), source=f"Pulumi.{stack}.yaml")


def values_of(stack: str, **overrides: Any) -> dict[str, Any]:
    """The release values with the stack's DAG delivery (dev: git-sync sidecars; prod: the image)."""
    settings = settings_of(stack, **overrides)
    names = secret_names(settings)
    dags = dags_for_delivery(settings.dags, ROOT)
    return build_helm_values(
        settings, names, delivery_values(settings.dags, names, dags, "sha256:" + "0" * 64)
    )


@pytest.mark.parametrize(("stack", "executor"), SCHEMA_FIXTURES)
def test_values_validate_against_chart_schema(
    chart_schema: dict[str, Any], stack: str, executor: str
) -> None:
    # Without Celery there is no broker to be external.
    broker = {} if "CeleryExecutor" in executor else {"redis": {"mode": "bundled"}}
    values = values_of(stack, executor=executor, **broker)
    errors = list(jsonschema.Draft7Validator(chart_schema).iter_errors(values))
    assert [f"{list(e.path)}: {e.message}" for e in errors] == []


def test_schema_check_catches_a_misplaced_key(chart_schema: dict[str, Any]) -> None:
    values = values_of("dev")
    values["scheduler"]["replica"] = 2
    assert list(jsonschema.Draft7Validator(chart_schema).iter_errors(values))


def test_bundled_postgres_reads_its_passwords_from_our_secret() -> None:
    postgresql = values_of("dev")["postgresql"]
    assert postgresql["enabled"] is True
    assert postgresql["auth"]["existingSecret"] == "airflow-postgres-auth"
    assert "password" not in postgresql["auth"]
    assert "postgresPassword" not in postgresql["auth"]


def test_external_database_uses_the_named_secret_and_no_postgres() -> None:
    values = values_of(
        "prod", database={"mode": "external", "existingSecretName": "airflow-metadata-connection"}
    )
    assert values["data"]["metadataSecretName"] == "airflow-metadata-connection"
    assert values["postgresql"] == {"enabled": False}
    assert values["pgbouncer"]["enabled"] is False


def test_behind_pgbouncer_airflow_reads_our_secret_and_pgbouncer_its_own(
    chart_schema: dict[str, Any],
) -> None:
    values = values_of("prod")
    assert values["data"]["metadataSecretName"] == "airflow-metadata-db"
    bouncer = values["pgbouncer"]
    assert (bouncer["enabled"], bouncer["replicas"], bouncer["configSecretName"]) == (
        True,
        2,
        "airflow-pgbouncer-config",
    )
    assert bouncer["metricsExporterSidecar"]["statsSecretName"] == "airflow-pgbouncer-stats"
    assert "-u" not in bouncer["command"]
    jsonschema.validate(values, chart_schema)


def test_admin_password_is_read_from_the_secret_at_run_time() -> None:
    job = values_of("dev")["createUserJob"]
    assert job["defaultUser"]["password"] == ""
    assert "-p" not in job["args"]
    assert '--password "${AIRFLOW_ADMIN_PASSWORD:?' in CREATE_USER_SCRIPT
    assert job["args"][:3] == ["bash", "-c", CREATE_USER_SCRIPT]
    assert job["env"] == [
        {
            "name": "AIRFLOW_ADMIN_PASSWORD",
            "valueFrom": {"secretKeyRef": {"name": "airflow-admin", "key": "password"}},
        }
    ]


def test_migrations_run_as_helm_hooks_and_pods_wait_for_them() -> None:
    values = values_of("prod")
    assert values["migrateDatabaseJob"]["useHelmHooks"] is True
    for component in ("scheduler", "apiServer", "triggerer", "dagProcessor"):
        assert values[component]["waitForMigrations"]["enabled"] is True
    assert values["workers"]["celery"]["waitForMigrations"]["enabled"] is True


@pytest.mark.parametrize(
    ("executor", "redis", "broker"),
    [("KubernetesExecutor", False, "airflow-broker-unused"), ("CeleryExecutor", True, "airflow-broker")],
)
def test_redis_only_runs_for_celery(executor: str, redis: bool, broker: str) -> None:
    values = values_of("dev", executor=executor)
    assert values["redis"]["enabled"] is redis
    # Always named, so the chart never makes a broker Secret of its own (see test_deployed_objects).
    assert values["data"]["brokerUrlSecretName"] == broker


def test_prod_runs_two_schedulers_and_api_servers_with_budgets() -> None:
    values = values_of("prod")
    assert values["scheduler"]["replicas"] == 2
    assert values["apiServer"]["replicas"] == 2
    for component in (
        values["scheduler"],
        values["apiServer"],
        values["triggerer"],
        values["workers"]["celery"],
    ):
        assert component["podDisruptionBudget"] == {"enabled": True, "config": {"maxUnavailable": 1}}


def test_dev_has_no_disruption_budgets() -> None:
    assert values_of("dev")["scheduler"]["podDisruptionBudget"]["enabled"] is False


def test_workers_get_the_longest_task_as_grace_period_and_tasks_a_default_timeout() -> None:
    values = values_of("prod", tasks={"maxTaskMinutes": 90})
    assert values["workers"]["celery"]["terminationGracePeriodSeconds"] == 90 * 60 + 30
    assert values["workers"]["kubernetes"]["terminationGracePeriodSeconds"] == 90 * 60 + 30
    assert values["config"]["core"]["default_task_execution_timeout"] == str(90 * 60)


def test_task_pods_are_deleted_on_success_and_kept_on_failure() -> None:
    config = values_of("dev")["config"]["kubernetes_executor"]
    assert config == {"delete_worker_pods": "True", "delete_worker_pods_on_failure": "False"}


def test_celery_concurrency_comes_from_settings() -> None:
    assert values_of("prod", tasks={"celeryConcurrency": 8})["config"]["celery"]["worker_concurrency"] == "8"


def test_keda_scales_celery_workers_when_enabled(chart_schema: dict[str, Any]) -> None:
    values = values_of("prod", tasks={"autoscaling": {"enabled": True, "minReplicas": 2, "maxReplicas": 12}})
    keda = values["workers"]["celery"]["keda"]
    assert (keda["enabled"], keda["minReplicaCount"], keda["maxReplicaCount"]) == (True, 2, 12)
    jsonschema.validate(values, chart_schema)
    assert values_of("prod")["workers"]["celery"]["keda"]["enabled"] is False
