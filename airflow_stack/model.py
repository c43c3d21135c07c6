"""The building blocks every concern's settings share: the base model, quantities, resources."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from airflow_stack.quantity import cpu_cores, memory_bytes

__all__ = [
    "ConfigError",
    "ConfigModel",
    "CpuQuantity",
    "DnsLabel",
    "MemoryQuantity",
    "Resources",
    "SidecarSettings",
    "Workload",
    "resources_of",
]


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


class ConfigModel(BaseModel):
    """Frozen, strict (unknown keys are errors), camelCase keys as the stack file spells them."""

    # hide_input_in_errors: the ValidationError chained to a ConfigError would otherwise repeat the
    # raw config, secret connection URL included, in any traceback or log that prints the cause.
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        hide_input_in_errors=True,
    )


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


def resources_of(cpu: str, memory: str, memory_limit: str) -> Resources:
    return Resources(cpu=cpu, memory=memory, memory_limit=memory_limit)


class Workload(ConfigModel):
    replicas: int = Field(1, ge=1, le=50)
    resources: Resources


class SidecarSettings(ConfigModel):
    resources: Resources
