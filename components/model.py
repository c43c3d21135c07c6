"""The building blocks every concern's settings share: the base model, quantities, resources."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from components.quantity import cpu_cores, memory_bytes
from components.redact import safe_to_print

__all__ = [
    "ConfigError",
    "ConfigModel",
    "CpuQuantity",
    "DnsLabel",
    "DnsName",
    "LabelKey",
    "LabelValue",
    "MemoryQuantity",
    "Placement",
    "PodSettings",
    "RelativePath",
    "Resources",
    "SidecarSettings",
    "SubPath",
    "Workload",
    "matching",
    "resources_of",
]


class ConfigError(ValueError):
    """A stack configuration the program refuses, with a message that names the key and the fix.

    The message is redacted on the way in: whatever path built it, it never carries a credential. Its
    characters that are not printable (a key's control character, a line separator other than the
    newline between problems) are shown escaped, so each problem stays one line and no terminal escape
    reaches the screen.
    """

    def __init__(self, message: str) -> None:
        super().__init__(safe_to_print(message))


def matching(pattern: str, words: str) -> Any:
    """A string type that must match ``pattern``; a mismatch says ``must be <words>``, not the regex."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise PydanticCustomError("text_pattern", "must be {words}", {"words": words})
        return value

    return Annotated[str, AfterValidator(check)]


def _dns_name(value: str) -> str:
    """RFC 1123: what Kubernetes takes for a host name (Ingress ``host``) or a DNS subdomain."""
    if len(value) > 253 or not all(_DNS_LABEL.fullmatch(label) for label in value.split(".")):
        raise PydanticCustomError(
            "dns_name",
            "must be a DNS name of at most 253 characters: dot-separated labels of 1 to 63 lowercase "
            "letters, digits and '-', each starting and ending with a letter or digit",
        )
    return value


def _relative_path(value: str) -> str:
    parts = value.split("/")
    if not all(_PATH_PART.fullmatch(part) and part not in (".", "..") for part in parts):
        raise PydanticCustomError(
            "relative_path",
            "must be a relative path inside the repository: names of letters, digits, '.', '_' and '-' "
            "joined by '/', without '.', '..' or a leading '/'",
        )
    return value


def _label_key(value: str) -> str:
    prefix, _, name = value.rpartition("/")
    if (prefix and not _is_dns_name(prefix)) or not _LABEL_NAME.fullmatch(name):
        raise PydanticCustomError(
            "label_key",
            "must be a Kubernetes label key: an optional DNS-name prefix and '/', then 1 to 63 letters, "
            "digits, '-', '_' or '.', starting and ending with a letter or digit",
        )
    return value


def _is_dns_name(value: str) -> bool:
    return len(value) <= 253 and all(_DNS_LABEL.fullmatch(label) for label in value.split("."))


_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_PATH_PART = re.compile(r"[A-Za-z0-9._-]+")
_LABEL_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?")


def _cpu(value: str) -> str:
    cpu_cores(value)
    return value


def _memory(value: str) -> str:
    memory_bytes(value)
    return value


