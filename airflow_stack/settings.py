"""The stack's configuration as one frozen, validated model.

Every key of ``Pulumi.<stack>.yaml`` under ``airflow:`` maps to a field here; defaults live here so a
stack file lists only what differs. Unknown keys are errors, because a misspelt key that is silently
ignored is a production setting that silently does not apply.
"""

from __future__ import annotations

import difflib
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic.alias_generators import to_camel

from airflow_stack.database.pgbouncer import parse_connection
from airflow_stack.quantity import cpu_cores, memory_bytes

__all__ = [
    "EXECUTORS",
    "AdminSettings",
    "AlertSettings",
    "ConfigError",
    "DagSettings",
    "DatabaseSettings",
    "FernetSettings",
    "GitSyncSettings",
    "ImageSettings",
    "IngressSettings",
    "LogPersistenceSettings",
    "MonitoringSettings",
    "PgBouncerSettings",
    "RemoteLogSettings",
    "Resources",
    "StackSettings",
    "TaskSettings",
    "Workload",
    "parse_settings",
]

EXECUTORS = ("KubernetesExecutor", "CeleryExecutor", "CeleryExecutor,KubernetesExecutor")
Executor = Literal["KubernetesExecutor", "CeleryExecutor", "CeleryExecutor,KubernetesExecutor"]

# Keys whose values must never be echoed back, not even in an error message, and that are refused when
# stored in plain text.
SECRET_KEYS = frozenset({"metadataConnection", "registryPassword", "gitSshKey"})
# Validation context key: check everything except that required secret values are present.
OFFLINE = "offline"
_SET_SECRET = {
    "registryPassword": "pulumi config set --secret airflow:registryPassword <token with push access>",
    "gitSshKey": "pulumi config set --secret airflow:gitSshKey < ~/.ssh/airflow_deploy_key",
}
DagDelivery = Literal["image", "git-sync", "configmap"]


class ConfigError(ValueError):
    """A stack configuration the program refuses, with a message that names the key and the fix."""


def _cpu(value: str) -> str:
    cpu_cores(value)
    return value


def _memory(value: str) -> str:
    memory_bytes(value)
    return value


CpuQuantity = Annotated[str, AfterValidator(_cpu)]
MemoryQuantity = Annotated[str, AfterValidator(_memory)]
DnsLabel = Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")]


class _Model(BaseModel):
    # hide_input_in_errors: the ValidationError chained to a ConfigError would otherwise repeat the
    # raw config, secret connection URL included, in any traceback or log that prints the cause.
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        hide_input_in_errors=True,
    )


class Resources(_Model):
    """Requests for scheduling, and a memory limit so one leaking pod cannot starve its node.

    A CPU limit is optional: throttled schedulers miss heartbeats, so by default none is set.
    """

    cpu: CpuQuantity
    memory: MemoryQuantity
    memory_limit: MemoryQuantity
    cpu_limit: CpuQuantity | None = None

    @model_validator(mode="after")
    def _limits_cover_requests(self) -> Resources:
        if memory_bytes(self.memory_limit) < memory_bytes(self.memory):
            raise ValueError(f"memoryLimit {self.memory_limit} is below the memory request {self.memory}")
        if self.cpu_limit is not None and cpu_cores(self.cpu_limit) < cpu_cores(self.cpu):
            raise ValueError(f"cpuLimit {self.cpu_limit} is below the cpu request {self.cpu}")
        return self

    def to_kubernetes(self) -> dict[str, dict[str, str]]:
        limits = {"memory": self.memory_limit}
        if self.cpu_limit is not None:
            limits["cpu"] = self.cpu_limit
        return {"requests": {"cpu": self.cpu, "memory": self.memory}, "limits": limits}


def _resources(cpu: str, memory: str, memory_limit: str) -> Resources:
    return Resources(cpu=cpu, memory=memory, memory_limit=memory_limit)


class Workload(_Model):
    replicas: int = Field(1, ge=1, le=50)
    resources: Resources


class SidecarSettings(_Model):
    resources: Resources


