"""Airflow connections, variables and pools as code (``airflow:connections``, ``airflow:variables``,
``airflow:pools``), and the extra secret environment (``airflow:secretEnv``).

Pools live in the metadata database (the scheduler counts their slots there), so a Job applies them
after each migration (``connections/pools.py``); it removes only the pools it made.

They reach Airflow as environment variables (``AIRFLOW_CONN_<ID>``, ``AIRFLOW_VAR_<KEY>``) read from
one Kubernetes Secret, which Airflow's environment-variables secrets backend looks in before the
metadata database, in every Airflow pod and task pod. Chosen over writing them into the database
(``airflow connections import`` in a Job) because the stack file stays the only source: an entry
removed from it is gone from every pod at the next ``up``, an edit made in the UI cannot silently win,
and nothing is encrypted with the Fernet key, so a lost key loses none of them. The price: they are
not listed in the UI's connection list (a task, ``airflow connections get`` and the API's test find
them).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, SecretStr
from pydantic_core import PydanticCustomError

from components.model import ConfigModel, matching

__all__ = [
    "DEFAULT_POOL",
    "ConnectionId",
    "Connections",
    "Pool",
    "PoolName",
    "Pools",
    "VariableKey",
    "Variables",
    "connection_env",
    "variable_env",
    "variable_text",
]

ConnectionId = matching(
    r"[a-z][a-z0-9_]{0,127}", "a connection id of lowercase letters, digits and '_' (postgres_reports)"
)
VariableKey = matching(r"[a-z][a-z0-9_]{0,127}", "a variable key of lowercase letters, digits and '_'")


def connection_env(connection_id: str) -> str:
    """The variable Airflow reads connection ``connection_id`` from."""
    return f"AIRFLOW_CONN_{connection_id.upper()}"


def variable_env(key: str) -> str:
    """The variable Airflow reads variable ``key`` from."""
    return f"AIRFLOW_VAR_{key.upper()}"


def _connection_text(value: SecretStr) -> SecretStr:
    """A connection is a URI (``postgresql://user:pw@host:5432/db``) or Airflow's JSON form
    (``{"conn_type": "postgres", "host": ...}``); the value is never repeated in a message."""
    text = value.get_secret_value().strip()
    if text.startswith("{"):
        try:
            parsed = json.loads(text)
        except ValueError:
            raise ValueError("is not valid JSON (value not shown)") from None
        if not isinstance(parsed, dict) or not isinstance(parsed.get("conn_type"), str):
            raise ValueError('must be a JSON object with "conn_type" (value not shown)')
        return SecretStr(json.dumps(parsed, sort_keys=True, separators=(",", ":")))
    scheme, separator, _ = text.partition("://")
    if not separator or not scheme or not scheme.replace("-", "").replace("+", "").isalnum():
        raise ValueError('must be a URI (scheme://...) or a JSON object with "conn_type" (value not shown)')
    return SecretStr(text)


def variable_text(value: Any) -> str:
    """A variable is text; an object or a list is stored as JSON, for
    ``Variable.get(key, deserialize_json=True)``."""
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


Connections = dict[ConnectionId, Annotated[SecretStr, AfterValidator(_connection_text)]]


def _variable_value(value: Any) -> Any:
    if isinstance(value, (str, bool, int, float, dict, list)):
        return value
    raise PydanticCustomError("variable_value", "must be text, a number, a boolean, an object or a list")


Variables = dict[VariableKey, Annotated[Any, BeforeValidator(_variable_value)]]


DEFAULT_POOL = "default_pool"  # Airflow's own: its slots may be set, it is never removed
PoolName = matching(r"[A-Za-z0-9_.-]{1,256}", "a pool name of letters, digits, '_', '.' and '-'")


class Pool(ConfigModel):
    """A pool's slots (how many of its tasks run at once), what it is for, and whether deferred tasks
    count against it."""

    slots: int = Field(ge=0, le=100_000)
    description: str = Field("", max_length=200, pattern=r"^[^\x00-\x1f{}]*$")
    include_deferred: bool = False


Pools = dict[PoolName, Pool]