def _number_as_text(value: object) -> object:
    """``cpu: 1`` or ``cpu: 0.5`` inside an object reaches the program as a JSON number, as Kubernetes
    takes it in a manifest; a quantity is text from here on."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return format(value, "g") if isinstance(value, float) else str(value)
    return value


CpuQuantity = Annotated[str, BeforeValidator(_number_as_text), AfterValidator(_cpu)]
MemoryQuantity = Annotated[str, BeforeValidator(_number_as_text), AfterValidator(_memory)]
DnsLabel = matching(
    _DNS_LABEL.pattern,
    "a DNS label: 1 to 63 lowercase letters, digits and '-', starting and ending with a letter or digit",
)
DnsName = Annotated[str, AfterValidator(_dns_name)]
RelativePath = Annotated[str, AfterValidator(_relative_path)]
# A folder inside a repository, where "" is the repository's root.
SubPath = Annotated[str, AfterValidator(lambda value: value and _relative_path(value))]
LabelKey = Annotated[str, AfterValidator(_label_key)]
LabelValue = matching(
    r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?",
    "a Kubernetes label value: at most 63 letters, digits, '-', '_' or '.', starting and ending with a "
    "letter or digit",
)


class ConfigModel(BaseModel):
    """Frozen, strict (unknown keys are errors), camelCase keys as the stack file spells them."""

    # hide_input_in_errors: the ValidationError chained to a ConfigError would otherwise repeat the
    # raw config, secret connection URL included, in any traceback or log that prints the cause.
    # allow_inf_nan: no threshold, size or ratio is infinite; YAML's .inf would otherwise pass as one.
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        allow_inf_nan=False,
        alias_generator=to_camel,
        populate_by_name=True,
        hide_input_in_errors=True,
    )

    @field_validator("*", mode="before")
    @classmethod
    def _no_boolean_for_a_number(cls, value: Any, info: ValidationInfo) -> Any:
        """A number field refuses a boolean: pydantic would take ``true`` for 1 (``replicas: true``
        would mean one replica)."""
        if isinstance(value, bool) and info.field_name is not None:
            annotation = cls.model_fields[info.field_name].annotation
            if annotation is int or int in get_args(annotation):
                raise ValueError(f"must be a whole number, not the boolean {str(value).lower()}")
        return value


class Resources(ConfigModel):
    """Requests for scheduling, and a memory limit so one leaking pod cannot starve its node.

    A CPU limit is optional: throttled schedulers miss heartbeats, so by default none is set.
    """

    cpu: CpuQuantity
    memory: MemoryQuantity
    memory_limit: MemoryQuantity
    cpu_limit: CpuQuantity | None = None

    @model_validator(mode="after")
    def _limits_cover_requests(self) -> Resources:
        if memory_bytes(self.memory_limit) == 0:
            raise ValueError(
                "memoryLimit must be above 0: the limit is what keeps one container from taking the node's "
                "memory (e.g. memoryLimit: 512Mi)"
            )
        if memory_bytes(self.memory_limit) < memory_bytes(self.memory):
            raise ValueError(f"memoryLimit {self.memory_limit} is below the memory request {self.memory}")
        if self.cpu_limit is not None and cpu_cores(self.cpu_limit) < cpu_cores(self.cpu):
            raise ValueError(f"cpuLimit {self.cpu_limit} is below the cpu request {self.cpu}")
        return self

    def to_kubernetes(self) -> dict[str, dict[str, str]]:
        """The container ``resources`` the chart takes: requests always, a memory limit always, a CPU limit
        only where set (a CPU limit throttles; a memory limit keeps one pod from starving the node)."""
        limits = {"memory": self.memory_limit}
        if self.cpu_limit is not None:
            limits["cpu"] = self.cpu_limit
        return {"requests": {"cpu": self.cpu, "memory": self.memory}, "limits": limits}


def resources_of(cpu: str, memory: str, memory_limit: str) -> Resources:
    """A default for a model field: requests and memory limit, in Kubernetes quantities."""
    return Resources(cpu=cpu, memory=memory, memory_limit=memory_limit)


class Toleration(ConfigModel):
    """A Kubernetes toleration, as a pod spec writes it."""

    key: LabelKey | None = None
    operator: Literal["Exists", "Equal"] = "Equal"
    value: LabelValue | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = None
    toleration_seconds: int | None = Field(None, ge=0)


class TopologySpread(ConfigModel):
    """A topology spread constraint; the pods it counts are the component's own unless a
    ``labelSelector`` says otherwise."""

    max_skew: int = Field(ge=1)
    topology_key: LabelKey
    when_unsatisfiable: Literal["DoNotSchedule", "ScheduleAnyway"]
    label_selector: dict[str, Any] | None = None
    min_domains: int | None = Field(None, ge=1)


class Placement(ConfigModel):
    """Where a component's pods may run. ``affinity`` is passed as written (the real chart's schema and
    Kubernetes judge it); the rest is checked here."""

    node_selector: dict[LabelKey, LabelValue] = {}
    tolerations: tuple[Toleration, ...] = ()
    affinity: dict[Literal["nodeAffinity", "podAffinity", "podAntiAffinity"], dict[str, Any]] = {}
    topology_spread_constraints: tuple[TopologySpread, ...] = ()
    priority_class_name: DnsName | None = None

    @model_validator(mode="after")
    def _no_template_syntax(self) -> Placement:
        """The bundled PostgreSQL's chart passes placement through Helm's tpl: ``{{`` would run."""
        if "{{" in repr(self.affinity) + repr([c.label_selector for c in self.topology_spread_constraints]):
            raise ValueError("affinity and labelSelector may not hold '{{', which Helm's tpl would run")
        return self

    def to_values(self) -> dict[str, Any]:
        """The chart's keys of one component (each set only where given, so the chart's own stays)."""
        values: dict[str, Any] = {}
        if self.node_selector:
            values["nodeSelector"] = dict(self.node_selector)
        if self.tolerations:
            values["tolerations"] = [t.model_dump(by_alias=True, exclude_none=True) for t in self.tolerations]
        if self.affinity:
            values["affinity"] = dict(self.affinity)
        if self.topology_spread_constraints:
            values["topologySpreadConstraints"] = [
                c.model_dump(by_alias=True, exclude_none=True) for c in self.topology_spread_constraints
            ]
        if self.priority_class_name is not None:
            values["priorityClassName"] = self.priority_class_name
        return values


class Workload(ConfigModel):
    """A long-running Airflow component: how many replicas, what each requests, where they run."""

    replicas: int = Field(1, ge=1, le=50)
    resources: Resources
    placement: Placement = Placement()


class SidecarSettings(ConfigModel):
    """A container beside a component, or a Job, that only needs its resources set."""

    resources: Resources


class PodSettings(SidecarSettings):
    """Pods that are not a long-running Airflow component (the chart's Jobs, statsd-exporter): what
    each requests and where it runs."""

    placement: Placement = Placement()