class AutoscalingSettings(_Model):
    """Celery workers scaled by KEDA (the chart's ScaledObject on queued and running tasks); needs KEDA
    installed in the cluster. Off, ``workers.replicas`` is fixed."""

    enabled: bool = False
    min_replicas: int = Field(1, ge=0, le=100)
    max_replicas: int = Field(10, ge=1, le=200)
    cooldown_seconds: int = Field(300, ge=30, le=3600)

    @model_validator(mode="after")
    def _range(self) -> AutoscalingSettings:
        if self.max_replicas < self.min_replicas:
            raise ValueError(f"maxReplicas {self.max_replicas} is below minReplicas {self.min_replicas}")
        return self


class TaskSettings(_Model):
    """How long a task may run, and what a worker does with it when it is stopped.

    ``maxTaskMinutes`` caps tasks without their own ``execution_timeout`` ([core]
    default_task_execution_timeout) and sets the grace period of Celery workers and task pods: on a
    deploy or scale-down, Kubernetes sends SIGTERM, Celery stops taking tasks (warm shutdown) and the
    pod gets this long for the running ones to finish before it is killed.
    """

    max_task_minutes: int = Field(60, ge=1, le=24 * 60)
    celery_concurrency: int = Field(16, ge=1, le=256)
    autoscaling: AutoscalingSettings = AutoscalingSettings()


class RemoteLogSettings(_Model):
    """Task logs in S3, read back by the api-server, so a log outlives its pod.

    Credentials never sit in the config: ``roleArn`` is an IAM role the Airflow service accounts assume
    (IRSA: annotated ``eks.amazonaws.com/role-arn``), or ``connectionSecretName`` names a Secret in the
    namespace whose key ``connection`` holds an Airflow AWS connection (URI or JSON).
    """

    bucket: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]
    prefix: Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")] = "airflow/task-logs"
    region: Annotated[str, Field(pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9]$")] = "us-east-1"
    role_arn: (
        Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$")] | None
    ) = None
    connection_secret_name: DnsLabel | None = None

    @model_validator(mode="after")
    def _one_credential_source(self) -> RemoteLogSettings:
        if (self.role_arn is None) == (self.connection_secret_name is None):
            raise ValueError(
                "needs exactly one of roleArn (an IAM role for the service accounts, IRSA) or "
                "connectionSecretName (a Secret with key 'connection' holding an AWS connection)"
            )
        return self


class LogPersistenceSettings(_Model):
    """Task logs on one ReadWriteMany volume that every Airflow pod mounts (the chart's
    ``logs.persistence``), so a log outlives its pod without S3. The StorageClass must offer
    ReadWriteMany (NFS, EFS, CephFS...); ``existingClaim`` uses a PVC made outside the stack."""

    enabled: bool = False
    size: MemoryQuantity = "100Gi"
    storage_class_name: DnsLabel | None = None
    existing_claim: DnsLabel | None = None


class FernetSettings(_Model):
    """Fernet key rotation without losing a stored connection or variable.

    Bump ``generation`` and set ``previousGeneration`` to the old one: the next ``up`` generates a new
    key, gives Airflow ``new,old`` (every pod restarts with both), then a Job runs ``airflow
    rotate-fernet-key`` once, re-encrypting everything under the new key. Only a later ``up`` without
    ``previousGeneration`` drops the old key.
    """

    generation: int = Field(0, ge=0, le=1000)
    previous_generation: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _previous_is_older(self) -> FernetSettings:
        if self.previous_generation is not None and self.previous_generation >= self.generation:
            raise ValueError(
                f"previousGeneration {self.previous_generation} must be below generation {self.generation}: "
                "bump generation to make a new key and name the one it replaces"
            )
        return self


class IngressSettings(_Model):
    """The api-server behind an Ingress, always with TLS: a cert-manager issuer issues the certificate
    (``clusterIssuer``), or an existing Secret holds it (``tlsSecretName``). ``controllerNamespace`` is
    where the Ingress controller's pods run: the api-server's NetworkPolicy admits that namespace."""

    enabled: bool = False
    host: Annotated[str, Field(pattern=r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,}$")] | None = None
    class_name: DnsLabel = "nginx"
    controller_namespace: DnsLabel = "ingress-nginx"
    cluster_issuer: Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")] | None = None
    tls_secret_name: DnsLabel | None = None

    @model_validator(mode="after")
    def _host_and_tls(self) -> IngressSettings:
        if not self.enabled:
            return self
        if self.host is None:
            raise ValueError("enabled needs host, the DNS name users open (e.g. airflow.example.com)")
        if (self.cluster_issuer is None) == (self.tls_secret_name is None):
            raise ValueError(
                "enabled needs exactly one of clusterIssuer (cert-manager issues the certificate) or "
                "tlsSecretName (an existing kubernetes.io/tls Secret): the UI is never served without TLS"
            )
        return self


class PgBouncerSettings(_Model):
    """PgBouncer between every Airflow pod and the metadata database: a few hundred Airflow processes
    share ``metadataPoolSize`` server connections instead of opening one each."""

    enabled: bool = False
    replicas: int = Field(1, ge=1, le=10)
    max_client_conn: int = Field(200, ge=10, le=10000)
    metadata_pool_size: int = Field(20, ge=1, le=500)
    resources: Resources = _resources("50m", "64Mi", "256Mi")
    exporter_resources: Resources = _resources("10m", "32Mi", "64Mi")


class DatabaseSettings(_Model):
    """Where the metadata database lives.

    ``bundled`` runs the chart's PostgreSQL in the namespace (dev). ``external`` points at a managed
    PostgreSQL, whose connection URL comes either from an existing Kubernetes Secret (key
    ``connection``) or from the secret config value ``airflow:metadataConnection``.
    """

    mode: Literal["bundled", "external"] = "bundled"
    existing_secret_name: DnsLabel | None = None
    storage_size: MemoryQuantity = "8Gi"
    resources: Resources = _resources("100m", "256Mi", "512Mi")
    pgbouncer: PgBouncerSettings = PgBouncerSettings()


class AdminSettings(_Model):
    username: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.@-]{1,64}$")] = "admin"
    email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] = "admin@example.com"
    first_name: Annotated[str, Field(pattern=r"^[^\s{}]{1,64}$")] = "Airflow"
    last_name: Annotated[str, Field(pattern=r"^[^\s{}]{1,64}$")] = "Admin"


