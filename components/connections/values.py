"""What the stack's Airflow environment Secret holds, and how every Airflow pod reads it."""

from __future__ import annotations

from typing import Any

import pulumi
from pydantic import SecretStr

from components.connections.settings import connection_env, variable_env, variable_text

__all__ = ["ENVIRONMENT_VERSION_ANNOTATION", "environment_data", "environment_values"]

# On every Airflow pod: the environment Secret's resourceVersion. A pod reads its environment once, at
# start, so a changed connection, variable or secret variable restarts every pod that holds the old one.
ENVIRONMENT_VERSION_ANNOTATION = "airflow-on-kubernetes/environment-version"


def environment_data(
    secret_env: dict[str, SecretStr], connections: dict[str, SecretStr], variables: dict[str, Any]
) -> dict[str, str]:
    """Each variable's name -> its value: ``airflow:secretEnv`` as given, ``AIRFLOW_CONN_<ID>`` and
    ``AIRFLOW_VAR_<KEY>`` (an object or list as JSON)."""
    data = {name: value.get_secret_value() for name, value in secret_env.items()}
    data |= {connection_env(cid): value.get_secret_value() for cid, value in connections.items()}
    data |= {variable_env(key): variable_text(value) for key, value in variables.items()}
    return dict(sorted(data.items()))


def environment_values(names: list[str], secret_name: str, version: pulumi.Input[str]) -> dict[str, Any]:
    """The chart's ``secret`` entries (each variable from its key of ``secret_name``) and the pods'
    annotation that restarts them when the Secret changes."""
    return {
        "secret": [{"envName": name, "secretName": secret_name, "secretKey": name} for name in sorted(names)],
        "airflowPodAnnotations": {ENVIRONMENT_VERSION_ANNOTATION: version},
    }
