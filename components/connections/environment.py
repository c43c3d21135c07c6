"""The Secret of everything the stack file adds to Airflow's environment: connections, variables and
``airflow:secretEnv``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
from pydantic import SecretStr

from components.connections.values import environment_data, environment_values
from components.kube_objects import kubernetes_secret

__all__ = ["AirflowEnvironment", "AirflowEnvironmentArgs"]


@dataclass(frozen=True, kw_only=True)
class AirflowEnvironmentArgs:
    namespace: pulumi.Input[str]
    secret_name: str | None  # stack.secret_names: set where the stack gives any entry
    secret_env: dict[str, SecretStr]
    connections: dict[str, SecretStr]
    variables: dict[str, Any]


class AirflowEnvironment(pulumi.ComponentResource):
    """One Secret (only where the stack gives an entry) and the chart values that read it. Every value
    is a Pulumi secret, so none reaches the state, a diff or the Helm values in plain text."""

    secrets: list[Any]
    values: dict[str, Any]

    def __init__(
        self, name: str, args: AirflowEnvironmentArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("airflow:components:AirflowEnvironment", name, None, opts)
        data = environment_data(args.secret_env, args.connections, args.variables)
        self.secrets, self.values = [], {}
        if args.secret_name is not None:
            secret = kubernetes_secret(
                f"{name}-environment",
                role="environment",
                secret_name=args.secret_name,
                namespace=args.namespace,
                data=data,
                opts=pulumi.ResourceOptions(parent=self),
            )
            version = secret.metadata.apply(
                lambda metadata: (metadata.resource_version or "") if metadata else ""
            )
            self.secrets = [secret]
            self.values = environment_values(list(data), args.secret_name, version)
        self.register_outputs({"names": sorted(data)})
