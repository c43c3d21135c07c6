"""The metadata database's connection URL in its three sources: the bundled PostgreSQL's, an existing
Secret's (read at deploy time), and the login PgBouncer takes from it. Errors end ``up`` with one line."""

from __future__ import annotations

import base64

import pulumi

from components.database.settings import Connection, parse_connection
from components.kube import RELEASE_NAME

__all__ = ["bundled_connection", "existing_connection", "pgbouncer_login"]


def existing_connection(data: dict[str, str] | None) -> str:
    """The URL in the existing Secret; a RunError ends ``up`` with the message alone, no traceback."""
    if not data or "connection" not in data:
        raise pulumi.RunError(
            "the Secret named by airflow:database.existingSecretName has no key 'connection'; "
            "PgBouncer needs it to hold postgresql://USER:PASSWORD@HOST:5432/DB"
        )
    return base64.b64decode(data["connection"]).decode()


def pgbouncer_login(url: str) -> Connection:
    """The login PgBouncer takes from an existing Secret's URL, read at deploy time: a URL it cannot use
    ends ``up`` with one line naming the key, never the value."""
    try:
        return parse_connection(url)
    except ValueError as err:
        raise pulumi.RunError(f"airflow:database.existingSecretName: {err}") from None


def bundled_connection(password: pulumi.Output[str], namespace: pulumi.Input[str]) -> pulumi.Output[str]:
    """The URL of the chart's PostgreSQL (service ``<release>-postgresql``), as a secret."""
    return pulumi.Output.secret(
        pulumi.Output.format(
            "postgresql://airflow:{0}@{1}-postgresql.{2}:5432/airflow?sslmode=disable",
            password,
            RELEASE_NAME,
            namespace,
        )
    )
