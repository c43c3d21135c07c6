"""The release values: valid for the chart's schema, secrets by name only, hardened pods everywhere."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from components.dag_folder import dags_for_delivery
from components.dags import delivery_values
from components.helm_values import CREATE_USER_SCRIPT, build_helm_values, merge_values
from components.secrets import secret_names
from components.settings import EXECUTORS, StackSettings, parse_settings

from .conftest import ROOT, raw_settings

SCHEMA_FIXTURES = [(stack, executor) for stack in ("dev", "prod") for executor in EXECUTORS]


def settings_of(stack: str, **overrides: Any) -> StackSettings:
    return parse_settings(raw_settings(stack, **overrides), source=f"Pulumi.{stack}.yaml")


def values_of(stack: str, **overrides: Any) -> dict[str, Any]:
    """The release values with the stack's DAG delivery (dev: git-sync sidecars; prod: the image)."""
    settings = settings_of(stack, **overrides)
    names = secret_names(settings)
    dags = dags_for_delivery(settings.dags, ROOT)
    return build_helm_values(settings, names, delivery_values(settings, names, dags, "sha256:" + "0" * 64))


def chart_generated_secrets(v: dict[str, Any]) -> list[str]:
    """The Secrets chart 1.22.0 would template itself, by the conditions in its templates/secrets/*.yaml
    (Airflow 3, no elasticsearch/opensearch/kerberos/registry/extraSecrets in use)."""
    celery = "CeleryExecutor" in v["executor"]
    conditions = {
        "fernetkey-secret": not v["fernetKeySecretName"],
        "metadata-connection-secret": not v["data"]["metadataSecretName"],
        "result-backend-connection-secret": not v["data"]["resultBackendSecretName"]
        and v["executor"] in ("CeleryExecutor", "CeleryKubernetesExecutor")
        and bool(v["data"]["resultBackendConnection"]),
        "api-secret-key-secret": not v["apiSecretKeySecretName"],
        "jwt-secret": v["apiServer"]["enabled"] and not v["jwtSecretName"],
        "redis-password": v["redis"]["enabled"] and not v["redis"]["passwordSecretName"],
        "broker-url": celery and not v["data"]["brokerUrlSecretName"],
        "pgbouncer-config-secret": v["pgbouncer"]["enabled"] and not v["pgbouncer"]["configSecretName"],
        "pgbouncer-stats-secret": v["pgbouncer"]["enabled"]
        and not v["pgbouncer"]["metricsExporterSidecar"]["statsSecretName"],
        "flower-secret": not v["flower"]["secretName"]
        and bool(v["flower"]["username"])
        and bool(v["flower"]["password"]),
        # The bitnami subchart writes its own password Secret unless auth.existingSecret is set.
        "postgresql-subchart-secret": v["postgresql"]["enabled"]
        and not v["postgresql"]["auth"].get("existingSecret"),
    }
    return sorted(name for name, renders in conditions.items() if renders)


@pytest.mark.parametrize(("stack", "executor"), SCHEMA_FIXTURES)
def test_values_validate_against_chart_schema(
    chart_schema: dict[str, Any], stack: str, executor: str
) -> None:
    errors = list(jsonschema.Draft7Validator(chart_schema).iter_errors(values_of(stack, executor=executor)))
    assert [f"{list(e.path)}: {e.message}" for e in errors] == []


def test_schema_check_catches_a_misplaced_key(chart_schema: dict[str, Any]) -> None:
    values = values_of("dev")
    values["scheduler"]["replica"] = 2
    assert list(jsonschema.Draft7Validator(chart_schema).iter_errors(values))


@pytest.mark.parametrize(("stack", "executor"), SCHEMA_FIXTURES)
def test_chart_generates_no_secret_of_its_own(
    chart_defaults: dict[str, Any], stack: str, executor: str
) -> None:
    merged = merge_values(chart_defaults, values_of(stack, executor=executor))
    assert chart_generated_secrets(merged) == []


@pytest.mark.parametrize(
    ("key_path", "chart_secret"),
    [
        (("fernetKeySecretName",), "fernetkey-secret"),
        (("jwtSecretName",), "jwt-secret"),
        (("data", "brokerUrlSecretName"), "broker-url"),
        (("redis", "passwordSecretName"), "redis-password"),
    ],
)
def test_without_our_secret_name_the_chart_would_generate_one(
    chart_defaults: dict[str, Any], key_path: tuple[str, ...], chart_secret: str
) -> None:
    values = values_of("prod")
    parent = values
    for key in key_path[:-1]:
        parent = parent[key]
    del parent[key_path[-1]]
    assert chart_secret in chart_generated_secrets(merge_values(chart_defaults, values))


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
    assert values["pgbouncer"] == {"enabled": False}


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