class ImageSettings(_Model):
    """Where the DAG image is pushed; the password is the secret config value ``airflow:registryPassword``.

    ``repository`` is the full name without a tag (``ghcr.io/acme/airflow-dags``): the tag is always the
    content hash of what goes into the image, so it is not configurable.
    """

    registry: Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]{1,5})?$")]
    repository: Annotated[
        str, Field(pattern=r"^[a-z0-9]([-a-z0-9._/]*[a-z0-9])?(:[0-9]{1,5})?(/[-a-z0-9._]+)+$")
    ]
    username: Annotated[str, Field(min_length=1, max_length=255)]
    platform: Literal["linux/amd64", "linux/arm64"] = "linux/amd64"

    @model_validator(mode="after")
    def _repository_is_on_the_registry(self) -> ImageSettings:
        if not self.repository.startswith(self.registry + "/"):
            raise ValueError(
                f"repository {self.repository!r} must start with the registry {self.registry + '/'!r}, "
                "since the image is pushed there with the registry's credentials"
            )
        return self


class GitSyncSettings(_Model):
    """git-sync v4 (the chart's sidecar): what to clone, and how often to pull.

    An SSH ``repo`` (``git@host:org/repo.git`` or ``ssh://...``) needs the secret config value
    ``airflow:gitSshKey`` and ``knownHosts``: host keys are checked, never skipped.
    """

    repo: Annotated[
        str, Field(pattern=r"^(https://[^\s@]+|ssh://[^\s]+|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+)$")
    ]
    ref: Annotated[str, Field(pattern=r"^[A-Za-z0-9._/-]{1,255}$")] = "main"
    sub_path: Annotated[str, Field(pattern=r"^([A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*)?$")] = "dags"
    period_seconds: int = Field(60, ge=5, le=3600)
    known_hosts: str | None = None
    resources: Resources = _resources("20m", "64Mi", "256Mi")

    @property
    def uses_ssh(self) -> bool:
        return not self.repo.startswith("https://")


