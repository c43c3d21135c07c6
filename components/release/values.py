"""The Helm values of the Airflow release, as a pure function of the stack settings.

Keys are spelled the chart's way (``apache-airflow/airflow`` 1.22.0, ``values.yaml``). Every pod gets
the Pod Security "restricted" contexts and every container requests CPU and memory and has a memory
limit, set per component rather than through the chart's global fallbacks: the chart does not apply
the global ``securityContexts`` to non-Airflow images (statsd, redis), and explicit values are what the
tests can check against the chart's schema.
"""

from __future__ import annotations

from typing import Any

import pulumi

from components.auth.values import auth_values
from components.backup.values import CHART_POSTGRESQL_IMAGE, backup_key, migration_backup_values
from components.broker.values import broker_values, redis_values
from components.database.pgbouncer import AIRFLOW_LOCAL_SETTINGS, ASYNC_CONNECT_ARGS
from components.database.settings import CLEANUP_SCHEDULE
from components.database.values import pgbouncer_values, postgresql_values
from components.images.values import pinned_image_values
from components.kube import (
    AIRFLOW_CONTEXTS,
    AIRFLOW_POD,
    AIRFLOW_SCRATCH,
    READ_ONLY_CONTAINER,
    RELEASE_NAME,
    merge_values,
    restricted_contexts,
    restricted_pod,
)
from components.model import Resources, Workload
from components.network.values import exposure_values
from components.observability.statsd_mappings import statsd_mappings
from components.observability.task_logs import log_persistence_values, remote_log_values
from components.overrides.values import config_text, env_values, placement_values, with_extra_values
from components.secrets.names import FERNET_GENERATION_ANNOTATION, SecretNames
from components.settings import StackSettings

__all__ = ["CREATE_USER_SCRIPT", "build_helm_values"]

STATSD_UID = 65534  # "nobody", which statsd-exporter runs as

# Runs `airflow users create` with the password read from the admin Secret at run time. The chart's
# default passes `-p <createUserJob.defaultUser.password>`, which would put the password into the Helm
# values and the Job's arguments. Positional arguments ($1..$5) carry the non-secret fields; `$0` is
# the `--` placeholder. Re-running against an existing user prints a notice and succeeds.
CREATE_USER_SCRIPT = (
    'exec airflow users create --role "$1" --username "$2" --email "$3" '
    '--firstname "$4" --lastname "$5" --password "${AIRFLOW_ADMIN_PASSWORD:?not set from the admin Secret}"'
)