@pytest.mark.parametrize(("executor", "redis"), [("KubernetesExecutor", False), ("CeleryExecutor", True)])
def test_redis_only_runs_for_celery(executor: str, redis: bool) -> None:
    values = values_of("dev", executor=executor)
    assert values["redis"]["enabled"] is redis
    assert ("brokerUrlSecretName" in values["data"]) is redis


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


def _schema_paths(schema: dict[str, Any], leaf: str) -> list[tuple[str, ...]]:
    """Every path in the chart schema that ends in ``leaf`` (following the log-groomer $ref)."""
    definitions = schema["definitions"]
    found = []

    def walk(node: dict[str, Any], path: tuple[str, ...]) -> None:
        if "$ref" in node and node["$ref"].endswith("logGroomerConfigType"):
            node = definitions["logGroomerConfigType"]
        for key, child in node.get("properties", {}).items():
            if key == leaf:
                found.append((*path, key))
            elif isinstance(child, dict):
                walk(child, (*path, key))

    walk(schema, ())
    return found


def _lookup(values: dict[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = values
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


# Parts of the chart that render no container for our stacks, and the value that keeps them off.
_NOT_RENDERED = {
    "webserver": "Airflow 3 runs apiServer instead",
    "flower": "flower.enabled is false",
    "cleanup": "cleanup.enabled is false",
    "databaseCleanup": "databaseCleanup.enabled is false",
    "otelCollector": "otelCollector is off",
    "kerberosSidecar": "kerberos.enabled is false",
    "kerberosInitContainer": "kerberos.enabled is false",
    "persistence": "worker/triggerer persistence is off, so no permission-fixing init container",
}


def _renders(values: dict[str, Any], path: tuple[str, ...]) -> bool:
    if any(part in _NOT_RENDERED for part in path):
        return False
    if path[:2] == ("dags", "gitSync"):
        return values.get("dags", {}).get("gitSync", {}).get("enabled", False)
    if path[0] in ("redis", "pgbouncer"):
        return values[path[0]]["enabled"]
    if path[:2] == ("workers", "celery"):
        return "CeleryExecutor" in values["executor"]
    # The workers.* top level is the deprecated form; we set workers.celery / workers.kubernetes.
    return not (path[0] == "workers" and path[1] not in ("celery", "kubernetes"))


def _rendered(schema: dict[str, Any], values: dict[str, Any], leaf: str) -> list[tuple[tuple[str, ...], Any]]:
    """Each ``leaf`` setting of a part the chart renders, with what our values give it (or {})."""
    return [
        (path, _lookup(values, path) or {}) for path in _schema_paths(schema, leaf) if _renders(values, path)
    ]


@pytest.mark.parametrize(("stack", "executor"), SCHEMA_FIXTURES)
def test_every_container_requests_cpu_and_memory_and_limits_memory(
    chart_schema: dict[str, Any], stack: str, executor: str
) -> None:
    missing = []
    for path, resources in _rendered(chart_schema, values_of(stack, executor=executor), "resources"):
        requests, limits = resources.get("requests", {}), resources.get("limits", {})
        if not (requests.get("cpu") and requests.get("memory") and limits.get("memory")):
            missing.append(".".join(path))
    assert missing == []


@pytest.mark.parametrize(("stack", "executor"), SCHEMA_FIXTURES)
def test_every_pod_and_container_is_restricted(
    chart_schema: dict[str, Any], stack: str, executor: str
) -> None:
    weak = []
    for path, contexts in _rendered(chart_schema, values_of(stack, executor=executor), "securityContexts"):
        if path == ("securityContexts",):
            continue
        container = contexts.get("container", {})
        if not (
            container.get("runAsNonRoot") is True
            and container.get("allowPrivilegeEscalation") is False
            and container.get("capabilities") == {"drop": ["ALL"]}
            and container.get("seccompProfile") == {"type": "RuntimeDefault"}
        ):
            weak.append(".".join((*path, "container")))
        # Pod-level contexts exist only on pods; sidecars and init containers share their pod's.
        pod = contexts.get("pod") or {}
        owns_pod = path[-2:] != ("waitForMigrations", "securityContexts") and not {
            "logGroomerSidecar",
            "gitSync",
            "metricsExporterSidecar",
        } & set(path)
        if owns_pod and not (pod.get("runAsNonRoot") is True and pod.get("runAsUser", 0) != 0):
            weak.append(".".join((*path, "pod")))
    assert weak == []


def test_bundled_postgres_pod_is_restricted() -> None:
    primary = values_of("dev")["postgresql"]["primary"]
    container = primary["containerSecurityContext"]
    assert container["runAsNonRoot"] is True
    assert container["allowPrivilegeEscalation"] is False
    assert container["capabilities"] == {"drop": ["ALL"]}
    assert primary["podSecurityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert primary["resources"]["limits"]["memory"]


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
