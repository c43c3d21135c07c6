"""The stack's configuration as one frozen, validated model, composed of each concern's settings.

Every key of ``Pulumi.<stack>.yaml`` under ``airflow:`` maps to a field here or in a concern's
``settings`` module; defaults live in the models so a stack file lists only what differs. The checks
that span concerns (task logs of protected stacks, credentials per DAG delivery) live here. Unknown
keys are errors, because a misspelt key that is silently ignored is a production setting that
silently does not apply.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationInfo, model_validator

from components.auth.settings import AuthSettings
from components.backup.settings import BackupSettings
from components.broker.settings import RedisSettings, broker_url_problem
from components.connections.settings import Connections, Pools, Variables
from components.dags.settings import ConfigMapDags, DagSettings, GitDags, ImageDags, deploy_key_problem
from components.database.settings import DatabaseSettings, parse_connection
from components.images.settings import ImagePins
from components.kube import merge_values
from components.model import (
    ConfigError,
    ConfigModel,
    DnsLabel,
    Placement,
    PodSettings,
    SidecarSettings,
    Workload,
    resources_of,
)
from components.network.settings import IngressSettings
from components.observability.settings import LogPersistenceSettings, MonitoringSettings, RemoteLogSettings
from components.overrides.settings import AirflowConfig, EnvVars, ExtraValues, SecretEnvVars
from components.release.settings import ChartSettings, TaskSettings
from components.secrets.settings import AdminSettings, FernetSettings

__all__ = ["EXECUTORS", "OFFLINE", "SECRET_KEYS", "SECRET_MAPPINGS", "ConfigError", "StackSettings"]

EXECUTORS = ("KubernetesExecutor", "CeleryExecutor", "CeleryExecutor,KubernetesExecutor")
Executor = Literal["KubernetesExecutor", "CeleryExecutor", "CeleryExecutor,KubernetesExecutor"]

# Secret keys whose value is a mapping of secrets, each set with `pulumi config set --secret --path`.
# Variables too: they reach a Secret, and a plain config value is kept in the state's history as text.
SECRET_MAPPINGS = frozenset({"secretEnv", "connections", "variables"})
# Keys whose values must never be echoed back, not even in an error message, and that are refused when
# stored in plain text.
SECRET_KEYS = (
    frozenset(
        {
            "metadataConnection",
            "registryPassword",
            "gitSshKey",
            "brokerUrl",
            "remoteLogsConnection",
            "oidcClientSecret",
        }
    )
    | SECRET_MAPPINGS
)
# Validation context key: check everything except that required secret values are present.
OFFLINE = "offline"
_SET_SECRET = {
    "registryPassword": "pulumi config set --secret airflow:registryPassword <token with push access>",
    "gitSshKey": "pulumi config set --secret airflow:gitSshKey < ~/.ssh/airflow_deploy_key",
    "brokerUrl": "pulumi config set --secret airflow:brokerUrl <the rediss:// URL, password included>",
    "oidcClientSecret": "pulumi config set --secret airflow:oidcClientSecret <the client's secret>",
}


class StackSettings(ConfigModel):
    """Every key under ``airflow:`` in ``Pulumi.<stack>.yaml``, validated once, at the edge."""

    executor: Executor = "KubernetesExecutor"
    namespace: DnsLabel = "airflow"
    protect_stateful_resources: bool = True
    pod_disruption_budgets: bool = False
    helm_timeout_seconds: int = Field(900, ge=60, le=3600)
    chart: ChartSettings = ChartSettings()
    scheduler: Workload = Workload(resources=resources_of("250m", "512Mi", "1Gi"))
    api_server: Workload = Workload(resources=resources_of("250m", "768Mi", "1536Mi"))
    triggerer: Workload = Workload(resources=resources_of("100m", "256Mi", "512Mi"))
    dag_processor: Workload = Workload(resources=resources_of("100m", "384Mi", "768Mi"))
    workers: Workload = Workload(resources=resources_of("250m", "512Mi", "1Gi"))
    jobs: PodSettings = PodSettings(resources=resources_of("100m", "384Mi", "768Mi"))
    log_groomer: SidecarSettings = SidecarSettings(resources=resources_of("10m", "32Mi", "64Mi"))
    statsd: PodSettings = PodSettings(resources=resources_of("20m", "32Mi", "128Mi"))
    redis: RedisSettings = RedisSettings()
    database: DatabaseSettings = DatabaseSettings()
    backup: BackupSettings = BackupSettings()
    metadata_connection: SecretStr | None = None
    admin: AdminSettings = AdminSettings()
    dags: DagSettings = ConfigMapDags()
    images: ImagePins = ImagePins()
    tasks: TaskSettings = TaskSettings()
    fernet: FernetSettings = FernetSettings()
    remote_logs: RemoteLogSettings | None = None
    log_persistence: LogPersistenceSettings = LogPersistenceSettings()
    network_policies: bool = True
    ingress: IngressSettings = IngressSettings()
    monitoring: MonitoringSettings = MonitoringSettings()
    registry_password: SecretStr | None = None
    git_ssh_key: SecretStr | None = None
    broker_url: SecretStr | None = None  # with redis.mode external
    # The task-log bucket's Airflow AWS connection (JSON or URI: keys, endpoint_url of an S3-compatible
    # store), written by the stack to the Secret remoteLogs.connectionSecretName names.
    remote_logs_connection: SecretStr | None = None
    # The escape hatches (overrides/settings.py): what the program does not model, passed on as written.
    config: AirflowConfig = Field(default_factory=dict)
    env: EnvVars = Field(default_factory=dict)
    secret_env: SecretEnvVars = Field(default_factory=dict)
    # Airflow connections and variables as code (connections/settings.py), from one Secret; pools.
    connections: Connections = Field(default_factory=dict)
    variables: Variables = Field(default_factory=dict)
    pools: Pools = Field(default_factory=dict)
    # Sign-in through the organization's identity provider (auth/settings.py), its client's secret.
    auth: AuthSettings = AuthSettings()
    oidc_client_secret: SecretStr | None = None  # applied by a Job after migrations (connections/pools.py)
    extra_values: ExtraValues = Field(default_factory=dict)
    placement: Placement = Placement()  # every pod's, unless its component has its own

    @property
    def uses_celery(self) -> bool:
        return "CeleryExecutor" in self.executor

    @property
    def uses_kubernetes_executor(self) -> bool:
        return "KubernetesExecutor" in self.executor

    @property
    def builds_an_image(self) -> bool:
        """Whether the program pushes an image of its own: the DAG image, or the DAG packages' image."""
        return isinstance(self.dags, ImageDags) or self.dags.packages is not None

    @property
    def backs_up(self) -> bool:
        """Whether the migration Job dumps the database first: ``backup.enabled``, or else as the
        stack protects its stateful resources."""
        enabled = self.backup.enabled
        return self.protect_stateful_resources if enabled is None else enabled

    @property
    def prometheus_namespace(self) -> str | None:
        """Where the Prometheus that scrapes this stack runs; None with monitoring off."""
        return None if self.monitoring.mode == "off" else self.monitoring.namespace

    @model_validator(mode="before")
    @classmethod
    def _components_keep_their_defaults(cls, raw: Any) -> Any:
        """``scheduler: {replicas: 2}`` changes the replicas and keeps the default resources: a stack
        file lists only what differs. Each component's given keys are laid over its defaults, key by key
        (``resources: {memory: 1Gi}`` keeps the default cpu and memoryLimit)."""
        if not isinstance(raw, dict):
            return raw
        merged = dict(raw)
        for name, field in cls.model_fields.items():
            default = field.default
            key = field.alias or name
            given = raw.get(key, raw.get(name))
            if isinstance(default, (Workload, SidecarSettings)) and isinstance(given, dict):
                merged[key if key in raw else name] = merge_values(
                    default.model_dump(by_alias=True, exclude_none=True), given
                )
        return merged

    @model_validator(mode="after")
    def _base_url_follows_the_ingress(self) -> StackSettings:
        if self.ingress.enabled and "base_url" in self.config.get("api", {}):
            raise ValueError(
                "airflow:config.api.base_url is the program's while airflow:ingress is on: it follows "
                "airflow:ingress.host, the UI's address; remove it"
            )
        return self

    @model_validator(mode="after")
    def _namespace_is_airflows_own(self) -> StackSettings:
        """NetworkPolicies, quotas and ``pulumi destroy`` all act per namespace: sharing one with the
        cluster's own components or with Prometheus would open them up, or take them down with Airflow."""
        if self.namespace.startswith("kube-"):
            raise ValueError(
                f"airflow:namespace {self.namespace!r} is reserved for Kubernetes' own components (kube-*); "
                "use a namespace of Airflow's own (e.g. airflow)"
            )
        if self.prometheus_namespace == self.namespace:
            raise ValueError(
                f"airflow:namespace and airflow:monitoring.namespace are both {self.namespace!r}; Airflow's "
                "NetworkPolicies admit Prometheus by namespace, so each needs its own"
            )
        return self

    @model_validator(mode="after")
    def _airflow_pin_has_an_image_to_pin(self) -> StackSettings:
        if self.images.airflow is not None and isinstance(self.dags, ImageDags):
            raise ValueError(
                "airflow:images.airflow is not used with airflow:dags.delivery 'image': Airflow runs the DAG "
                "image by the digest of its push; pin its base in dags/Dockerfile "
                "(FROM apache/airflow:3.2.2@sha256:...) and remove airflow:images.airflow"
            )
        return self

    @model_validator(mode="after")
    def _autoscaling_needs_celery(self) -> StackSettings:
        if self.tasks.autoscaling.enabled and not self.uses_celery:
            raise ValueError(
                "airflow:tasks.autoscaling scales Celery workers, but airflow:executor "
                f"{self.executor!r} runs none; use 'CeleryExecutor' or 'CeleryExecutor,KubernetesExecutor'"
            )
        return self

    @model_validator(mode="after")
    def _protected_stacks_keep_task_logs(self) -> StackSettings:
        """Task pods go on success and Celery workers are replaced on deploy: without somewhere else to
        keep them, a production stack loses its task logs with its pods."""
        if self.protect_stateful_resources and self.remote_logs is None and not self.log_persistence.enabled:
            raise ValueError(
                "airflow:protectStatefulResources is true, but task logs would be lost with their pods: set "
                "airflow:remoteLogs (an S3 bucket, e.g. {bucket: acme-airflow-logs, roleArn: "
                "arn:aws:iam::<account>:role/<role>}) or airflow:logPersistence.enabled (a ReadWriteMany "
                "volume), or set airflow:protectStatefulResources to false for a throwaway stack"
            )
        return self

    @model_validator(mode="after")
    def _remote_logs_connection_has_a_home(self) -> StackSettings:
        if self.remote_logs_connection is not None and (
            self.remote_logs is None or self.remote_logs.connection_secret_name is None
        ):
            raise ValueError(
                "airflow:remoteLogsConnection is set, but no Secret is named to hold it: set "
                "airflow:remoteLogs.connectionSecretName (e.g. airflow-task-logs) "
                "with airflow:remoteLogs.bucket"
            )
        return self

    @model_validator(mode="after")
    def _database_source_is_unambiguous(self) -> StackSettings:
        db = self.database
        if db.mode == "bundled" and (db.existing_secret_name or self.metadata_connection):
            raise ValueError(
                "airflow:database.mode is 'bundled', so neither airflow:database.existingSecretName nor "
                "airflow:metadataConnection may be set; set airflow:database.mode to 'external' to use them"
            )
        if db.mode == "external" and bool(db.existing_secret_name) == bool(self.metadata_connection):
            raise ValueError(
                "airflow:database.mode 'external' needs exactly one of airflow:database.existingSecretName "
                "(a Secret with key 'connection') or the secret value airflow:metadataConnection "
                "(pulumi config set --secret airflow:metadataConnection postgresql://...)"
            )
        if self.metadata_connection is not None:
            url = self.metadata_connection.get_secret_value()
            if not url.startswith(("postgresql://", "postgresql+psycopg2://")):
                raise ValueError(
                    "airflow:metadataConnection must start with 'postgresql://' (value not shown)"
                )
            if db.pgbouncer.enabled:
                try:
                    parse_connection(url)
                except ValueError as err:
                    raise ValueError(f"airflow:metadataConnection: {err}") from None
        return self

    def missing_secrets(self) -> list[str]:
        """Secret config keys the chosen DAG delivery needs but the stack does not set."""
        dags = self.dags
        needed = []
        if self.builds_an_image and self.registry_password is None:
            needed.append("registryPassword")
        if dags.git and dags.git.uses_ssh and not self.git_ssh_key:
            needed.append("gitSshKey")
        if self.redis.mode == "external" and self.uses_celery and self.broker_url is None:
            needed.append("brokerUrl")
        if self.auth.oidc is not None and self.oidc_client_secret is None:
            needed.append("oidcClientSecret")
        return needed

    @model_validator(mode="after")
    def _broker_is_consistent(self) -> StackSettings:
        """An external broker only with Celery, its URL only with it and well-formed (never shown), its CA
        only for a TLS URL; all problems at once."""
        redis, url = self.redis, self.broker_url
        problems = []
        if redis.mode == "external" and not self.uses_celery:
            problems.append(
                "airflow:redis.mode 'external' is Celery's broker, but airflow:executor "
                f"{self.executor!r} runs no Celery; remove it"
            )
        if url is not None and redis.mode != "external":
            problems.append("airflow:brokerUrl is only used with airflow:redis.mode 'external'")
        url_problem = None if url is None else broker_url_problem(url.get_secret_value())
        if url_problem is not None:
            problems.append(f"airflow:brokerUrl {url_problem}")
        if redis.ca_certificate is not None and (
            redis.mode != "external"
            or (url is not None and not url.get_secret_value().strip().startswith("rediss://"))
        ):
            problems.append(
                "airflow:redis.caCertificate is only used with airflow:redis.mode 'external' and a "
                "rediss:// airflow:brokerUrl"
            )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @model_validator(mode="after")
    def _dag_credentials_are_complete(self, info: ValidationInfo) -> StackSettings:
        """Every credential the DAG delivery needs is set, none that it ignores is; all problems at once."""
        dags = self.dags
        # The offline render fills missing secrets with placeholders, so it asks which ones are missing.
        offline = bool(info.context and info.context.get(OFFLINE))
        needed_by = {"brokerUrl": "airflow:redis.mode 'external'", "oidcClientSecret": "airflow:auth.oidc"}
        if dags.packages is not None:
            needed_by["registryPassword"] = "airflow:dags.packagesImage"
        problems = [
            f"{needed_by.get(key, f'airflow:dags.delivery {dags.delivery!r}')} needs the secret config value "
            f"airflow:{key}; set it with '{_SET_SECRET[key]}'"
            for key in ([] if offline else self.missing_secrets())
        ]
        if self.registry_password is not None and not self.builds_an_image:
            problems.append(
                "airflow:registryPassword is only used with airflow:dags.delivery 'image' or "
                "airflow:dags.packagesImage"
            )
        if self.oidc_client_secret is not None and self.auth.oidc is None:
            problems.append("airflow:oidcClientSecret is only used with airflow:auth.oidc")
        git = dags.git
        if self.git_ssh_key is not None and not (git and git.uses_ssh):
            problems.append(
                "airflow:gitSshKey is only used with airflow:dags.delivery 'git-bundle' or 'git-sync' and "
                "an SSH repo (git@host:org/repo.git or ssh://...)"
            )
        key_problem = (
            None
            if offline or self.git_ssh_key is None
            else deploy_key_problem(self.git_ssh_key.get_secret_value())
        )
        if key_problem is not None:
            problems.append(f"airflow:gitSshKey {key_problem}")
        if isinstance(dags, GitDags) and dags.git.uses_ssh and not dags.git.known_hosts:
            problems.append(
                f"airflow:dags.{dags.git_key}.knownHosts is required for an SSH repo, so the host key is "
                "checked (e.g. the output of 'ssh-keyscan github.com')"
            )
        if problems:
            raise ValueError("\n".join(problems))
        return self