def build_helm_values(
    settings: StackSettings,
    names: SecretNames,
    dag_values: dict[str, Any] | None = None,
    environment_values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything the release is given; holds Secret names only, never a secret value.

    ``dag_values`` is the DAG delivery's share (``images``, ``dags.gitSync`` or DAG volumes), merged in
    key by key so it can add to a component without replacing it. ``environment_values`` reads the
    stack's connections, variables and secret variables from their Secret (connections/values.py).
    ``airflow:extraValues`` is laid over the result, last.
    """
    values: dict[str, Any] = {
        "executor": settings.executor,
        # Chart 2.0's defaults, chosen now so no install prints a deprecation: pods get no Service
        # environment variables (Airflow uses DNS names), and git-sync the probes the chart recommends.
        "enableServiceLinks": False,
        "dags": {"gitSync": {"recommendedProbeSetting": True}},
        # The chart's pod-launcher Role gives the scheduler, workers and triggerer the same verbs, pods/exec
        # among them; the program binds each only what it calls (release/pod_roles.py).
        "allowPodLaunching": False,
        "fernetKeySecretName": names.fernet_key,
        "apiSecretKeySecretName": names.api_secret_key,
        "jwtSecretName": names.jwt_secret,
        "webserverSecretKeySecretName": names.webserver_secret_key,
        "data": {"metadataSecretName": names.metadata_connection},
        "securityContexts": {"pod": AIRFLOW_POD, "containers": READ_ONLY_CONTAINER},
        "scheduler": _airflow_component(settings.scheduler, settings, groomer=True),
        "apiServer": _airflow_component(settings.api_server, settings, groomer=False),
        "triggerer": {
            **_airflow_component(settings.triggerer, settings, groomer=True),
            # Task logs go to S3 or the shared logs volume, not to a 100Gi volume per triggerer.
            "persistence": {"enabled": False},
        },
        "dagProcessor": _airflow_component(settings.dag_processor, settings, groomer=True),
        "workers": _workers(settings),
        "migrateDatabaseJob": _migrate_job(settings, names),
        "createUserJob": _create_user_job(settings, names),
        "databaseCleanup": _database_cleanup(settings),
        "statsd": {
            "resources": settings.statsd.resources.to_kubernetes(),
            "securityContexts": restricted_contexts(restricted_pod(STATSD_UID, STATSD_UID, STATSD_UID)),
            # Replaces the chart's Airflow 2 mappings; see observability/statsd_mappings.py.
            "overrideMappings": statsd_mappings(settings.monitoring.statsd_prefix),
        },
        "config": _airflow_config(settings),
        # A new Fernet generation restarts every Airflow pod, task pods included, with new,old.
        "airflowPodAnnotations": {FERNET_GENERATION_ANNOTATION: settings.fernet.held_generations},
        "redis": redis_values(settings.redis, names.redis_password),
        "postgresql": postgresql_values(settings.database, names.postgres_auth),
        "pgbouncer": pgbouncer_values(
            settings.database.pgbouncer,
            config_secret=names.pgbouncer_config,
            stats_secret=names.pgbouncer_stats,
            disruption_budget=_pdb(settings),
        ),
    }
    if settings.database.pgbouncer.enabled:
        # The chart's own is empty for Airflow 3; behind PgBouncer it holds the async engine's connect args.
        values["airflowLocalSettings"] = AIRFLOW_LOCAL_SETTINGS
    # Set whatever the executor: unset, the chart renders its own `airflow-broker-url` Secret (a
    # pre-install hook with a random password). Without Celery no pod reads it, and no such Secret exists.
    values["data"]["brokerUrlSecretName"] = names.broker_url or f"{RELEASE_NAME}-broker-unused"
    for extra in (
        exposure_values(
            enabled=settings.network_policies,
            ingress=settings.ingress,
            prometheus_namespace=settings.prometheus_namespace,
        ),
        remote_log_values(settings.remote_logs),
        log_persistence_values(settings.log_persistence),
        broker_values(settings.redis),
        _NO_API_TOKEN,
        _BUNDLED_POSTGRES_NO_API_TOKEN if settings.database.mode == "bundled" else {},
        pinned_image_values(settings.images),
        dag_values or {},
        placement_values(settings.placement, _placements(settings)),
        auth_values(settings.auth.oidc),
    ):
        values = merge_values(values, extra)
    _task_pods_by_digest(values)
    # /tmp for every Airflow container (their roots are read-only), before what a concern mounts.
    for key in ("volumes", "volumeMounts"):
        values[key] = AIRFLOW_SCRATCH[key] + values.get(key, [])
    # The stack file's environment after the concerns' own variables (a merge would replace a list).
    environment = environment_values or {}
    for key, added in (("env", env_values(settings.env)), ("secret", environment.get("secret", []))):
        if added:
            values[key] = values.get(key, []) + added
    values["airflowPodAnnotations"] |= environment.get("airflowPodAnnotations", {})
    return with_extra_values(values, settings.extra_values)


def _placements(settings: StackSettings) -> dict[str, Any]:
    """Each placed component's placement by its stack key (overrides/values.PLACED)."""
    return {
        "scheduler": settings.scheduler.placement,
        "apiServer": settings.api_server.placement,
        "triggerer": settings.triggerer.placement,
        "dagProcessor": settings.dag_processor.placement,
        "workers": settings.workers.placement,
        "tasks": settings.tasks.placement,
        "statsd": settings.statsd.placement,
        "jobs": settings.jobs.placement,
    }


def _task_pods_by_digest(values: dict[str, Any]) -> None:
    """KubernetesExecutor task pods run ``worker_container_repository:worker_container_tag``, which the
    chart fills from the Airflow image's repository and tag and never its digest (the pod template
    file's own image, the stock one, is replaced by it): with a digest, the tag is given as
    ``TAG@DIGEST``, so task pods run the same content as the scheduler that starts them."""
    airflow = values.get("images", {}).get("airflow", {})
    if airflow.get("digest") is None:
        return
    tag, digest = airflow["tag"], airflow["digest"]
    pinned = (
        f"{tag}@{digest}"
        if isinstance(digest, str)
        else pulumi.Output.from_input(digest).apply(lambda known: f"{tag}@{known}" if known else tag)
    )
    values["config"].setdefault("kubernetes_executor", {})["worker_container_tag"] = pinned


# Pods that never call the Kubernetes API get no service-account token: a compromised dag-processor,
# statsd-exporter, database Job, PgBouncer, Redis or PostgreSQL then holds no credential for the cluster.
# The scheduler, Celery workers, triggerer and api-server keep theirs (task pods, KubernetesPodOperator,
# their triggers, task pod logs).
_NO_API_TOKEN: dict[str, Any] = {
    component: {"serviceAccount": {"automountServiceAccountToken": False}}
    for component in (
        "dagProcessor",
        "statsd",
        "migrateDatabaseJob",
        "createUserJob",
        "pgbouncer",
        "redis",
    )
}
# The bundled PostgreSQL (Bitnami) would run as the namespace's default account: it gets its own.
_BUNDLED_POSTGRES_NO_API_TOKEN = {
    "postgresql": {"serviceAccount": {"create": True, "automountServiceAccountToken": False}}
}


def _airflow_config(settings: StackSettings) -> dict[str, Any]:
    """airflow.cfg sections the chart merges over its own ``config``."""
    tasks = settings.tasks
    database = (
        {"database": {"sql_alchemy_connect_args_async": ASYNC_CONNECT_ARGS}}
        if settings.database.pgbouncer.enabled
        else {}
    )
    ingress = settings.ingress
    # Links Airflow writes (e-mails, the UI's own redirects) point at the address users open.
    api = {"api": {"base_url": f"https://{ingress.host}"}} if ingress.enabled else {}
    ours = {
        **database,
        **api,
        "core": {"default_task_execution_timeout": str(tasks.max_task_minutes * 60)},
        "celery": {"worker_concurrency": str(tasks.celery_concurrency)},
        # Successful task pods go; failed ones stay for `kubectl logs` and `describe`.
        "kubernetes_executor": {"delete_worker_pods": "True", "delete_worker_pods_on_failure": "False"},
        "metrics": {"statsd_prefix": settings.monitoring.statsd_prefix},
    }
    # airflow:config, option by option over ours (what the program owns was refused when it was read).
    return merge_values(ours, config_text(settings.config))


def _database_cleanup(settings: StackSettings) -> dict[str, Any]:
    """The chart's ``airflow db clean`` CronJob, restricted and resourced like the other Jobs; it never
    calls the Kubernetes API, so it gets no service-account token."""
    cleanup = settings.database.cleanup
    return {
        "enabled": cleanup.enabled,
        "retentionDays": cleanup.retention_days,
        "schedule": CLEANUP_SCHEDULE,
        "resources": settings.jobs.resources.to_kubernetes(),
        "securityContexts": AIRFLOW_CONTEXTS,
        "serviceAccount": {"automountServiceAccountToken": False},
    }


def _sidecar(resources: Resources) -> dict[str, Any]:
    return {"resources": resources.to_kubernetes(), "securityContexts": {"container": READ_ONLY_CONTAINER}}


def _pdb(settings: StackSettings) -> dict[str, Any]:
    return {"enabled": settings.pod_disruption_budgets, "config": {"maxUnavailable": 1}}


def _airflow_component(workload: Workload, settings: StackSettings, *, groomer: bool) -> dict[str, Any]:
    component: dict[str, Any] = {
        "replicas": workload.replicas,
        "resources": workload.resources.to_kubernetes(),
        "securityContexts": AIRFLOW_CONTEXTS,
        # Init container that holds the pod until `airflow db migrate` has run (it reuses `resources`).
        "waitForMigrations": {"enabled": True, "securityContexts": {"container": READ_ONLY_CONTAINER}},
        "podDisruptionBudget": _pdb(settings),
    }
    if groomer:
        component["logGroomerSidecar"] = _sidecar(settings.log_groomer.resources)
    return component


def _workers(settings: StackSettings) -> dict[str, Any]:
    """Celery worker pods under ``celery``; Kubernetes-executor task pods under ``kubernetes``."""
    workers = settings.workers
    autoscaling = settings.tasks.autoscaling
    return {
        "celery": {
            "replicas": workers.replicas,
            "terminationGracePeriodSeconds": settings.tasks.grace_period_seconds,
            "keda": {
                "enabled": autoscaling.enabled,
                "minReplicaCount": autoscaling.min_replicas,
                "maxReplicaCount": autoscaling.max_replicas,
                "cooldownPeriod": autoscaling.cooldown_seconds,
                "pollingInterval": 5,
            },
            "resources": workers.resources.to_kubernetes(),
            "securityContexts": AIRFLOW_CONTEXTS,
            # No volume, so no log groomer: the chart renders the workers' groomer only with persistence.
            "persistence": {"enabled": False},
            "waitForMigrations": {"enabled": True, "securityContexts": {"container": READ_ONLY_CONTAINER}},
            "podDisruptionBudget": _pdb(settings),
        },
        "kubernetes": {
            "terminationGracePeriodSeconds": settings.tasks.grace_period_seconds,
            "resources": workers.resources.to_kubernetes(),
            "securityContexts": AIRFLOW_CONTEXTS,
        },
    }


def _migrate_job(settings: StackSettings, names: SecretNames) -> dict[str, Any]:
    """Kept a Helm hook on purpose: Helm runs it once per install or upgrade and fails the release if it
    fails, while pods wait in their ``wait-for-airflow-migrations`` init container. The release is
    not ``--wait``-ed (see ``AirflowRelease``), since Helm runs post-install hooks only after waiting.
    With ``airflow:backup`` its init container dumps the database first (``backup/values.py``)."""
    job = {
        "useHelmHooks": True,
        "resources": settings.jobs.resources.to_kubernetes(),
        "securityContexts": AIRFLOW_CONTEXTS,
    }
    if settings.backs_up:
        backup = settings.backup
        job |= migration_backup_values(
            image=backup.image or settings.images.postgresql or CHART_POSTGRESQL_IMAGE,
            connection_secret=names.backup_connection or names.metadata_connection,
            key=backup_key(backup.generation),
            keep=backup.keep,
            resources=backup.resources.to_kubernetes(),
        )
    return job


def _create_user_job(settings: StackSettings, names: SecretNames) -> dict[str, Any]:
    admin = settings.admin
    return {
        "useHelmHooks": True,
        "resources": settings.jobs.resources.to_kubernetes(),
        "securityContexts": AIRFLOW_CONTEXTS,
        # The chart's default user carries a literal password ("admin"); blank it so no copy exists.
        "defaultUser": {
            "role": "Admin",
            "username": admin.username,
            "email": admin.email,
            "firstName": admin.first_name,
            "lastName": admin.last_name,
            "password": "",
        },
        "args": [
            "bash",
            "-c",
            CREATE_USER_SCRIPT,
            "--",
            "Admin",
            admin.username,
            admin.email,
            admin.first_name,
            admin.last_name,
        ],
        "env": [
            {
                "name": "AIRFLOW_ADMIN_PASSWORD",
                "valueFrom": {"secretKeyRef": {"name": names.admin_password, "key": "password"}},
            }
        ],
    }
