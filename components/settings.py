"""The stack's configuration as one frozen, validated model.

Every key of ``Pulumi.<stack>.yaml`` under ``airflow:`` maps to a field here; defaults live here so a
stack file lists only what differs. Unknown keys are errors, because a misspelt key that is silently
ignored is a production setting that silently does not apply.
"""

from __future__ import annotations

import difflib
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    model_validator,
)
from pydantic.alias_generators import to_camel

from components.quantity import cpu_cores, memory_bytes

__all__ = [
    "EXECUTORS",
    "AdminSettings",
    "ConfigError",
    "DatabaseSettings",
    "Resources",
    "StackSettings",
    "Workload",
    "parse_settings",
]

EXECUTORS = ("KubernetesExecutor", "CeleryExecutor", "CeleryExecutor,KubernetesExecutor")
Executor = Literal["KubernetesExecutor", "CeleryExecutor", "CeleryExecutor,KubernetesExecutor"]

# Keys whose values must never be echoed back, not even in an error message.
SECRET_KEYS = frozenset({"metadataConnection"})


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


class AdminSettings(_Model):
    username: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.@-]{1,64}$")] = "admin"
    email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] = "admin@example.com"
    first_name: Annotated[str, Field(pattern=r"^[^\s{}]{1,64}$")] = "Airflow"
    last_name: Annotated[str, Field(pattern=r"^[^\s{}]{1,64}$")] = "Admin"


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

    @property
    def uses_celery(self) -> bool:
        return "CeleryExecutor" in self.executor

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
        return self


def parse_settings(raw: dict[str, Any], *, source: str, namespace: str = "airflow") -> StackSettings:
    """Validate raw config (keys without the ``airflow:`` prefix) or raise one ConfigError.

    ``source`` names the file the user edits (``Pulumi.prod.yaml``) so the message points there.
    """
    try:
        return StackSettings.model_validate(raw)
    except ValidationError as err:
        lines = sorted({_describe(error, source, namespace) for error in err.errors()})
        raise ConfigError("\n".join(lines)) from err


def _describe(error: Any, source: str, namespace: str) -> str:
    location = [str(part) for part in error["loc"]]
    message = error["msg"].removeprefix("Value error, ")
    if not location:
        return f"{source}: {message}"
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
        model = field.annotation  # type: ignore[assignment]
    return [field.alias or name for name, field in model.model_fields.items()]
