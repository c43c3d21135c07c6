"""The stack's wiring, and the only place of it: which part of the settings, and which outputs of which
component, each component gets.

Components take their concern's settings and the outputs they use, never the whole model, so each one
can be read, and tested, alone; this module is where the whole model is taken apart. ``__main__`` loads
the settings and exports what ``build_stack`` returns.
"""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from components.auth.values import CLIENT_SECRET_ENV
from components.backup.volume import BackupVolume, BackupVolumeArgs
from components.broker.settings import REDIS_CA_FILE
from components.connections.environment import AirflowEnvironment, AirflowEnvironmentArgs
from components.connections.pools import PoolsJob, PoolsJobArgs
from components.dags.delivery import DagDelivery, DagDeliveryArgs
from components.dags.folder import DagFolder
from components.dags.settings import GitBundleDags, GitSyncDags
from components.kube import RELEASE_NAME
from components.network.namespace import AirflowNamespace, AirflowNamespaceArgs
from components.network.policies import AirflowNetworkPolicies, AirflowNetworkPoliciesArgs
from components.observability.monitoring import Monitoring, MonitoringArgs
from components.overrides.values import own_pod_placement
from components.release.chart import AirflowRelease, AirflowReleaseArgs
from components.release.pod_roles import PodRolesArgs
from components.release.values import build_helm_values
from components.secrets.credentials import AirflowSecrets, AirflowSecretsArgs
from components.secrets.fernet import FernetRotation, FernetRotationArgs
from components.secrets.names import GIT_CONNECTION_SECRET, REGISTRY_SECRET, SecretNames
from components.settings import StackSettings

__all__ = ["build_stack", "secret_names"]

_NAME = "airflow"  # every component's Pulumi name; child names derive from it


def build_stack(settings: StackSettings, dag_folder: DagFolder | None) -> dict[str, Any]:
    """Every component in dependency order; the stack outputs. ``dag_folder`` was read and checked
    before any resource (``dags.folder.dags_for_delivery``)."""
    ns = AirflowNamespace(
        _NAME, AirflowNamespaceArgs(name=settings.namespace, protect=settings.protect_stateful_resources)
    )
    names = secret_names(settings)
    secrets = AirflowSecrets(
        _NAME,
        AirflowSecretsArgs(
            namespace=ns.name,
            names=names,
            fernet=settings.fernet,
            database=settings.database,
            metadata_connection=settings.metadata_connection,
            broker_url=settings.broker_url,
            broker_ca_file=REDIS_CA_FILE if settings.redis.ca_certificate is not None else None,
            protect=settings.protect_stateful_resources,
            remote_logs_connection=settings.remote_logs_connection,
        ),
    )
    environment = AirflowEnvironment(
        _NAME,
        AirflowEnvironmentArgs(
            namespace=ns.name,
            secret_name=names.environment,
            secret_env=secret_environment(settings),
            connections=settings.connections,
            variables=settings.variables,
        ),
    )
    dags = DagDelivery(
        _NAME,
        DagDeliveryArgs(
            settings=settings.dags,
            registry_password=settings.registry_password,
            git_ssh_key=settings.git_ssh_key,
            names=names,
            namespace=ns.name,
            dags=dag_folder,
        ),
    )
    # Before the release: its migration Job mounts the claim.
    backups = (
        [
            BackupVolume(
                _NAME,
                BackupVolumeArgs(
                    namespace=ns.name,
                    storage_size=settings.backup.storage_size,
                    protect=settings.protect_stateful_resources,
                ),
            ).claim
        ]
        if settings.backs_up
        else []
    )
    airflow = AirflowRelease(
        _NAME,
        AirflowReleaseArgs(
            namespace=ns.name,
            chart=settings.chart,
            values=build_helm_values(settings, names, dags.values, environment.values),
            helm_timeout_seconds=settings.helm_timeout_seconds,
            pod_roles=PodRolesArgs(
                namespace=ns.name,
                kubernetes_executor=settings.uses_kubernetes_executor,
                pod_exec=settings.tasks.pod_exec,
            ),
            redis_ca_certificate=settings.redis.ca_certificate,
            named_by_values=[*secrets.secrets, *environment.secrets, *dags.dependencies, *backups],
        ),
    )
    # The program's own Jobs are placed as the chart's are: the jobs' placement, else the stack's.
    job_placement = own_pod_placement(settings.jobs.placement, settings.placement)
    FernetRotation(
        _NAME,
        FernetRotationArgs(
            namespace=ns.name,
            fernet=settings.fernet,
            names=names,
            release=airflow.release,
            job_resources=settings.jobs.resources,
            grace_period_seconds=settings.tasks.grace_period_seconds,
            placement=job_placement,
        ),
    )
    PoolsJob(
        _NAME,
        PoolsJobArgs(
            namespace=ns.name,
            pools=settings.pools,
            metadata_secret=names.metadata_connection,
            release=airflow.release,
            resources=settings.jobs.resources,
            placement=job_placement,
        ),
    )
    AirflowNetworkPolicies(
        _NAME,
        AirflowNetworkPoliciesArgs(
            namespace=ns.name,
            enabled=settings.network_policies,
            bundled_database=settings.database.mode == "bundled",
            pgbouncer=settings.database.pgbouncer.enabled,
            prometheus_namespace=settings.prometheus_namespace,
        ),
    )
    monitoring = Monitoring(
        _NAME,
        MonitoringArgs(
            monitoring=settings.monitoring,
            namespace=ns.name,
            database_cleanup=settings.database.cleanup.enabled,
        ),
    )
    return {
        "namespace": ns.name,
        "executor": settings.executor,
        "dagImage": dags.image_ref,
        "apiServerService": airflow.api_server_service,
        "apiServerUrl": airflow.api_server_url,
        "adminUsername": settings.admin.username,
        "adminPassword": secrets.admin_password,
        "grafanaAdminPassword": monitoring.grafana_admin_password,
        "secretNames": {k: v for k, v in vars(names).items() if v is not None},
    }