class DagSettings(_Model):
    """How DAG files reach the scheduler, dag-processor, workers and task pods.

    ``configmap`` is the default because it needs nothing outside the stack; the committed stacks pick
    ``git-sync`` (dev) and ``image`` (prod).
    """

    delivery: DagDelivery = "configmap"
    folder: Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")] = "dags"
    image: ImageSettings | None = None
    git_sync: GitSyncSettings | None = None

    @model_validator(mode="after")
    def _mode_has_its_settings(self) -> DagSettings:
        if self.delivery == "image" and self.image is None:
            raise ValueError(
                "delivery 'image' needs airflow:dags.image with registry, repository and "
                "username (e.g. {registry: ghcr.io, repository: ghcr.io/acme/airflow-dags, username: acme})"
            )
        if self.delivery == "git-sync" and self.git_sync is None:
            raise ValueError(
                "delivery 'git-sync' needs airflow:dags.gitSync with at least repo "
                "(e.g. {repo: https://github.com/acme/dags.git, ref: main, subPath: dags})"
            )
        return self


Duration = Annotated[str, Field(pattern=r"^[0-9]+(s|m|h)$")]  # a Prometheus duration: 30s, 5m, 2h
LabelMap = dict[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_./-]*$")], str]


class AlertSettings(_Model):
    """Thresholds and ``for:`` durations of the alert rules; each alert says in its runbook what to do."""

    scheduler_heartbeat_missing_for: Duration = "3m"
    tasks_starving_for: Duration = "15m"
    parse_time_seconds: float = Field(30, gt=0)
    parse_time_for: Duration = "10m"
    import_errors_for: Duration = "5m"
    failed_dag_runs_window: Duration = "1h"
    pool_open_slots_ratio: float = Field(0.1, gt=0, lt=1)
    pool_open_slots_for: Duration = "10m"
    task_failures_threshold: int = Field(0, ge=0)
    task_failures_window: Duration = "1h"
    statsd_down_for: Duration = "5m"


class MonitoringSettings(_Model):
    """StatsD -> Prometheus -> Grafana.

    ``install`` releases a pinned kube-prometheus-stack into ``namespace``; ``existing`` creates only the
    ServiceMonitor, PrometheusRule and dashboard ConfigMaps for a cluster that runs the Prometheus
    Operator already (labelled with ``selectorLabels`` and ``dashboardLabels``); ``off`` creates none.
    """

    mode: Literal["install", "existing", "off"] = "off"
    statsd_prefix: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,30}$")] = "airflow"
    namespace: DnsLabel = "monitoring"
    selector_labels: LabelMap = {"release": "kube-prometheus-stack"}
    dashboard_labels: LabelMap = {"grafana_dashboard": "1"}
    alerts: AlertSettings = AlertSettings()
    prometheus: SidecarSettings = SidecarSettings(resources=_resources("200m", "1Gi", "2Gi"))
    grafana: SidecarSettings = SidecarSettings(resources=_resources("100m", "256Mi", "512Mi"))

    @model_validator(mode="after")
    def _one_dashboard_label(self) -> MonitoringSettings:
        if len(self.dashboard_labels) != 1:
            raise ValueError(
                "dashboardLabels must hold exactly one label, the one the Grafana sidecar watches "
                '(e.g. {grafana_dashboard: "1"})'
            )
        return self