def secret_environment(settings: StackSettings) -> dict[str, SecretStr]:
    """``airflow:secretEnv``, and the OIDC client's secret where sign-in goes through it."""
    oidc_secret = settings.oidc_client_secret
    extra = {CLIENT_SECRET_ENV: oidc_secret} if settings.auth.oidc is not None and oidc_secret else {}
    return {**settings.secret_env, **extra}


def secret_names(settings: StackSettings) -> SecretNames:
    """Fixed names, distinct from the ones the chart would generate (``airflow-fernet-key``...), so a
    chart-made Secret can never be mistaken for ours."""

    def name(role: str) -> str:
        return f"{RELEASE_NAME}-{role}"

    bundled = settings.database.mode == "bundled"
    pgbouncer = settings.database.pgbouncer.enabled
    dags = settings.dags
    git_ssh = isinstance(dags, GitSyncDags) and dags.git_sync.uses_ssh
    return SecretNames(
        fernet_key=name("fernet"),
        api_secret_key=name("api-secret"),
        jwt_secret=name("jwt"),
        webserver_secret_key=name("webserver-secret"),
        admin_password=name("admin"),
        # Behind PgBouncer, Airflow's URL is ours (pointing at PgBouncer), never the user's Secret.
        metadata_connection=(None if pgbouncer else settings.database.existing_secret_name)
        or name("metadata-db"),
        postgres_auth=name("postgres-auth") if bundled else None,
        # The chart's Redis only: an external one's password is inside airflow:brokerUrl.
        redis_password=name("redis-auth")
        if settings.uses_celery and settings.redis.mode == "bundled"
        else None,
        broker_url=name("broker") if settings.uses_celery else None,
        pgbouncer_config=name("pgbouncer-config") if pgbouncer else None,
        pgbouncer_stats=name("pgbouncer-stats") if pgbouncer else None,
        registry=REGISTRY_SECRET if settings.builds_an_image else None,
        git_ssh_key=name("git-ssh") if git_ssh else None,
        git_connection=GIT_CONNECTION_SECRET if isinstance(dags, GitBundleDags) else None,
        task_logs_connection=settings.remote_logs.connection_secret_name
        if settings.remote_logs is not None and settings.remote_logs_connection is not None
        else None,
        backup_connection=name("db-backup") if settings.backs_up and pgbouncer else None,
        environment=name("environment")
        if secret_environment(settings) or settings.connections or settings.variables
        else None,
    )