class StackSettings(_Model):
    executor: Executor = "KubernetesExecutor"
    namespace: DnsLabel = "airflow"
    protect_stateful_resources: bool = True
    pod_disruption_budgets: bool = False
    helm_timeout_seconds: int = Field(900, ge=60, le=3600)
    scheduler: Workload = Workload(resources=_resources("250m", "512Mi", "1Gi"))
    api_server: Workload = Workload(resources=_resources("250m", "768Mi", "1536Mi"))
    triggerer: Workload = Workload(resources=_resources("100m", "256Mi", "512Mi"))
    dag_processor: Workload = Workload(resources=_resources("100m", "384Mi", "768Mi"))
    workers: Workload = Workload(resources=_resources("250m", "512Mi", "1Gi"))
    jobs: SidecarSettings = SidecarSettings(resources=_resources("100m", "384Mi", "768Mi"))
    log_groomer: SidecarSettings = SidecarSettings(resources=_resources("10m", "32Mi", "64Mi"))
    statsd: SidecarSettings = SidecarSettings(resources=_resources("20m", "32Mi", "128Mi"))
    redis: SidecarSettings = SidecarSettings(resources=_resources("50m", "64Mi", "256Mi"))
    database: DatabaseSettings = DatabaseSettings()
    metadata_connection: SecretStr | None = None
    admin: AdminSettings = AdminSettings()
    dags: DagSettings = DagSettings()
    tasks: TaskSettings = TaskSettings()
    fernet: FernetSettings = FernetSettings()
    remote_logs: RemoteLogSettings | None = None
    log_persistence: LogPersistenceSettings = LogPersistenceSettings()
    network_policies: bool = True
    ingress: IngressSettings = IngressSettings()
    monitoring: MonitoringSettings = MonitoringSettings()
    registry_password: SecretStr | None = None
    git_ssh_key: SecretStr | None = None

    @property
    def uses_celery(self) -> bool:
        return "CeleryExecutor" in self.executor

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
        if dags.delivery == "image" and self.registry_password is None:
            needed.append("registryPassword")
        if dags.delivery == "git-sync" and dags.git_sync and dags.git_sync.uses_ssh and not self.git_ssh_key:
            needed.append("gitSshKey")
        return needed

    @model_validator(mode="after")
    def _dag_credentials_are_complete(self, info: ValidationInfo) -> StackSettings:
        """Every credential the DAG delivery needs is set, none that it ignores is; all problems at once."""
        dags = self.dags
        # The offline render fills missing secrets with placeholders, so it asks which ones are missing.
        offline = bool(info.context and info.context.get(OFFLINE))
        problems = [
            f"airflow:dags.delivery {dags.delivery!r} needs the secret config value airflow:{key}; "
            f"set it with '{_SET_SECRET[key]}'"
            for key in ([] if offline else self.missing_secrets())
        ]
        if self.registry_password is not None and dags.delivery != "image":
            problems.append("airflow:registryPassword is only used with airflow:dags.delivery 'image'")
        git = dags.git_sync if dags.delivery == "git-sync" else None
        if self.git_ssh_key is not None and not (git and git.uses_ssh):
            problems.append(
                "airflow:gitSshKey is only used with airflow:dags.delivery 'git-sync' and an SSH repo "
                "(git@host:org/repo.git or ssh://...)"
            )
        if git and git.uses_ssh and not git.known_hosts:
            problems.append(
                "airflow:dags.gitSync.knownHosts is required for an SSH repo, so git-sync checks the host "
                "key (e.g. the output of 'ssh-keyscan github.com')"
            )
        if problems:
            raise ValueError("\n".join(problems))
        return self


def parse_settings(
    raw: dict[str, Any], *, source: str, namespace: str = "airflow", offline: bool = False
) -> StackSettings:
    """Validate raw config (keys without the ``airflow:`` prefix) or raise one ConfigError.

    ``source`` names the file the user edits (``Pulumi.prod.yaml``) so the message points there.
    ``offline`` skips only the check that required secret values are set (see ``missing_secrets``).
    """
    try:
        return StackSettings.model_validate(raw, context={OFFLINE: offline})
    except ValidationError as err:
        lines = sorted({_describe(error, source, namespace) for error in err.errors()})
        raise ConfigError("\n".join(lines)) from err


def _describe(error: Any, source: str, namespace: str) -> str:
    location = [str(part) for part in error["loc"]]
    message = error["msg"].removeprefix("Value error, ")
    if not location:
        return "\n".join(f"{source}: {line}" for line in message.splitlines())
    key = ".".join(location)
    if error["type"] == "extra_forbidden":
        known = _known_keys(location[:-1])
        hint = difflib.get_close_matches(location[-1], known, n=1)
        suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
        return (
            f"{namespace}:{key} in {source} is not a known key{suggestion} "
            f"Known keys here: {', '.join(sorted(known))}"
        )
    if error["type"] == "literal_error":
        message = f"must be one of {error['ctx']['expected']}"
    hidden = (
        location[0] in SECRET_KEYS
        or error["type"] in ("missing", "value_error")
        or isinstance(error["input"], dict)
    )
    shown = "" if hidden else f", got {error['input']!r}"
    return f"{namespace}:{key} in {source}: {message}{shown}"


def _known_keys(path: list[str]) -> list[str]:
    model: type[BaseModel] = StackSettings
    for part in path:
        field = next(f for name, f in model.model_fields.items() if part in (name, f.alias))
        model = _model_of(field.annotation)
    return [field.alias or name for name, field in model.model_fields.items()]


def _model_of(annotation: Any) -> type[BaseModel]:
    """The model inside ``Model | None``, or the model itself."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next(arg for arg in get_args(annotation) if isinstance(arg, type) and issubclass(arg, BaseModel))
